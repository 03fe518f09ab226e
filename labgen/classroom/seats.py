"""The class on this host: seats seat01..seatNN, a lab and an account each, and the roster.

The class lives in LABGEN_HOME/class/class.json (root's alone: it holds the seats' passwords);
each seat's lab is an ordinary labgen lab named after the seat, brought up and taken down by
labgen's own `up` and `down` (so everything they guarantee holds per seat).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from labgen import paths
from labgen.classroom import accounts, boundary, limits
from labgen.errors import LabgenError
from labgen.host import last_line
from labgen.lab import check_lab_name
from labgen.locks import host_dir, host_lock

MAX_SEATS = 99
CLASS_LOCK = "class.lock"  # held by the one class up or class down at work on the host
UP_TIMEOUT = 1800.0
DOWN_TIMEOUT = 600.0


def class_dir() -> Path:
    return paths.home() / "class"


def state_file() -> Path:
    return class_dir() / "class.json"


def load(part_of: str | None = None) -> dict:
    """The class on this host, or one line saying there is none; with part_of, only if it is that
    class's part (a class over several hosts names its parts by the id it gave them)."""
    try:
        state = json.loads(state_file().read_text())
    except FileNotFoundError:
        raise LabgenError("no class on this host; start one: labgen class up BLUEPRINT --seats N") from None
    if part_of is not None and state.get("part_of") != part_of:
        raise LabgenError(f"the class on this host is not part of class {part_of}: left alone")
    return state


def is_part(part_of: str | None) -> bool:
    """This host's class is there and (part_of given) is that class's part."""
    try:
        load(part_of)
    except LabgenError:
        return False
    return True


_saving = threading.Lock()  # seats and hosts change the one state from their threads


def save(state: dict) -> None:
    with _saving:
        _write(state)


def update(state: dict, part: dict, changes: dict) -> None:
    """A part of the class state (a seat's, a host's) changed and the whole saved, in one step."""
    with _saving:
        part.update(changes)
        _write(state)


def _write(state: dict) -> None:
    class_dir().mkdir(parents=True, exist_ok=True, mode=0o700)
    class_dir().chmod(0o700)
    draft = state_file().with_suffix(".new")
    draft.touch(mode=0o600)
    draft.write_text(json.dumps(state, indent=2) + "\n")
    draft.rename(state_file())


@contextlib.contextmanager
def one_command_at_a_time() -> Iterator[None]:
    """Hold the host's class for one class up or down: two class ups that both found no class
    would make two (one sudo rule, one record: each would undo the other's seats)."""
    host_dir()  # a folder that is not root's alone says so itself, not as "another class command"
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(host_lock(CLASS_LOCK, "the host's class", timeout=0))
        except LabgenError:
            raise LabgenError("another labgen class up or class down is at work on this host; wait for it, "
                              "then see `labgen class status`") from None
        yield


def seat_names(count: int, prefix: str, first: int = 1) -> list[str]:
    if count < 1 or first + count - 1 > MAX_SEATS:
        raise LabgenError(f"--seats {count}: a class has 1 to {MAX_SEATS} seats")
    return [check_lab_name(f"{prefix}{number:02d}") for number in range(first, first + count)]


def new_state(blueprint: str, up_args: list[str], raised: dict[str, list[int]], resources: dict[str, int],
              **more) -> dict:
    """The class's record before any seat is made: raised are the kernel limits raised for it, put
    back by stop(); resources are each node's bounds, for the roster; more: the class's id, the
    class it is a part of, the hosts it spans, whether it has seats here (`here`: the host-wide
    sudo rule and seats' group are its own)."""
    return {"blueprint": blueprint, "up_args": up_args, "limits": raised, "resources": resources, "seats": {},
            "started": time.time(), "here": True, **more}


def start(state: dict, names: list[str], parallel: int, report: Callable[[str, str], None]) -> dict:
    """Every seat's lab (up to `parallel` at once, a failed one retried once), then accounts and the
    sudo rule for the seats that came up; the state saved as it goes (an account's UID the moment it
    is made: class down acts by it)."""
    blueprint, up_args = state["blueprint"], state["up_args"]
    waiting = {name: {"lab": name, "account": name, "state": "waiting"} for name in names}
    update(state, state["seats"], waiting)
    accounts.bound_seats()

    def one(name: str) -> None:
        seat = state["seats"][name]
        for attempt in (1, 2):
            report(name, "starting" if attempt == 1 else "retrying")
            done = _labgen(["up", blueprint, "--name", name, *up_args], timeout=UP_TIMEOUT)
            if done.returncode == 0:
                break
            _labgen(["down", name], timeout=DOWN_TIMEOUT)
        if done.returncode:
            outcome = {"state": "failed", "error": last_line(done)}
        else:
            (paths.labs_dir() / name).chmod(0o700)  # its secrets are the seat's, through labgen-seat only
            uid, password = accounts.create(name, name)
            _seat_shell(name)
            outcome = {"state": "up", "uid": uid, "password": password}
        update(state, seat, outcome)
        report(name, seat["state"])

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        list(pool.map(one, names))
    seated = {name: seat["lab"] for name, seat in state["seats"].items() if seat["state"] == "up"}
    if seated:
        boundary.install(seated, paths.home())
    return state


def stop(state: dict, parallel: int, report: Callable[[str, str], None]) -> list[str]:
    """Take the class down as far as it goes, past a seat that fails: every account locked first
    (its password no longer works), the sudo rule and seat files gone, every seat's processes and
    commands ended, then each seat's lab, files, home and account. Returns one line per seat that
    is not gone; those stay in the class record, locked, for the next `class down` to finish."""
    failed: dict[str, str] = {}
    here = state.get("here", True)  # a class over hosts with no seat here owns nothing host-wide here
    _each_seat(state, failed, parallel, _lock)
    if here:
        boundary.remove(list(state["seats"]))  # no seat starts a command while the class goes
    _each_seat(state, failed, parallel, _end_sessions)
    _each_seat(state, failed, parallel, lambda name, seat: _remove(name, seat, report))
    for name in [name for name in state["seats"] if name not in failed]:
        del state["seats"][name]
    for name, line in failed.items():
        state["seats"][name].update(state="down failed", error=line)
    if state["seats"]:
        save(state)
        return [f"{name}: {line}" for name, line in failed.items()]
    if here:
        limits.restore(state.get("limits", {}))
        accounts.unbound_seats()
    if state.get("hosts"):  # the hosts class down could not reach yet: the record stays for them
        state.update(limits={}, here=False)
        save(state)
        return []
    state_file().unlink(missing_ok=True)
    class_dir().rmdir()
    return []


def _each_seat(state: dict, failed: dict[str, str], parallel: int, step: Callable[[str, dict], None]) -> None:
    """step on every seat that has not failed yet, `parallel` at once; a seat's failure is its line
    in failed, and the others go on."""

    def one(name: str) -> tuple[str, str | None]:
        try:
            step(name, state["seats"][name])
        except (LabgenError, OSError, subprocess.SubprocessError) as exc:
            return name, " ".join(str(exc).split())
        return name, None

    names = [name for name in state["seats"] if name not in failed]
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        failed.update({name: line for name, line in pool.map(one, names) if line is not None})


def _lock(name: str, seat: dict) -> None:
    if accounts.seat_uid(name, seat.get("uid")) is not None:
        accounts.lock(name)


def _end_sessions(name: str, seat: dict) -> None:
    """The seat's own processes (by the UID labgen made it with) and its labgen-seat commands."""
    if (uid := accounts.seat_uid(name, seat.get("uid"))) is not None:
        accounts.end_processes(name, uid)
    boundary.end_helpers(name)


def _remove(name: str, seat: dict, report: Callable[[str, str], None]) -> None:
    report(name, "taking down")
    done = _labgen(["down", seat["lab"]], timeout=DOWN_TIMEOUT)
    if done.returncode:
        raise LabgenError(f"labgen down {seat['lab']}: {last_line(done)}")
    if (uid := accounts.seat_uid(name, seat.get("uid"))) is not None:
        accounts.remove_files(uid)
        accounts.remove(name)
    boundary.remove_slots(name)
    report(name, "gone")


def hand_out(state: dict, exercise: str, parallel: int, report: Callable[[str, str], None]) -> list[str]:
    """Start one exercise on every seat that is up, `parallel` at once; the seats it failed on."""
    names = [name for name, seat in state["seats"].items() if seat["state"] == "up"]

    def one(name: str) -> bool:
        done = _labgen(["exercise", "start", state["seats"][name]["lab"], exercise], timeout=600)
        report(name, "started" if done.returncode == 0 else last_line(done))
        return done.returncode == 0

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        started = list(pool.map(one, names))
    return [name for name, ok in zip(names, started, strict=True) if not ok]


def _seat_shell(account: str) -> None:
    """`labgen` on the seat's PATH: sudo to labgen-seat, the only way the seat reaches its lab."""
    home = Path(os.path.expanduser(f"~{account}"))
    bin_dir = home / ".local" / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    wrapper = bin_dir / "labgen"
    wrapper.write_text(f'#!/bin/sh\n# your lab, through the class sudo rule\n'
                       f'exec sudo -n {boundary.helper()} "$@"\n')
    wrapper.chmod(0o755)
    rc, line = home / ".bashrc", 'export PATH="$HOME/.local/bin:$PATH"  # labgen class: `labgen status`\n'
    known = rc.read_text(errors="replace") if rc.exists() else ""
    if line not in known:  # an account kept from an interrupted class down has it already
        with rc.open("a") as out:
            out.write(line)
    subprocess.run(["chown", "-R", f"{account}:{account}", str(home / ".local")], check=True, timeout=30)


def _labgen(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "labgen", *args], capture_output=True, text=True,
                          timeout=timeout, check=False, stdin=subprocess.DEVNULL)
