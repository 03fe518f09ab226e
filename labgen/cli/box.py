"""labgen box: the offline boxes (vagrant-libvirt) and container roots labs boot from."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labgen.cli.options import Json
from labgen.cli.output import console, print_json, print_table
from labgen.errors import LabgenError

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
    from labgen.boxes.releases import release
    from labgen.errors import LabgenError
    from labgen.progress import Progress

    if kind not in ("nspawn", "libvirt", "all"):
        raise LabgenError(f"--for {kind}: use nspawn, libvirt or all")
    release(name)
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
    plain: Annotated[
        bool, typer.Option("--no-compress", help="A plain tar: three times larger, written faster.")
    ] = False,
) -> None:
    """Write the offline vagrant box to a .box file, for `vagrant box add` on another computer
    (gzip: about a third of the box's size)."""
    from labgen.providers.libvirt import vagrant_box

    with console.status(f"packing {vagrant_box.box_name(name)}" + ("" if plain else " (gzip)")):
        path = vagrant_box.export(name, output, compress=not plain)
    size = path.stat().st_size / 2**20
    console.print(f"box {vagrant_box.box_name(name)} written to {path} ({size:.0f} MiB)", highlight=False)
    console.print(f"on the other computer: vagrant box add --name {vagrant_box.box_name(name)} {path.name}")


@app.command("push")
def push(
    to: Annotated[str, typer.Option("--to", help="A host of `labgen hosts list`.")],
    name: Annotated[str, typer.Argument(help="The release whose container root to copy.")] = "debian-12",
) -> None:
    """Copy a container root to another host over ssh, checked by its sha256 there before it is
    put in place (an interrupted or changed copy leaves the host's root as it was)."""
    import time

    from labgen.boxes import rootfs, transfer
    from labgen.remote import hosts

    host = hosts.get(to)
    total = (rootfs.manifest(name).get("size_bytes") or 0) / 2**20
    began = time.monotonic()
    with console.status(f"reading the {name} root for its checksum") as status:
        sha256 = transfer.push(name, host, lambda what, done: status.update(
            f"{what}: {done / 2**20:.0f} of about {total:.0f} MiB"))
    console.print(f"{name} root on {to} ({total:.0f} MiB in {time.monotonic() - began:.1f} s, "
                  f"sha256 {sha256[:16]}… checked there)", highlight=False)


@app.command("receive", hidden=True)
def receive(
    name: Annotated[str, typer.Argument(help="The release.")],
    sha256: Annotated[str, typer.Option("--sha256", help="The stream's sha256, as the sender read it.")],
) -> None:
    """A container root as a tar on stdin, put in place if its sha256 matches (box push runs it)."""
    import re
    import sys

    from labgen.boxes import transfer
    from labgen.boxes.releases import release

    release(name)  # an unknown release is one line, before anything is read
    standing = _labs_on_root(name)
    if standing:
        raise LabgenError(f"labs {', '.join(standing)} stand on the {name} root here: take them down first")
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise LabgenError("--sha256: give the 64 hex digits `labgen box push` computed")
    root = transfer.receive(name, sys.stdin.buffer, sha256)
    console.print(f"{name} root received: {root}", highlight=False)


def _labs_on_root(name: str) -> list[str]:
    """The container labs whose nodes boot from the release's root (their overlays' lower layer),
    as their own lab.json says: what root's LABGEN_HOME recorded, not a mount a user could make."""
    from labgen.lab import Lab
    from labgen.labs import all_labs

    return [lab.name for lab in all_labs() if isinstance(lab, Lab) and lab.spec.provider == "nspawn"
            and any(node.box == name for node in lab.spec.nodes)]


@app.command("list")
def list_boxes(as_json: Json = False) -> None:
    """Every release's container root and vagrant box: built, current, daemon versions, size."""
    rows = box_rows()
    if as_json:
        print_json(rows)
        return
    from rich.table import Table

    table = Table("box", "kind", "state", "daemons", "size", "built", box=None, pad_edge=False)
    for row in rows:
        state = "current" if row["current"] else ("outdated" if row["built"] else "not built")
        daemons = " ".join(f"{pkg} {version}" for pkg, version in row["versions"].items())
        size = f"{row['size_bytes'] / 2**20:.0f} MiB" if row["size_bytes"] else ""
        table.add_row(row["name"], row["kind"], state, daemons, size, row["built_at"] or "")
    print_table(table)


def box_rows() -> list[dict]:
    """One row per release and kind; versions are the lab daemons the build found installed."""
    from labgen.boxes import rootfs
    from labgen.boxes.releases import releases
    from labgen.providers.libvirt import vagrant_box

    rows = []
    for rel in releases().values():
        built = rootfs.manifest(rel.name) if rootfs.root_path(rel.name).is_dir() else {}
        common = {
            "name": rel.name,
            "release": f"{rel.distro} {rel.version} ({rel.suite})",
            "versions": {pkg: upstream(v) for pkg, v in built.get("versions", {}).items()},
            "built_at": built.get("built_at"),
            "build_s": built.get("build_s"),
        }
        root = {
            "kind": "nspawn root",
            "path": str(rootfs.root_path(rel.name)),
            "built": rootfs.root_path(rel.name).is_dir(),
            "current": rootfs.is_current(rel.name),
            "recipe": rootfs.recipe_hash(rel.name),
            "size_bytes": built.get("size_bytes"),
        }
        rows.append({**common, **root})
        rows.append({**common, **vagrant_box.describe(rel.name)})
    return rows


def upstream(version: str) -> str:
    """1:2.2.7-1+deb12u1 reads 2.2.7: the daemon's own version, without Debian's epoch and revision."""
    return version.split(":", 1)[-1].split("-", 1)[0].split("+", 1)[0]


@app.command("saved")
def list_saved(as_json: Json = False) -> None:
    """The provisioned VM labs saved for restoring (the first `up` of some machines saves them)."""
    from labgen.providers.libvirt import saved

    rows = saved.all_saves()
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("no saved lab: the first `labgen up` of a VM lab saves one")
        return
    from rich.table import Table

    table = Table("saved lab", "blueprint", "boxes", "size", "saved", "state", box=None, pad_edge=False)
    for row in rows:
        table.add_row(row["key"][:12], row["blueprint"] or "?", " ".join(row["boxes"]),
                      f"{row['size_bytes'] / 2**20:.0f} MiB", row["created"] or "", row["problem"] or "whole")
    print_table(table)


@app.command("prune")
def prune() -> None:
    """Remove the saved labs no lab here stands on; the next `up` of their machines saves anew."""
    from labgen.providers.libvirt import saved

    removed, kept = saved.prune()
    console.print(f"removed {len(removed)} saved lab{'s' * (len(removed) != 1)}"
                  + (f": {', '.join(key[:12] for key in removed)}" if removed else ""))
    if kept:
        console.print(f"kept {', '.join(key[:12] for key in kept)}: labs restored from them are here "
                      "(`labgen down` them first)")
