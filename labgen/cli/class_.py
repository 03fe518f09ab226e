"""labgen class: a workshop's seats, each a lab of its own that only its account reaches."""

from __future__ import annotations

import threading
import time
from typing import Annotated

import typer

from labgen.cli.options import Blueprint, Box, Json, Provider, Sets, with_box
from labgen.cli.output import console, errors, print_json, print_table

app = typer.Typer(help="A classroom: one lab and one account per seat.", no_args_is_help=True)

Parallel = Annotated[int, typer.Option("--parallel", min=1, max=16, help="Seats started at once.")]


@app.command("up")
def up(
    blueprint: Blueprint,
    seats: Annotated[int, typer.Option("--seats", help="How many seats (1-99).")],
    provider: Provider = "nspawn",
    box: Box = None,
    prefix: Annotated[str, typer.Option(help="Seat names: PREFIX01, PREFIX02, ...")] = "seat",
    parallel: Annotated[
        int | None,
        typer.Option("--parallel", min=1, max=16,
                     help="Seats started at once (default: 4 on containers, one per core on VMs)."),
    ] = None,
    set_: Sets = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and print the plan (what fits, how long), make nothing.")
    ] = False,
) -> None:
    """Start a lab per seat (seat01..seatNN) and a local account of the same name for each.

    Every seat's lab gets the same --set, e.g. --set resources.memory_mb=512 for more memory per
    node than the blueprint's bound."""
    from labgen.classroom import history, limits
    from labgen.classroom import seats as classroom

    parallel = parallel or limits.seats_at_once(provider)
    if dry_run:
        _plan(blueprint, seats, provider, with_box(set_, box), prefix, parallel)
        return
    with classroom.one_command_at_a_time():
        names, bp, raised = _prepare_class(blueprint, seats, provider, with_box(set_, box), prefix)
        up_args = ["--provider", provider, *(arg for item in set_ or [] for arg in ("--set", item)),
                   *(["--box", box] if box else [])]
        began, lock = time.monotonic(), threading.Lock()

        def report(seat: str, what: str) -> None:
            with lock:
                console.print(f"{time.monotonic() - began:6.1f} s  {seat}: {what}", highlight=False)

        resources = bp.resources.model_dump()
        state = classroom.start(blueprint, names, up_args, raised, parallel, report, resources)
    failed = {name: seat for name, seat in state["seats"].items() if seat["state"] != "up"}
    took = time.monotonic() - began
    history.record(blueprint, provider, len(names), parallel, took, len(failed))
    console.print(f"class of {len(names) - len(failed)} seats up in {took:.1f} s; "
                  "the roster: labgen class roster", highlight=False)
    for name, seat in failed.items():
        console.print(f"[red]{name} failed twice[/]: {seat.get('error')}")
    if failed:
        raise typer.Exit(1)


def _plan(blueprint: str, seats: int, provider: str, sets: list[str], prefix: str, parallel: int) -> None:
    """class up --dry-run: class up's checks, then what it would do and how long it should take."""
    from labgen import paths
    from labgen.classroom import history, limits

    names, bp = _check_class(blueprint, seats, provider, sets, prefix)
    nodes = seats * len(bp.nodes)
    fit = limits.capacity({blueprint: len(bp.nodes)}, provider, paths.home())["seats"][blueprint]
    console.print(f"class up would start {seats} {blueprint} seats on {provider} ({names[0]}..{names[-1]}, "
                  f"{nodes} nodes), {parallel} at a time; this host holds {fit} such seats now",
                  highlight=False)
    console.print(f"each node: {limits.describe_node(bp.resources.model_dump())}", highlight=False)
    for limit in limits.sysctls(nodes):
        if not limit.enough:
            console.print(f"it would raise {limit.key} from {limit.have} to {limit.needed} "
                          "(class down puts it back)", highlight=False)
    took = history.estimate(blueprint, provider, seats, parallel)
    console.print(f"time: {took}" if took else f"time: no class of {blueprint} on {provider} has come up on "
                  "this host yet to measure it by", highlight=False)


def _check_class(blueprint: str, seats: int, provider: str, sets: list[str], prefix: str):
    """Everything class up checks before it makes anything: the seats' names and the blueprint."""
    from labgen import paths
    from labgen.classroom import accounts, boundary, limits
    from labgen.classroom import seats as classroom
    from labgen.errors import LabgenError
    from labgen.labs import lab_dir
    from labgen.model.load import load_blueprint
    from labgen.providers import provider_class

    if classroom.state_file().exists():
        raise LabgenError("this host has a class already: see `labgen class status`, or `labgen class down`")
    bp, _ = load_blueprint(blueprint, sets)  # a bad --set fails here, once, before anything is made
    names = classroom.seat_names(seats, prefix)
    accounts.check_free(names)
    taken = [name for name in names if lab_dir(name).exists()]
    if taken:
        raise LabgenError(f"a lab named {taken[0]} exists already; take it down or choose another --prefix")
    provider_class(provider)  # an unknown provider fails here, before anything is made
    boundary.check_helper()
    boundary.check_installation(names)
    limits.check_room(seats * len(bp.nodes), provider, paths.home())
    return names, bp


def _prepare_class(blueprint: str, seats: int, provider: str, sets: list[str], prefix: str):
    """class up's checks, then the kernel limits raised for the class: the seats' names, the
    blueprint, the limits raised (class down puts them back)."""
    from labgen.classroom import limits

    names, bp = _check_class(blueprint, seats, provider, sets, prefix)
    raised = limits.raise_limits(limits.sysctls(seats * len(bp.nodes)))
    for key, (old, new) in raised.items():
        console.print(f"raised {key} from {old} to {new} for the class "
                      "(class down puts it back)", highlight=False)
    console.print(f"each node: {limits.describe_node(bp.resources.model_dump())}", highlight=False)
    return names, bp, raised


exercise_app = typer.Typer(help="Exercises for the whole class at once.", no_args_is_help=True)
app.add_typer(exercise_app, name="exercise")


@exercise_app.command("start")
def exercise_start(
    name: Annotated[str, typer.Argument(help="An exercise of the class's blueprint (labgen exercise list).")],
    parallel: Parallel = 4,
) -> None:
    """Hand one exercise to every seat at once: each seat's lab broken the same way."""
    from labgen.classroom import seats as classroom
    from labgen.model.exercises import load_exercises
    from labgen.model.load import find_blueprint

    state = classroom.load()
    load_exercises(find_blueprint(state["blueprint"]).folder).get(name)  # an unknown name fails here, once
    failed = classroom.hand_out(state, name, parallel, lambda seat, what: console.print(f"{seat}: {what}"))
    console.print(f"exercise {name} handed to {len(state['seats']) - len(failed)} seats; "
                  "follow them: labgen class status --watch 5", highlight=False)
    if failed:
        raise typer.Exit(1)


@app.command("down")
def down(parallel: Parallel = 4) -> None:
    """Take down every seat's lab and account, the sudo rule, and the limits raised for the class.

    Every account is locked first; a seat that fails does not stop the others. Each failure is one
    line at the end, and the class record keeps those seats for `class down` to finish later."""
    from rich.markup import escape

    from labgen.classroom import seats as classroom

    with classroom.one_command_at_a_time():
        state = classroom.load()
        count, began = len(state["seats"]), time.monotonic()
        failures = classroom.stop(state, parallel, lambda seat, what: console.print(f"{seat}: {what}"))
    took = f"{time.monotonic() - began:.1f} s"
    if not failures:
        seats = f"{count} seat{'s' * (count != 1)}"
        console.print(f"class down in {took}: {seats}, their labs and accounts are gone", highlight=False)
        return
    for line in failures:
        errors.print(f"[red]not gone[/]: {escape(line)}", highlight=False)
    errors.print(f"class down in {took}: {count - len(failures)} of {count} seats gone; the others are "
                 "locked and kept in the class record: mend what is said above, then `labgen class down` "
                 "again", highlight=False)
    raise typer.Exit(1)


@app.command("roster")
def roster(json_: Json = False) -> None:
    """Seat, account, password and how to connect: for the teacher's eyes (root only)."""
    import socket

    from rich.table import Table

    from labgen.classroom import limits
    from labgen.classroom import seats as classroom

    state, host = classroom.load(), socket.gethostname()
    resources = state.get("resources")  # a class started before labgen recorded them has none
    rows = [{"seat": name, "account": seat["account"], "password": seat.get("password"),
             "state": seat["state"], "connect": f"ssh {seat['account']}@{host}  (or: su - {seat['account']})",
             "node_limits": resources}
            for name, seat in state["seats"].items()]
    if json_:
        print_json(rows)
        return
    table = Table("seat", "account", "password", "state", "connect", title=f"class of {state['blueprint']}")
    for row in rows:
        table.add_row(*(str(row[key] or "-") for key in ("seat", "account", "password", "state", "connect")))
    print_table(table)
    if resources:
        console.print(f"each node: {limits.describe_node(resources)}", highlight=False)
    console.print("then, as the seat: labgen status · labgen verify --quick · labgen exec lb0 -- ip addr · "
                  "labgen reset")


@app.command("status")
def status(
    json_: Json = False,
    watch: Annotated[float | None, typer.Option("--watch", help="Redraw every this many seconds.")] = None,
) -> None:
    """Each seat's lab: up, VIP holder, the last verify, the student's last command."""
    from labgen.classroom import seats as classroom
    from labgen.classroom.report import seat_rows, table

    if json_:
        print_json(seat_rows(classroom.load()))
        return
    if watch is None:
        print_table(table(seat_rows(classroom.load())))
        return
    from rich.live import Live

    with Live(console=console, auto_refresh=False) as live:
        while True:
            live.update(table(seat_rows(classroom.load())), refresh=True)
            time.sleep(watch)
