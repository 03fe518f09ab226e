"""labgen up: render a lab and bring it up on a provider."""

from __future__ import annotations

from typing import Annotated

import typer

from labgen.cli.options import Blueprint, Box, Provider, Sets, with_box
from labgen.cli.output import console, errors


def up(
    blueprint: Blueprint,
    name: Annotated[str | None, typer.Option(help="The lab's name; defaults to the blueprint's.")] = None,
    provider: Provider = "libvirt",
    set_: Sets = None,
    box: Box = None,
) -> None:
    """Render the lab, start its machines, provision them, and show where the VIP is."""
    from labgen.labs import check_lab_name
    from labgen.locks import lab_lock
    from labgen.model.load import load_blueprint

    sets = with_box(set_, box)
    bp, _ = load_blueprint(blueprint, sets)
    lab_name = check_lab_name(name or bp.name)
    boxes = {node.box or bp.box for node in bp.nodes}
    with lab_lock(lab_name, "up"):
        _up(blueprint, bp.name, lab_name, provider, sets, boxes, len(bp.nodes))


def _up(
    blueprint: str, bp_name: str, lab_name: str, provider_name: str, sets: list[str], boxes: set[str],
    nodes: int,
) -> None:
    from labgen.lab import is_lab_dir
    from labgen.labs import lab_dir, provider_for
    from labgen.observe import settle_time, wait_vip_on
    from labgen.progress import Progress
    from labgen.providers import provider_class
    from labgen.render import render_lab

    folder = lab_dir(lab_name)
    if is_lab_dir(folder):
        _already_there(lab_name)
        return
    _check_host(provider_class(provider_name), boxes, nodes)
    provider_class(provider_name).prepare_host()
    progress = Progress(console=console)
    with progress.step(f"render {bp_name} as lab {lab_name}"):
        lab = render_lab(blueprint, folder, name=lab_name, provider=provider_name, sets=sets, force=False)
    for skip in lab.spec.skipped:
        console.print(f"[yellow]skipped on this host:[/] {skip.what}: {skip.reason}")
    try:
        provider = provider_for(lab)
        provider.up(progress)
        ready = progress.elapsed()
        with progress.step(f"{lab.spec.daemon} elects {lab.spec.preferred.name} to hold the VIP"):
            wait_vip_on(provider, [lab.spec.preferred.name], timeout=settle_time(lab.spec))
    except BaseException:
        errors.print(
            f"[red]up did not finish[/]; logs in {lab.logs_dir}; `labgen down {lab_name}` removes it"
        )
        raise
    from labgen.cli.status import print_lab

    print_lab(lab)
    _report_timing(lab, progress, ready)
    console.print(f"Next: labgen verify {lab_name}")


def _report_timing(lab, progress, ready: float) -> None:
    """Where up's time went, split into what the provider spent (ready: machines booted and
    provisioned) and the protocol's own first election; kept in lab.up_record."""
    import json

    from labgen import protocols

    total = progress.elapsed()
    expected_ms, rule = protocols.of(lab.spec).expected_election(lab.spec.params)
    timing = {
        "ready_s": round(ready, 2),
        "election_s": round(total - ready, 2),
        "election_expected_s": expected_ms / 1000,
        "election_rule": rule,
        "total_s": round(total, 2),
        "steps": progress.steps,
    }
    lab.up_record.write_text(json.dumps(timing, indent=2) + "\n")
    console.print(
        f"up in {total:.1f} s: machines ready in {ready:.1f} s, then {lab.spec.daemon} elected "
        f"{lab.spec.preferred.name} in {total - ready:.1f} s (protocol: {expected_ms / 1000:.2f} s, {rule})",
        highlight=False,
    )


def _already_there(name: str) -> None:
    from labgen.errors import LabgenError
    from labgen.labs import find_lab, provider_for

    lab = find_lab(name)
    states = provider_for(lab).status()
    if all(state == "running" for state in states.values()):
        console.print(f"lab {name} is already up ({lab.spec.provider}); nothing changed")
        return
    raise LabgenError(
        f"lab {name} exists but is not fully up ({states}); run `labgen down {name}` and up again"
    )


def _check_host(provider_cls, boxes: set[str], nodes: int) -> None:
    from labgen import paths
    from labgen.classroom import limits
    from labgen.errors import LabgenError

    missing = provider_cls.missing(boxes)
    if missing:
        piece, command = missing[0]
        more = f" ({len(missing) - 1} more: see `labgen doctor`)" if len(missing) > 1 else ""
        raise LabgenError(f"this host lacks {piece} for {provider_cls.name}; run: {command}{more}")
    limits.check_lab(nodes, provider_cls.name, paths.home())
