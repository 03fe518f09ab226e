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
    fresh: Annotated[bool, typer.Option(
        "--fresh", help="Boot and provision the machines even where a saved lab of them could be restored "
                        "(VMs: the first up of a lab saves it, later ones restore it in seconds).")] = False,
) -> None:
    """Render the lab, start its machines, provision them, and show where the VIP is."""
    from labgen import protocols
    from labgen.lab import check_lab_name
    from labgen.locks import lab_lock
    from labgen.model.load import load_blueprint

    sets = with_box(set_, box)
    bp, _ = load_blueprint(blueprint, sets)
    lab_name = check_lab_name(name or bp.name)
    boxes = {node.box or bp.box for node in bp.nodes}
    secret_set = f"{bp.service}.{protocols.of(bp).secret_field}"
    # a secret the user set is theirs: such a lab is never given a saved lab's
    restorable = not fresh and not any(s.split("=", 1)[0] == secret_set for s in sets)
    with lab_lock(lab_name, "up"):
        _up(blueprint, bp.name, lab_name, provider, sets, boxes, len(bp.nodes), restorable)


def _up(
    blueprint: str, bp_name: str, lab_name: str, provider_name: str, sets: list[str], boxes: set[str],
    nodes: int, restorable: bool,
) -> None:
    from labgen.lab import is_lab_dir
    from labgen.labs import find_lab, lab_dir, provider_for
    from labgen.progress import Progress
    from labgen.providers import provider_class
    from labgen.render import render_lab

    folder = lab_dir(lab_name)
    lab = find_lab(lab_name) if is_lab_dir(folder) else None
    if lab is not None and not _to_finish(lab, bp_name, provider_name, sets):
        return
    if lab is None:
        _check_host(provider_class(provider_name), boxes, nodes)
    provider_class(provider_name).prepare_host()
    progress = Progress(console=console)
    if lab is None:
        with progress.step(f"render {bp_name} as lab {lab_name}"):
            lab = render_lab(blueprint, folder, name=lab_name, provider=provider_name, sets=sets, force=False)
            # restored from a saved lab of the same machines, the lab has its secret (saved.py)
            secret = provider_for(lab).restorable_secret() if restorable else None
            if secret and secret != lab.spec.secret:
                lab = render_lab(blueprint, folder, name=lab_name, provider=provider_name, sets=sets,
                                 force=True, secret=secret)
        for skip in lab.spec.skipped:
            console.print(f"[yellow]skipped on this host:[/] {skip.what}: {skip.reason}")
    _bring_up(lab, progress, fresh=not restorable)


def _bring_up(lab, progress, fresh: bool = False) -> None:
    """Machines up and provisioned, then the first election; the lab is recorded up only after
    both, so an up cut short anywhere is finished by the next (providers' up may run again)."""
    from labgen.labs import provider_for
    from labgen.observe import wait_settled

    lab.record_up_state("starting")
    try:
        provider = provider_for(lab)
        provider.up(progress, fresh=fresh)
        ready = progress.elapsed()
        with progress.step(f"{lab.spec.daemon} elects {lab.spec.preferred.name} to hold the VIP"):
            # settled, not only elected: the director's LVS pool full, the daemons steady
            wait_settled(provider, on=lab.spec.preferred.name, hold=0)
    except BaseException:
        errors.print(
            f"[red]up did not finish[/]; logs in {lab.logs_dir}; the same `labgen up` again finishes it, "
            f"`labgen down {lab.name}` removes it"
        )
        raise
    timing = _record_timing(lab, progress, ready, provider.restored_from())
    lab.record_up_state("up")
    from labgen.cli.status import print_lab

    print_lab(lab)
    _print_timing(lab, timing)
    console.print(f"Next: labgen verify {lab.name}")


def _record_timing(lab, progress, ready: float, restored_from: str | None) -> dict:
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
        "restored_from": restored_from,
        "steps": progress.steps,
    }
    lab.up_record.write_text(json.dumps(timing, indent=2) + "\n")
    return timing


def _print_timing(lab, timing: dict) -> None:
    if timing.get("restored_from"):
        console.print(
            f"up in {timing['total_s']:.1f} s: machines restored from saved lab "
            f"{timing['restored_from'][:12]} in {timing['ready_s']:.1f} s, {lab.spec.preferred.name} "
            "holding the VIP as saved (no election)",
            highlight=False,
        )
        return
    console.print(
        f"up in {timing['total_s']:.1f} s: machines ready in {timing['ready_s']:.1f} s, then "
        f"{lab.spec.daemon} elected {lab.spec.preferred.name} in {timing['election_s']:.1f} s "
        f"(protocol: {timing['election_expected_s']:.2f} s, {timing['election_rule']})",
        highlight=False,
    )


def _to_finish(lab, bp_name: str, provider_name: str, sets: list[str]) -> bool:
    """Whether an existing lab is to be brought up: yes when its last up did not finish (it is
    finished as it was rendered), no when it is up already; refused when it is another lab than
    the one asked for, or up with a node gone."""
    from labgen.errors import LabgenError
    from labgen.labs import provider_for

    name = lab.name
    if lab.up_state != "up":
        if (lab.spec.blueprint, lab.spec.provider) != (bp_name, provider_name):
            raise LabgenError(
                f"lab {name} is a {lab.spec.blueprint} lab on {lab.spec.provider} whose up did not finish: "
                f"`labgen up {lab.spec.blueprint} --name {name} --provider {lab.spec.provider}` finishes "
                f"it, `labgen down {name}` removes it"
            )
        kept = " (its settings as rendered then: --set applies to a new lab)" if sets else ""
        console.print(f"lab {name}: its last up did not finish; finishing it{kept}", highlight=False)
        return True
    states = provider_for(lab).status()
    if all(state == "running" for state in states.values()):
        console.print(f"lab {name} is already up ({lab.spec.provider}); nothing changed")
        return False
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
