"""labgen box: the offline boxes (vagrant-libvirt) and container roots labs boot from."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labgen.cli.options import Json
from labgen.cli.output import console, print_json

app = typer.Typer(help="Build and list offline boxes and container roots.", no_args_is_help=True)

Kind = Annotated[
    str, typer.Option("--for", help="nspawn (container root only), libvirt (root + vagrant box) or all.")
]


@app.command("build")
def build(
    name: Annotated[str, typer.Argument(help="The box to build.")] = "debian-12",
    kind: Kind = "all",
    force: Annotated[bool, typer.Option(help="Rebuild even if the cached one is current.")] = False,
) -> None:
    """Build a box from the Debian registry alone; cached, rebuilt when its recipe changes."""
    from labgen.boxes import rootfs
    from labgen.errors import LabgenError
    from labgen.progress import Progress

    if kind not in ("nspawn", "libvirt", "all"):
        raise LabgenError(f"--for {kind}: use nspawn, libvirt or all")
    if name != rootfs.DEFAULT:
        raise LabgenError(f"unknown box {name!r}; labgen builds: {rootfs.DEFAULT}")
    progress = Progress(console=console)
    root = rootfs.build(name, progress, force=force)
    console.print(f"container root {name}: {root}")
    if kind in ("libvirt", "all"):
        from labgen.providers.libvirt import vagrant_box

        console.print(f"vagrant box: {vagrant_box.build(name, progress, force=force)}")


@app.command("export")
def export(
    output: Annotated[Path, typer.Option("--output", "-o", help="The .box file to write.")],
    name: Annotated[str, typer.Argument(help="The box to export.")] = "debian-12",
) -> None:
    """Write the offline vagrant box to a .box file, for `vagrant box add` on another computer."""
    from labgen.providers.libvirt import vagrant_box

    path = vagrant_box.export(name, output)
    console.print(f"box {vagrant_box.box_name(name)} written to {path}")
    console.print(f"on the other computer: vagrant box add --name {vagrant_box.box_name(name)} {path.name}")


@app.command("list")
def list_boxes(as_json: Json = False) -> None:
    """The boxes and roots on this host, and whether each matches its recipe."""
    from labgen.boxes import rootfs
    from labgen.providers.libvirt import vagrant_box

    rows = [
        {
            "name": rootfs.DEFAULT,
            "kind": "nspawn root",
            "path": str(rootfs.root_path()),
            "built": rootfs.root_path().is_dir(),
            "current": rootfs.is_current(),
        },
    ]
    rows.append(vagrant_box.describe(rootfs.DEFAULT))
    if as_json:
        print_json(rows)
        return
    for row in rows:
        state = "current" if row["current"] else ("outdated" if row["built"] else "not built")
        console.print(
            f"{row['name']:<12} {row['kind']:<14} {state:<10} {row['path']}", highlight=False, soft_wrap=True
        )
