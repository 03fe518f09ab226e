"""labgen graph: the lab's topology as a picture (svg, png) or as Graphviz source (dot)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from labgen.cli.options import Sets


def graph(
    target: Annotated[str, typer.Argument(help="A blueprint (name or path), a lab name or a lab directory.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="The file to write (default: stdout).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="svg, png or dot.")] = "svg",
    set_: Sets = None,
) -> None:
    """Draw the topology: nodes, NICs, networks and addresses, the VIP (and who holds it now, for a
    running lab), the client seat."""
    from labgen import graph as drawing
    from labgen.errors import LabgenError

    spec, holders = _spec_and_holders(target, set_ or [])
    data = drawing.draw(spec, fmt, holders)
    if output is None:
        if fmt == "png" and sys.stdout.isatty():
            raise LabgenError("--format png to a terminal: give -o FILE")
        sys.stdout.buffer.write(data)
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise LabgenError(f"cannot write {output}: {exc.strerror or exc}") from None


def _spec_and_holders(target: str, sets: list[str]):
    """A lab (by name or directory) with its VIP holders when running; else a blueprint, resolved."""
    from labgen.lab import Lab
    from labgen.labs import all_labs

    path = Path(target)
    lab = Lab(path) if (path / "lab.json").is_file() else None
    lab = lab or next((known for known in all_labs() if known.name == target), None)
    if lab is not None:
        return lab.spec, _holders(lab)
    from labgen.model.load import load_blueprint
    from labgen.providers import provider_class
    from labgen.render.resolve import resolve

    bp, _ = load_blueprint(target, sets)
    return resolve(bp, bp.name, "libvirt", provider_class("libvirt").features()), None


def _holders(lab) -> list[str] | None:
    """Who has the VIP now, or None when the lab's machines are not all running."""
    from labgen.labs import provider_for
    from labgen.observe import vip_holders

    if not lab.ssh_config.exists():
        return None
    provider = provider_for(lab)
    if set(provider.status().values()) != {"running"}:
        return None
    return vip_holders(provider)
