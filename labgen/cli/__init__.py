"""The labgen command line: one module per command, registered here, imported cheaply.

Command modules import their heavy dependencies inside the command function so that
`labgen --help` and `labgen list` start fast.
"""

from __future__ import annotations

import sys

import typer

from labgen.cli import (
    box,
    doctor,
    down,
    exec_,
    failover,
    graph,
    list_,
    render,
    show,
    ssh,
    status,
    up,
    verify,
)
from labgen.errors import LabgenError

app = typer.Typer(
    help="Reproducible high-availability teaching labs: blueprint -> Vagrantfile -> lab -> proof.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("list")(list_.list_blueprints)
app.command("show")(show.show)
app.command("render")(render.render)
app.command("up")(up.up)
app.command("status")(status.status)
app.command("exec", context_settings={"allow_interspersed_args": False})(exec_.exec_)
app.command("ssh")(ssh.ssh)
app.command("verify")(verify.verify)
app.command("failover")(failover.failover)
app.command("down")(down.down)
app.command("graph")(graph.graph)
app.add_typer(box.app, name="box")
app.command("doctor")(doctor.doctor)


def main() -> None:
    """Entry point: a LabgenError becomes one line on stderr and exit 2, never a traceback."""
    try:
        app()
    except LabgenError as exc:
        print(f"labgen: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    # Ctrl-C: typer exits 130 without a traceback; `up` says itself how to clean up after it
