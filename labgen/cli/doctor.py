"""labgen doctor: what this host lacks for each provider, and the command that fixes it."""

from __future__ import annotations

from labgen.cli.options import Json
from labgen.cli.output import console, print_json, words


def doctor(as_json: Json = False) -> None:
    """List what each provider needs and this host lacks; exit 1 if no provider can run."""
    import os

    import typer

    from labgen import cgroups, paths
    from labgen.classroom import history, limits, seat
    from labgen.providers import PROVIDERS, provider_class

    report, blueprints = {}, _blueprints()
    nodes = {name: len(bp.nodes) for name, bp in blueprints.items()}
    # a class is root's: as another user the question does not arise (None)
    lifted = seat.can_lift_seat_limits() if os.geteuid() == 0 else None
    node_limits = {
        "enforced": cgroups.supported(),
        "seat_limit_lifted_in_nodes": lifted,
        "per_blueprint": {name: bp.resources.model_dump() for name, bp in blueprints.items()},
    }
    for name in PROVIDERS:
        cls = provider_class(name)
        report[name] = {
            "missing": [{"piece": piece, "fix": fix} for piece, fix in cls.missing()],
            "features": cls.features(),
            "classroom": limits.capacity(nodes, name, paths.home()),
            "node_limits": node_limits,
            "classes_measured": [seen for seen in history.latest() if seen["provider"] == name],
        }
    if as_json:
        print_json(report)
    else:
        for name, entry in report.items():
            ready = "[green]ready[/]" if not entry["missing"] else "[yellow]not ready[/]"
            console.print(
                f"[bold]{name}[/]: {ready}  features: {_features(entry['features'])}", highlight=False
            )
            for item in entry["missing"]:
                console.print(f"  missing {item['piece']}: [bold]{item['fix']}[/]", highlight=False)
        for name, entry in report.items():
            room = entry["classroom"]
            seats = ", ".join(f"{bp} {n}" for bp, n in room["seats"].items())
            console.print(
                f"[bold]class on {name}[/]: seats that fit: {seats} ({room['memory_available_mb']} "
                f"MB available, {room['disk_free_mb']} MB free)",
                highlight=False,
            )
            for seen in entry["classes_measured"]:
                console.print(f"  measured here: {seen['seats']} {seen['blueprint']} seats, "
                              f"{seen['parallel']} at a time, up in {seen['seconds']:.0f} s "
                              "(class up --dry-run scales it)",
                              highlight=False)
        kernel = report["nspawn"]["classroom"]["limits"]
        console.print(
            f"kernel limits now: {', '.join(f'{key} {value}' for key, value in kernel.items())} "
            "(class up raises them as needed)",
            highlight=False,
        )
        _print_node_limits(node_limits)
    if all(entry["missing"] for entry in report.values()):
        raise typer.Exit(1)


def _features(features: dict[str, bool]) -> str:
    """`ip_vs yes, kvm no`."""
    return ", ".join(f"{name} {words(value)}" for name, value in features.items()) or "none"


def _blueprints() -> dict:
    """Each shipped blueprint, loaded once for every provider's seat count and bounds."""
    from labgen import paths
    from labgen.model.load import load_blueprint

    return {name: load_blueprint(name, [])[0] for name in paths.blueprint_names()}


def _print_node_limits(node_limits: dict) -> None:
    """What bounds each node here, and what this host cannot bound (a limit is never dropped silently)."""
    from labgen.classroom import accounts, limits

    enforced = [name for name, ok in node_limits["enforced"].items() if ok]
    missing = [name for name, ok in node_limits["enforced"].items() if not ok]
    console.print(
        f"node limits this host enforces: {', '.join(enforced) or 'none'}"
        + (f"; not: {', '.join(missing)}" if missing else ""),
        highlight=False,
    )
    for name, resources in node_limits["per_blueprint"].items():
        console.print(f"  {name}: {limits.describe_node(resources)}", highlight=False)
    if node_limits["seat_limit_lifted_in_nodes"] is False:
        console.print(
            f"  a seat's commands in its nodes keep the seat's {accounts.NPROC}-process limit "
            "(root here lacks CAP_SYS_RESOURCE to lift it): node root's processes, its daemons "
            "counted, stop there",
            highlight=False,
        )
