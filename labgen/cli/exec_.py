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
    given = sys.stdin.read() if stdin else None
    if node == "client":
        result = provider.client_exec(command, input=given, timeout=None)
    else:
        provider.lab.spec.node(node)
        result = provider.exec(node, command, input=given, timeout=None)  # the user's own command
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    raise typer.Exit(result.returncode)
