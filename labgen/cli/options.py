"""Options shared by several commands, declared once."""

from __future__ import annotations

from typing import Annotated

import typer

from labgen.errors import LabgenError

Json = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
Sets = Annotated[
    list[str] | None,
    typer.Option(
        "--set", metavar="KEY=VALUE", help="Override a blueprint value, e.g. keepalived.advert_int=2."
    ),
]
Provider = Annotated[
    str, typer.Option("--provider", "-p", help="libvirt (VMs, the real thing) or nspawn (containers).")
]
LabName = Annotated[str, typer.Argument(help="The lab's name (defaults to its blueprint's at `up`).")]
Blueprint = Annotated[str, typer.Argument(help="A blueprint name (see `labgen list`) or a path.")]
Box = Annotated[
    str | None,
    typer.Option(
        "--box", help="The release every node boots from (see `labgen box list`); default: the blueprint's."
    ),
]


def with_box(sets: list[str] | None, box: str | None) -> list[str]:
    """--box is a --set of the blueprint's box (checked here first, to name --box in the error)."""
    if box:
        from labgen.boxes.releases import unknown

        if problem := unknown(box):
            raise LabgenError(f"--box: {problem}")
    return [*(sets or []), *([f"box={box}"] if box else [])]
