"""The labgen command line: one module per command, registered here, imported cheaply.

Command modules import their heavy dependencies inside the command function so that
`labgen --help` and `labgen list` start fast.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from typing import Annotated

import typer

from labgen.cli import (
    box,
    capture,
    class_,
    defaults,
    doctor,
    down,
    exec_,
    exercise,
    failover,
    graph,
    hosts,
    impair,
    list_,
    matrix,
    render,
    reset,
    serve,
    show,
    ssh,
    status,
    up,
    verify,
    watch,
)
from labgen.errors import LabgenError

app = typer.Typer(
    rich_markup_mode="markdown",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version  # 30 ms every command would pay

        print(f"labgen {version('labgen')}")
        raise typer.Exit()


@app.callback()
def _root(
    _version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print labgen's version."),
    ] = False,
    host: Annotated[
        str | None,
        typer.Option("--host", metavar="NAME", help="Run the command on this host of `labgen hosts`."),
    ] = None,
) -> None:
    """Reproducible high-availability teaching labs: blueprint -> Vagrantfile -> lab -> proof.

    `labgen --host NAME COMMAND...` runs the command on a host of `labgen hosts` (over ssh).

    Defaults for any option: LABGEN_PROVIDER, LABGEN_BOX, and ~/.config/labgen/config.toml
    (docs/quickstart.md, "Defaults")."""
    if host is not None:  # main() runs `labgen --host NAME ...` on the host before this is reached
        raise LabgenError("--host goes first: labgen --host NAME COMMAND...")


app.command("list")(list_.list_blueprints)
app.command("show")(show.show)
app.command("render")(render.render)
app.command("up")(up.up)
app.command("status")(status.status)
app.command("exec", context_settings={"allow_interspersed_args": False})(exec_.exec_)
app.command("ssh")(ssh.ssh)
app.command("verify")(verify.verify)
app.command("failover")(failover.failover)
app.command("watch")(watch.watch)
app.command("serve")(serve.serve)
app.command("impair")(impair.impair)
app.command("capture")(capture.capture)
app.command("reset")(reset.reset)
app.command("down")(down.down)
app.command("graph")(graph.graph)
app.command("matrix")(matrix.matrix)
app.add_typer(box.app, name="box")
app.add_typer(class_.app, name="class")
app.add_typer(hosts.app, name="hosts")
app.add_typer(exercise.app, name="exercise")
app.command("doctor")(doctor.doctor)


def main() -> None:
    """Entry point: a LabgenError or a usage mistake becomes one line on stderr and exit 2, never a
    traceback or a screenful of usage; Ctrl-C exits 130 (`up` says itself how to clean up)."""
    try:
        first = sys.argv[1] if len(sys.argv) > 1 else ""
        if first == "--host" or first.startswith("--host="):  # labgen --host NAME COMMAND...: run there
            named = [first.partition("=")[2]] if "=" in first else []
            sys.exit(_on_host([*named, *sys.argv[2:]]))
        command = typer.main.get_command(app)  # built once: the defaults are read off it too
        code = command(prog_name="labgen", standalone_mode=False, default_map=defaults.default_map(command))
    except LabgenError as exc:
        _fail(str(exc), exc.exit_code)
    except typer.TyperException as exc:  # a usage mistake: unknown option, missing argument, ...
        ctx = getattr(exc, "ctx", None)
        if not exc.format_message():  # no arguments at all: the help was shown, as asked
            sys.exit(exc.exit_code)
        hint = f" (see `{ctx.command_path} --help`)" if ctx else ""
        _fail(exc.format_message() + hint, exc.exit_code)
    except subprocess.TimeoutExpired as exc:
        command = exc.cmd if isinstance(exc.cmd, str) else shlex.join(map(str, exc.cmd))
        _fail(f"gave up after {exc.timeout:g} s waiting for `{command}`; the lab may be stuck", 2)
    except (typer.Abort, KeyboardInterrupt):
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


def _on_host(args: list[str]) -> int:
    """`labgen ARGS` on a host of `labgen hosts`, over ssh, its output streamed as it comes and its
    exit code returned (a terminal is given to it when this one has one: watch, ssh, exec -i)."""
    from labgen.host import labgen_argv
    from labgen.remote import hosts

    if not args or args[0].startswith("-"):
        raise LabgenError("--host NAME COMMAND...: give a host of `labgen hosts list`, then the command")
    name, command = args[0], args[1:]
    if name == hosts.LOCAL:
        return subprocess.run(labgen_argv(command), check=False, cwd="/").returncode
    host = hosts.get(name)
    terminal = sys.stdin.isatty() and sys.stdout.isatty()
    done = subprocess.run(host.ssh_argv(["labgen", *command], terminal=terminal), check=False)
    if done.returncode == 255:
        raise LabgenError(f"host {name} ({host.url}): ssh failed (see above); `labgen hosts list` says why")
    return done.returncode


def _fail(message: str, code: int) -> None:
    print(f"labgen: error: {' '.join(message.split())}", file=sys.stderr)
    sys.exit(code)
