"""Options shared by several commands, declared once."""

from __future__ import annotations

import json
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


def _nodes_of_lab(ctx: typer.Context) -> list[str]:
    """The nodes of the lab named before on the command line, read off its lab.json as plain JSON."""
    lab = ctx.params.get("lab") or ""
    if lab not in _lab_names(lab):  # a lab's folder, never a path made of what was typed
        return []
    try:
        spec = json.loads((paths.labs_dir() / lab / "lab.json").read_text())
        return [node["name"] for node in spec["nodes"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _node_names(ctx: typer.Context, incomplete: str) -> list[str]:
    """Shell completion: the lab's nodes."""
    return [name for name in _nodes_of_lab(ctx) if name.startswith(incomplete)]


def _nodes_and_client(ctx: typer.Context, incomplete: str) -> list[str]:
    """Shell completion: the lab's nodes and its client seat (nothing for a lab not found)."""
    nodes = _nodes_of_lab(ctx)
    return [name for name in [*nodes, "client"] if nodes and name.startswith(incomplete)]


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
NodeName = Annotated[str, typer.Argument(help="A node name.", autocompletion=_node_names)]
NodeOrClient = Annotated[
    str,
    typer.Argument(
        help="A node name, or `client` for the client seat.",
        autocompletion=_nodes_and_client,
    ),
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
