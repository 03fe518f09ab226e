"""labgen exec: run a command on a node (or the client seat); its exit code is passed through."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from labgen.cli.options import LabName


def exec_(
    lab: LabName,
    node: Annotated[str, typer.Argument(help="A node name, or `client` for the client seat.")],
    command: Annotated[list[str], typer.Argument(help="The command, after --.")],
) -> None:
    """Run COMMAND on NODE of LAB, e.g. `labgen exec keepalived-rr lb0 -- ip addr`."""
    from labgen.labs import find_lab, provider_for

    if command[:1] == ["--"]:
        command = command[1:]
    provider = provider_for(find_lab(lab))
    if node == "client":
        result = provider.client_exec(command)
    else:
        provider.lab.spec.node(node)
        result = provider.exec(node, command)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    raise typer.Exit(result.returncode)
