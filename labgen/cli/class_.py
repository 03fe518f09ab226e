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


@app.callback()
def _class(
    ctx: typer.Context,
    part_of: Annotated[
        str | None,
        typer.Option("--part-of", hidden=True, help="Act on this host's class only if it is part of ID."),
    ] = None,
) -> None:
    """A class over several hosts runs each host's part as `labgen class --part-of ID ...` there."""
    ctx.obj = part_of


@app.command("up")
def up(
    ctx: typer.Context,
    blueprint: Blueprint,
    seats: Annotated[int, typer.Option("--seats", help="How many seats (1-99).")],
    provider: Provider = "nspawn",
    box: Box = None,
    prefix: Annotated[str, typer.Option(help="Seat names: PREFIX01, PREFIX02, ...")] = "seat",
    parallel: Annotated[
        int | None,
        typer.Option("--parallel", min=1, max=16,
                     help="Seats started at once on each host "
                     "(default: 4 on containers, one per core on VMs)."),
    ] = None,
    set_: Sets = None,
    hosts: Annotated[
        str | None,
        typer.Option("--hosts", metavar="A,B,local",
                     help="Spread the seats over these hosts of `labgen hosts list`, by the room each has."),
    ] = None,
    first_seat: Annotated[int, typer.Option("--first-seat", min=1, max=99, hidden=True)] = 1,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and print the plan (what fits, how long), make nothing.")
    ] = False,
) -> None:
    """Start a lab per seat (seat01..seatNN) and a local account of the same name for each.

    Every seat's lab gets the same --set, e.g. --set resources.memory_mb=512 for more memory per
    node than the blueprint's bound. With --hosts, each host holds its share of the seats, their
    accounts on that host."""
    from labgen.classroom import history, limits
    from labgen.classroom import seats as classroom

    up_args = ["--provider", provider, *(arg for item in set_ or [] for arg in ("--set", item)),
               *(["--box", box] if box else [])]
    if hosts:  # each host's default is its own cores'
        _spread(blueprint, seats, provider, with_box(set_, box), prefix, parallel, up_args, hosts.split(","),
                dry_run)
        return
    parallel = parallel or limits.seats_at_once(provider)
    if dry_run:
        _plan(blueprint, seats, provider, with_box(set_, box), prefix, parallel)
        return
    with classroom.one_command_at_a_time():
        names = classroom.seat_names(seats, prefix, first_seat)
        bp, raised = _prepare_class(blueprint, names, provider, with_box(set_, box))
        state = classroom.new_state(blueprint, up_args, raised, bp.resources.model_dump(), part_of=ctx.obj)
        began, report = _reporter()
        classroom.start(state, names, parallel, lambda seat, what: report(f"{seat}: {what}"))
    failed = {name: seat for name, seat in state["seats"].items() if seat["state"] != "up"}
    took = time.monotonic() - began
    history.record(blueprint, provider, len(names), parallel, took, len(failed))
    console.print(f"class of {_seats(len(names) - len(failed))} up in {took:.1f} s; "
                  "the roster: labgen class roster", highlight=False)
    for name, seat in failed.items():
        _say(f"{name} failed twice: {seat.get('error')}")
    if failed:
        raise typer.Exit(1)


def _say(line: str) -> None:
    """A line another host printed, as it is (never read as markup)."""
    console.print(line, markup=False, highlight=False)


def _outcome(here: int, failed_here: int, hosts, hosts_failed, done: str) -> str:
    """`9 of 10 seats here, b done, c failed`: this host's seats counted, each other host as a whole
    (how many of its seats came up, its own class status says)."""
    parts = [f"{here - failed_here} of {_seats(here)} here"] if here else []
    return ", ".join(parts + [f"{host} {'failed' if host in hosts_failed else done}" for host in hosts])


def _seats(count: int) -> str:
    return f"{count} seat{'s' * (count != 1)}"


def _reporter():
    """When the command began, and a line printer stamped with the seconds since (one thread at a time)."""
    began, lock = time.monotonic(), threading.Lock()

    def report(line: str) -> None:
        with lock:
            _say(f"{time.monotonic() - began:6.1f} s  {line}")

    return began, report


def _spread(blueprint: str, seats: int, provider: str, sets: list[str], prefix: str, parallel: int | None,
            up_args: list[str], host_names: list[str], dry_run: bool) -> None:
    """class up --hosts: the plan (each host asked for its room), the boxes a host lacks copied to
    it, then every host's share at once: this machine's here, each remote one by that host's
    labgen over ssh, as a part of this class (its id)."""
    import secrets

    from labgen.classroom import limits, spread
    from labgen.classroom import seats as classroom

    targets = spread.hosts_named(host_names, blueprint)
    names = classroom.seat_names(seats, prefix)
    bp = _blueprint(blueprint, sets)
    release = bp.box
    with console.status(f"asking {len(targets)} hosts for their room"):
        rooms = spread.rooms(targets, blueprint, provider, len(bp.nodes))
    placed = spread.place(names, {name: room.seats for name, room in rooms.items()})
    _check_class(blueprint, placed.get(spread.LOCAL, []), provider, sets)  # as class up will, dry run too
    console.print(f"class of {seats} {blueprint} seats on {provider}, over {len(placed)} hosts:",
                  highlight=False)
    for line in spread.plan_lines(placed, rooms, release, provider):
        _say(f"  {line}")
    if dry_run:
        return
    with classroom.one_command_at_a_time():
        here = placed.get(spread.LOCAL, [])
        _check_class(blueprint, here, provider, sets)
        lacking = [targets[name] for name in placed
                   if name != spread.LOCAL and not rooms[name].has(release, provider)]
        if lacking:
            _push(release, lacking)
        raised = _raise_limits(len(here) * len(bp.nodes)) if here else {}
        state = classroom.new_state(blueprint, up_args, raised, bp.resources.model_dump(),
                                    class_id=secrets.token_hex(8), here=bool(here),
                                    hosts={name: {"seats": seats_there, "state": "starting"}
                                           for name, seats_there in placed.items() if name != spread.LOCAL})
        classroom.save(state)
        began, report = _reporter()
        here_at_once = parallel or limits.seats_at_once(provider)
        spread.start(state, placed, targets, prefix, here_at_once, parallel, report)
    took = time.monotonic() - began
    failed = {name: seat for name, seat in state["seats"].items() if seat["state"] != "up"}
    hosts_failed = {host: there for host, there in state["hosts"].items() if there["state"] != "up"}
    where = _outcome(len(here), len(failed), state["hosts"], hosts_failed, "up")
    console.print(f"class over {len(placed)} hosts in {took:.1f} s ({where}); each seat: labgen "
                  "class status; the roster: labgen class roster", highlight=False)
    for name, seat in failed.items():
        _say(f"{name} failed twice: {seat.get('error')}")
    for host, there in hosts_failed.items():  # its own seats that came up stand: class status shows them
        _say(f"{host}: {there['error']} (seats {', '.join(there['seats'])})")
    if failed or hosts_failed:
        raise typer.Exit(1)


def _push(release: str, lacking: list) -> None:
    """The container root copied to every host that lacks it, at once, progress on one line."""
    from concurrent.futures import ThreadPoolExecutor

    from labgen.boxes import transfer

    seen: dict[str, str] = {}
    with console.status(f"copying the {release} root to {len(lacking)} hosts") as status, \
            ThreadPoolExecutor(max_workers=len(lacking)) as pool:

        def one(host) -> None:
            def progress(what: str, done: int) -> None:
                seen[host.name] = f"{host.name} {what} {done / 2**20:.0f} MiB"
                status.update(f"{release} root: {' · '.join(seen.values())}")

            transfer.push(release, host, progress)
            console.print(f"{release} root copied to {host.name}, its sha256 checked there", highlight=False)

        list(pool.map(one, lacking))


def _plan(blueprint: str, seats: int, provider: str, sets: list[str], prefix: str, parallel: int) -> None:
    """class up --dry-run: class up's checks, then what it would do and how long it should take."""
    from labgen import paths
    from labgen.classroom import history, limits
    from labgen.classroom import seats as classroom

    names = classroom.seat_names(seats, prefix)
    bp = _check_class(blueprint, names, provider, sets)
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


def _blueprint(blueprint: str, sets: list[str]):
    from labgen.model.load import load_blueprint

    return load_blueprint(blueprint, sets)[0]  # a bad --set fails here, once, before anything is made


def _check_class(blueprint: str, names: list[str], provider: str, sets: list[str]):
    """Everything class up checks on this host before it makes anything: the seats' names and the
    blueprint; the blueprint."""
    from labgen import paths
    from labgen.classroom import accounts, boundary, limits
    from labgen.classroom import seats as classroom
    from labgen.errors import LabgenError
    from labgen.labs import lab_dir
    from labgen.providers import provider_class

    if classroom.state_file().exists():
        raise LabgenError("this host has a class already: see `labgen class status`, or `labgen class down`")
    bp = _blueprint(blueprint, sets)
    provider_class(provider)  # an unknown provider fails here, before anything is made
    if not names:
        return bp
    accounts.check_free(names)
    taken = [name for name in names if lab_dir(name).exists()]
    if taken:
        raise LabgenError(f"a lab named {taken[0]} exists already; take it down or choose another --prefix")
    boundary.check_helper()
    boundary.check_installation(names)
    limits.check_room(len(names) * len(bp.nodes), provider, paths.home())
    return bp


def _prepare_class(blueprint: str, names: list[str], provider: str, sets: list[str]):
    """class up's checks, then the kernel limits raised for the class: the blueprint and the limits
    raised (class down puts them back)."""
    from labgen.classroom import limits

    bp = _check_class(blueprint, names, provider, sets)
    raised = _raise_limits(len(names) * len(bp.nodes))
    console.print(f"each node: {limits.describe_node(bp.resources.model_dump())}", highlight=False)
    return bp, raised


def _raise_limits(nodes: int) -> dict:
    from labgen.classroom import limits

    raised = limits.raise_limits(limits.sysctls(nodes))
    for key, (old, new) in raised.items():
        console.print(f"raised {key} from {old} to {new} for the class "
                      "(class down puts it back)", highlight=False)
    return raised


exercise_app = typer.Typer(help="Exercises for the whole class at once.", no_args_is_help=True)
app.add_typer(exercise_app, name="exercise")


@exercise_app.command("start")
def exercise_start(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="An exercise of the class's blueprint (labgen exercise list).")],
    parallel: Parallel = 4,
) -> None:
    """Hand one exercise to every seat at once: each seat's lab broken the same way, on every host."""
    from labgen.classroom import seats as classroom
    from labgen.classroom import spread
    from labgen.model.exercises import load_exercises
    from labgen.model.load import find_blueprint

    state = classroom.load(ctx.obj)
    load_exercises(find_blueprint(state["blueprint"]).folder).get(name)  # an unknown name fails here, once
    hosts_failed = spread.act(state, ["exercise", "start", name, "--parallel", str(parallel)], _say)
    failed = classroom.hand_out(state, name, parallel, lambda seat, what: _say(f"{seat}: {what}"))
    for host, line in hosts_failed.items():
        errors.print(f"{host}: {line}", highlight=False, markup=False)
    where = _outcome(len(state["seats"]), len(failed), state.get("hosts", {}), hosts_failed, "done")
    console.print(f"exercise {name} handed out ({where}); "
                  "follow each seat: labgen class status --watch 5", highlight=False)
    if failed or hosts_failed:
        raise typer.Exit(1)


@app.command("down")
def down(
    ctx: typer.Context,
    parallel: Parallel = 4,
    abandon: Annotated[
        list[str] | None,
        typer.Option("--abandon", metavar="HOST", help="Forget a host of the class gone for good, its seats "
                     "with it (the command that takes them down if it comes back is printed)."),
    ] = None,
    missing_ok: Annotated[bool, typer.Option("--missing-ok", hidden=True)] = False,
) -> None:
    """Take down every seat's lab and account, the sudo rule, and the limits raised for the class.

    Every account is locked first; a seat that fails does not stop the others. Each failure is one
    line at the end, and the class record keeps those seats for `class down` to finish later. A
    class over several hosts goes down on each; a host that does not answer stays in the record."""
    from rich.markup import escape

    from labgen.classroom import seats as classroom

    with classroom.one_command_at_a_time():
        if missing_ok and not classroom.is_part(ctx.obj):  # a host holds one class: ours is gone
            console.print(f"no part of class {ctx.obj} on this host", highlight=False)
            return
        state = classroom.load(ctx.obj)
        _abandon(state, abandon or [])
        count, began = len(state["seats"]), time.monotonic()
        count += sum(len(there["seats"]) for there in state.get("hosts", {}).values())
        failures = _down_hosts(state)
        failures += classroom.stop(state, parallel, lambda seat, what: console.print(f"{seat}: {what}"))
    took = f"{time.monotonic() - began:.1f} s"
    if not failures:
        console.print(f"class down in {took}: {_seats(count)}, their labs and accounts are gone",
                      highlight=False)
        return
    for line in failures:
        errors.print(f"[red]not gone[/]: {escape(line)}", highlight=False)
    errors.print(f"class down in {took}: not all gone; what is left is locked and kept in the class "
                 "record: mend what is said above, then `labgen class down` again (`--abandon HOST` "
                 "forgets a host gone for good)", highlight=False)
    raise typer.Exit(1)


def _abandon(state: dict, names: list[str]) -> None:
    """class down --abandon: hosts gone for good out of the record, the seats there with them."""
    from labgen.classroom import seats as classroom
    from labgen.errors import LabgenError

    if not names:
        return
    known = state.get("hosts", {})
    for name in names:
        if name not in known:
            raise LabgenError(f"--abandon {name}: the class holds no seats there; its hosts: "
                              f"{', '.join(known) or 'this one only'}")
    kept = {name: there for name, there in known.items() if name not in names}
    classroom.update(state, state, {"hosts": kept})
    for name in names:
        _say(f"forgot {name} and the seats there; if it comes back: labgen --host {name} class --part-of "
             f"{state['class_id']} down")


def _down_hosts(state: dict) -> list[str]:
    """Each host's part of the class taken down there (a part gone already is done); the hosts
    that failed stay in the record, a line each."""
    from labgen.classroom import seats as classroom
    from labgen.classroom import spread

    failed = spread.act(state, ["down", "--missing-ok"], _say)
    left = {host: {**there, "state": "down failed", "error": failed[host]}
            for host, there in state.get("hosts", {}).items() if host in failed}
    classroom.update(state, state, {"hosts": left})
    return [f"{host} ({', '.join(state['hosts'][host]['seats'])}): {line}" for host, line in failed.items()]


@app.command("roster")
def roster(ctx: typer.Context, json_: Json = False) -> None:
    """Seat, host, account, password and how to connect: for the teacher's eyes (root only)."""
    import socket

    from rich.table import Table

    from labgen.classroom import limits, spread
    from labgen.classroom import seats as classroom
    from labgen.classroom.report import cells
    from labgen.remote import hosts

    state, here = classroom.load(ctx.obj), socket.gethostname()
    resources = state.get("resources")  # a class started before labgen recorded them has none
    rows = [{"seat": name, "host": spread.LOCAL, "account": seat["account"], "password": seat.get("password"),
             "state": seat["state"], "connect": f"ssh {seat['account']}@{here}  (or: su - {seat['account']})",
             "node_limits": resources}
            for name, seat in state["seats"].items()]
    for row in spread.remote_rows(state, ["roster"]):
        if row.get("account"):  # the host's own name for itself may not be how this machine reaches it
            host = hosts.get(row["host"])
            port = f" -p {host.port}" if host.port != 22 else ""
            row["connect"] = f"ssh{port} {row['account']}@{host.address}"
        rows.append({**row, "state": row.get("state") or row.get("lab")})
    if json_:
        print_json(rows)
        return
    columns = ("seat", "host", "account", "password", "state", "connect")
    table = Table(*columns, title=f"class of {state['blueprint']}")
    for row in rows:
        table.add_row(*cells(row, columns))
    print_table(table)
    if resources:
        console.print(f"each node: {limits.describe_node(resources)}", highlight=False)
    console.print("then, as the seat: labgen status · labgen verify --quick · labgen exec lb0 -- ip addr · "
                  "labgen reset")


@app.command("status")
def status(
    ctx: typer.Context,
    json_: Json = False,
    watch: Annotated[float | None, typer.Option("--watch", help="Redraw every this many seconds.")] = None,
) -> None:
    """Each seat's lab, on every host: up, VIP holder, the last verify, the student's last command."""
    from labgen.classroom import seats as classroom
    from labgen.classroom import spread
    from labgen.classroom.report import seat_rows, table

    def rows() -> list[dict]:
        state = classroom.load(ctx.obj)
        return spread.local_rows(seat_rows(state)) + spread.remote_rows(state, ["status"])

    if json_:
        print_json(rows())
        return
    if watch is None:
        print_table(table(rows()))
        return
    from rich.live import Live

    with Live(console=console, auto_refresh=False) as live:
        while True:
            live.update(table(rows()), refresh=True)
            time.sleep(watch)
