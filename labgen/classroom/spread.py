"""A class over several hosts (`class up --hosts a,b,local`): seats placed by each host's room, each
remote host's share a class of its own there, made by that host's labgen over ssh, its seats
numbered on from the host before (a seat's name is the same everywhere: seat03 is seat03 on b).

This machine keeps the record (class.json's "hosts": the seats each host holds) and the class's
id, which every remote part carries: `class down` acts on a host's class only when it is this
class's part, never on a class someone else started there. A host that does not answer is
reported per seat, and kept in the record for the next `class down`.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from labgen import paths
from labgen.boxes import rootfs, transfer
from labgen.classroom import limits
from labgen.classroom import seats as classroom
from labgen.classroom.report import COLUMNS
from labgen.errors import LabgenError
from labgen.host import last_line
from labgen.providers import provider_class
from labgen.remote import hosts
from labgen.remote.hosts import LOCAL, Host

UP_TIMEOUT = 1800.0
GATHER_TIMEOUT = 120.0


@dataclass(frozen=True)
class Room:
    """What a host said it holds: seats of the blueprint by its memory and disk, its built boxes."""

    seats: int
    boxes: set[tuple[str, str]] = field(default_factory=set)  # (release, kind) built there

    def has(self, release: str, provider: str) -> bool:
        return (release, provider_class(provider).box_kind) in self.boxes


def hosts_named(names: list[str], blueprint: str) -> dict[str, Host | None]:
    """The hosts of --hosts (None for this machine), each known and named once."""
    names = [name.strip() for name in names]
    if len(set(names)) != len(names) or "" in names:
        raise LabgenError(f"--hosts {','.join(names)}: name each host once, comma-separated "
                          "(local: this machine)")
    targets = {name: None if name == LOCAL else hosts.get(name) for name in names}
    if any(targets.values()) and "/" in blueprint:
        raise LabgenError(f"{blueprint}: a class over hosts takes a shipped blueprint by its name (each host "
                          "reads its own copy); `labgen list` names them")
    return targets


def rooms(targets: dict[str, Host | None], blueprint: str, provider: str, nodes: int) -> dict[str, Room]:
    """Each host asked at once for its room (its own doctor), after its labgen is found to be this one;
    one line naming the first host that cannot hold a part of the class."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = pool.map(lambda host: _room(host, blueprint, provider, nodes), targets.values())
        return dict(zip(targets, answers, strict=True))


def _room(host: Host | None, blueprint: str, provider: str, nodes: int) -> Room:
    if host is None:
        return Room(limits.capacity({blueprint: nodes}, provider, paths.home())["seats"][blueprint])
    leave_out = f"; mend it, or leave {host.name} out of --hosts"
    try:
        hosts.check_same(host)
        doctor, boxes = host.labgen_json(["doctor"]), host.labgen_json(["box", "list"])
        seats = doctor[provider]["classroom"]["seats"].get(blueprint)
        built = {(box["name"], box["kind"]) for box in boxes if box.get("built")}
    except LabgenError as exc:
        raise LabgenError(f"{exc}{leave_out}") from None
    except (KeyError, TypeError) as exc:
        raise LabgenError(f"host {host.name} answered its doctor oddly ({exc}){leave_out}") from None
    if seats is None:
        raise LabgenError(f"host {host.name} has no blueprint {blueprint}{leave_out}")
    return Room(seats, built)


def place(names: list[str], room: dict[str, int]) -> dict[str, list[str]]:
    """The seats in order over the hosts in the order given, each host's share in proportion to its
    room (largest remainders first), never more than its room."""
    total = sum(room.values())
    if total < len(names):
        said = ", ".join(f"{host} {seats}" for host, seats in room.items())
        raise LabgenError(f"{len(names)} seats do not fit: the hosts hold {total} ({said}); add hosts or "
                          "give fewer seats")
    exact = {host: len(names) * seats / total for host, seats in room.items()}
    shares = {host: int(share) for host, share in exact.items()}
    # the seats left over go to the largest remainders, read to a tenth of a seat, the order given
    # breaking ties: hosts whose free memory differs by a few MB are placed the same each time
    by_remainder = sorted(room, key=lambda host: round(exact[host] - shares[host], 1), reverse=True)
    for host in by_remainder[: len(names) - sum(shares.values())]:
        shares[host] += 1
    placed, first = {}, 0
    for host, count in shares.items():
        placed[host] = names[first:first + count]
        first += count
    return {host: seats for host, seats in placed.items() if seats}


def plan_lines(placed: dict[str, list[str]], room: dict[str, Room], release: str, provider: str) -> list[str]:
    """A line per host: its seats, and the box it lacks (copied first when it is a container root)."""
    lines = []
    for host, seats in placed.items():
        line = f"{host}: {_span(seats)} ({len(seats)} of the {room[host].seats} seats it holds)"
        if host != LOCAL and not room[host].has(release, provider):
            if (kind := provider_class(provider).box_kind) != transfer.KIND:
                raise LabgenError(f"host {host} has no {release} {kind}: labgen --host {host} "
                                  f"box build {release} --for {provider}, then class up again")
            if not rootfs.is_current(release):
                raise LabgenError(f"host {host} lacks the {release} root and this machine has none to copy: "
                                  f"labgen box build {release} --for nspawn (here or there)")
            line += f", the {release} root copied to it first"
        lines.append(line)
    return lines


def _span(seats: list[str]) -> str:
    return seats[0] if len(seats) == 1 else f"{seats[0]}..{seats[-1]}"


def start(state: dict, placed: dict[str, list[str]], targets: dict[str, Host | None], prefix: str,
          here_at_once: int, parallel: int | None, report: Callable[[str], None]) -> None:
    """Every host's share of the class at once: this machine's here (`here_at_once` seats at a
    time), each other one by `labgen class up` there as this class's part (`parallel` at a time,
    else the host's own default), its lines reported as they come; each host's outcome recorded."""

    def part(name: str) -> None:
        if name == LOCAL:
            classroom.start(state, placed[LOCAL], here_at_once, lambda seat, what: report(f"{seat}: {what}"))
            return
        at_once = ["--parallel", str(parallel)] if parallel else []
        share = ["up", state["blueprint"], "--seats", str(len(placed[name])), "--prefix", prefix,
                 "--first-seat", placed[name][0][len(prefix):], *at_once, *state["up_args"]]
        failed = run(targets[name], part_args(state, share),
                     lambda line: report(f"{name}: {_unstamped(line)}"))
        outcome = {"state": "up" if failed is None else "failed", "error": failed}
        classroom.update(state, state["hosts"][name], outcome)

    with ThreadPoolExecutor(max_workers=len(placed)) as pool:
        list(pool.map(part, placed))


def _unstamped(line: str) -> str:
    """A host's line of its class up without its own time stamp: this machine's stands before it."""
    return re.sub(r"^\s*\d+\.\d s  ", "", line).strip()


def run(host: Host, args: list[str], report: Callable[[str], None],
        timeout: float = UP_TIMEOUT) -> str | None:
    """`labgen ARGS` on the host, each line it prints reported as it comes (nothing held but the
    last lines), ssh killed after `timeout` seconds; None when it succeeded, else the last line it
    said (ssh's own when it could not reach the host)."""
    said: deque[str] = deque(maxlen=5)
    with subprocess.Popen(host.ssh_argv(["labgen", *args]), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL, text=True, errors="replace") as process:
        deadline = threading.Timer(timeout, process.kill)  # a host that hangs ends its stream too
        deadline.start()
        try:
            for line in process.stdout:
                if line := line.rstrip():
                    said.append(line)
                    report(line)
            code = process.wait()
        finally:
            deadline.cancel()
    if code == 0:
        return None
    if code == -signal.SIGKILL:
        return f"host {host.name} gave no end in {timeout:g} s"
    last = said[-1] if said else f"exit {code}"
    return f"unreachable: host {host.name} ({host.url}): ssh: {last}" if code == 255 else last


def gather(host: Host, args: list[str], seats: list[str]) -> list[dict]:
    """The host's rows (`labgen ARGS --json`, a list), each with its host; a host that does not
    answer (or answers with an error) is a row per seat it holds, saying so."""
    try:
        done = host.labgen([*args, "--json"], timeout=GATHER_TIMEOUT)
    except subprocess.TimeoutExpired:
        return unreachable(host.name, seats, f"no answer in {GATHER_TIMEOUT:g} s")
    if done.returncode == 255:  # ssh's own failure
        return unreachable(host.name, seats, f"host {host.name} ({host.url}): ssh: {last_line(done)}")
    try:
        rows = json.loads(done.stdout) if done.returncode in (0, 1) else None
    except ValueError:
        rows = None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        return unreachable(host.name, seats, last_line(done), what=f"{host.name} says")
    return [{**dict.fromkeys(COLUMNS), **row, "host": host.name} for row in rows]


def unreachable(host: str, seats: list[str], why: object, what: str = "unreachable") -> list[dict]:
    """A row per seat of a host that gave no answer, saying why."""
    line = " ".join(str(why).split())
    return [{**dict.fromkeys(COLUMNS), "seat": seat, "lab": f"{what}: {line}", "host": host}
            for seat in seats]


def local_rows(rows: list[dict]) -> list[dict]:
    return [{**row, "host": LOCAL} for row in rows]


def part_args(state: dict, args: list[str]) -> list[str]:
    """`labgen class ARGS` as this class's part on a host: a class someone else made there is left alone."""
    return ["class", "--part-of", state["class_id"], *args]


def on_hosts(state: dict, act: Callable[[Host, list[str]], object]) -> dict[str, object]:
    """act(host, its seats) on every host of the class's record at once, by name; a host no longer
    in `labgen hosts` gets the LabgenError that says so instead."""

    def one(name: str) -> object:
        try:
            host = hosts.get(name)
        except LabgenError as exc:
            return exc
        return act(host, state["hosts"][name]["seats"])

    names = list(state.get("hosts", {}))
    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(zip(names, pool.map(one, names), strict=True))


def remote_rows(state: dict, args: list[str]) -> list[dict]:
    """Every host's rows of `labgen class ARGS --json` (status, roster), a host that does not
    answer a row per seat saying so."""
    answers = on_hosts(state, lambda host, seats: gather(host, part_args(state, args), seats))
    rows = []
    for name, answer in answers.items():
        seats = state["hosts"][name]["seats"]
        rows += unreachable(name, seats, answer) if isinstance(answer, Exception) else answer
    return rows


def act(state: dict, args: list[str], report: Callable[[str], None]) -> dict[str, str]:
    """`labgen class ARGS` on every host at once, their lines reported as they come; the hosts it
    failed on, each with its last line."""
    answers = on_hosts(state, lambda host, seats: run(host, part_args(state, args),
                                                      lambda line: report(f"{host.name}: {line.strip()}")))
    return {name: str(answer) for name, answer in answers.items() if answer is not None}
