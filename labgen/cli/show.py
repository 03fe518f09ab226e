"""labgen show: what a blueprint builds, and where it departs from its tutorial."""

from __future__ import annotations

from labgen.cli.options import Blueprint, Box, Json, Sets, with_box
from labgen.cli.output import console, print_json, print_table, settings


def show(blueprint: Blueprint, set_: Sets = None, as_json: Json = False, box: Box = None) -> None:
    """Nodes, networks, addresses, VIP, service settings, departures from the tutorial, and what
    each release gives the lab (daemon versions, departures on that release only)."""
    from labgen.model.load import load_blueprint
    from labgen.providers import PROVIDERS, provider_class
    from labgen.render.resolve import skips

    bp, _ = load_blueprint(blueprint, with_box(set_, box))
    skipped = {p: [s.model_dump() for s in skips(bp, provider_class(p).features())] for p in PROVIDERS}
    if as_json:
        extra = {"skipped_by_provider": skipped, "releases": releases_for(bp)}
        print_json({**bp.model_dump(mode="json"), **extra})
        return
    _print_human(bp, skipped)


def releases_for(bp) -> list[dict]:
    """Per release: the versions of the lab's packages (as installed in a built box, else the
    release's major.minor) and the departures on that release only."""
    from labgen.boxes import rootfs
    from labgen.boxes.releases import releases

    wanted = [pkg for pkg in releases()[bp.box].daemons if pkg in bp.packages or pkg == "systemd"]
    rows = []
    for rel in releases().values():
        installed = rootfs.manifest(rel.name).get("versions", {}) if rootfs.is_current(rel.name) else {}
        rows.append({
            "box": rel.name,
            "release": f"{rel.distro} {rel.version} ({rel.suite})",
            "this_lab": rel.name == bp.box,
            "built": bool(installed),
            "versions": {pkg: installed.get(pkg, rel.daemons[pkg]) for pkg in wanted},
            "kernel": rel.kernel,
            "departures": [d.model_dump() for d in rel.departures_for(bp.packages)],
        })
    return rows


def _print_human(bp, skips: dict[str, list[dict]]) -> None:
    from rich.table import Table

    from labgen import protocols

    console.print(f"[bold]{bp.name}[/]: {bp.title}")
    console.print(f'tutorial: {bp.source.publisher}, "{bp.source.title}"  box: {bp.box}')
    _print_release(bp)
    nodes = Table("node", "hostname", "role", *bp.networks, box=None)
    for node in bp.nodes:
        nodes.add_row(
            node.name, node.hostname or node.name, node.role, *(str(node.addresses[n]) for n in bp.networks)
        )
    print_table(nodes)
    for name, net in bp.networks.items():
        console.print(f"network {name}: {net.cidr} on {net.interface}  {net.purpose}")
    console.print(f"VIP {bp.vip} on {bp.vip_network}; client seat {', '.join(map(str, bp.client))}")
    params = bp.protocol_params.model_dump(exclude={protocols.of(bp).secret_field})
    console.print(f"[bold]{bp.service} settings[/] (--set KEY=VALUE changes one)")
    for line in settings(params, f"{bp.service}."):
        console.print(f"  {line}", highlight=False)
    for provider, items in skips.items():
        for skip in items:
            console.print(f"[yellow]skipped with {provider} here:[/] {skip['what']}: {skip['reason']}")
    console.print("[bold]departures from the tutorial[/]")
    for d in bp.departures:
        console.print(f" • {d.what}\n   [dim]why: {d.why}[/]", highlight=False)
    if bp.claims:
        console.print("[bold]the tutorial's claims and their tests[/] (labgen verify LAB --claim ID)")
    for c in bp.claims:
        note = f"\n   [dim]note: {c.note}[/]" if c.note else ""
        console.print(f" • {c.id}: \"{c.quote}\"\n   [dim]{', '.join(c.tests)}[/]{note}", highlight=False)


def _print_release(bp) -> None:
    """The box's release: its daemon versions and its own departures."""
    this = next(row for row in releases_for(bp) if row["this_lab"])
    versions = ", ".join(f"{pkg} {version}" for pkg, version in this["versions"].items())
    console.print(f"{this['release']}: {versions}", highlight=False)
    for d in this["departures"]:
        console.print(f" • {d['what']}\n   [dim]why: {d['why']}[/]", highlight=False)
