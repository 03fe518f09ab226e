"""labgen exec: run a command on a node (or the client seat); its exit code is passed through."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from labgen.cli.options import LabName, NodeOrClient


def exec_(
    lab: LabName,
    node: NodeOrClient,
    command: Annotated[list[str], typer.Argument(help="The command, after --.")],
    stdin: Annotated[
        bool, typer.Option("--stdin", "-i", help="Pass your standard input to the command.")
    ] = False,
) -> None:
    """Run COMMAND on NODE of LAB, e.g. `labgen exec keepalived-rr lb0 -- ip addr`.

    Standard input is only read with --stdin, so a script that calls labgen never hangs on it:
    `labgen exec -i LAB lb0 -- sh -c 'cat > /root/page.html' < page.html`."""
    from labgen.labs import find_lab, provider_for

    if command[:1] == ["--"]:
        command = command[1:]
    provider = provider_for(find_lab(lab))
    sys.stdout.flush()
    # streamed, not captured: the command's output and input never pass through labgen's memory
    raise typer.Exit(provider.stream(None if node == "client" else node, command, stdin=stdin))
