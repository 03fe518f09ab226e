"""Options shared by several commands, declared once."""

from __future__ import annotations

from typing import Annotated

import typer

from labgen import paths
from labgen.errors import LabgenError


def _blueprint_names(incomplete: str) -> list[str]:
    """Shell completion: the shipped blueprints."""
    return [name for name in paths.blueprint_names() if name.startswith(incomplete)]


def _lab_names(incomplete: str) -> list[str]:
    """Shell completion: the labs on this host (their folders, not parsed: completion must be quick)."""
    folder = paths.labs_dir()
    found = folder.glob("*/lab.json") if folder.is_dir() else []
    return sorted(p.parent.name for p in found if p.parent.name.startswith(incomplete))


Json = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
Sets = Annotated[
    list[str] | None,
    typer.Option(
        "--set", metavar="KEY=VALUE", help="Override a blueprint value, e.g. keepalived.advert_int=2."
    ),
]
Provider = Annotated[
    str,
    typer.Option(
        "--provider",
        "-p",
        envvar="LABGEN_PROVIDER",
        help="libvirt (VMs, the real thing) or nspawn (containers).",
    ),
]
LabName = Annotated[
    str,
    typer.Argument(help="The lab's name (defaults to its blueprint's at `up`).", autocompletion=_lab_names),
]
LabNameOrAll = Annotated[
    str | None, typer.Argument(help="One lab; all labs when omitted.", autocompletion=_lab_names)
]
Blueprint = Annotated[
    str,
    typer.Argument(help="A blueprint name (see `labgen list`) or a path.", autocompletion=_blueprint_names),
]
Box = Annotated[
    str | None,
    typer.Option(
        "--box",
        envvar="LABGEN_BOX",
        help="The release every node boots from (see `labgen box list`); default: the blueprint's.",
    ),
]


def with_box(sets: list[str] | None, box: str | None) -> list[str]:
    """--box is a --set of the blueprint's box (checked here first, to name --box in the error)."""
    if box:
        from labgen.boxes.releases import unknown

        if problem := unknown(box):
            raise LabgenError(f"--box: {problem}")
    return [*(sets or []), *([f"box={box}"] if box else [])]
