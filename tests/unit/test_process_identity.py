"""labgen knows its processes by what it recorded and owns, never by a command line: real processes
here, some of them posing as labgen's (a seat can start any command line it likes)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from labgen import host
from labgen.poll import wait_for

HOLD_SOCKET = ("import socket, sys, time; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); "
               "time.sleep(120)")
SLEEP = "import time; time.sleep(120)"


@pytest.fixture
def processes():
    """Start python -c CODE ARGS...; every one is killed at the end."""
    started: list[subprocess.Popen] = []

    def start(code: str, *args: str) -> int:
        started.append(subprocess.Popen([sys.executable, "-c", code, *args]))
        return started[-1].pid

    yield start
    for process in started:
        process.kill()
        process.wait()


def bound(path: Path) -> None:
    """Until a process holds a socket bound at path."""
    wait_for(lambda: {c.laddr for c in psutil.net_connections(kind="unix")}, lambda seen: str(path) in seen,
             expected=f"a socket bound at {path}", timeout=10)


def test_a_socket_in_the_labs_own_folder_finds_its_holder_and_nothing_else(tmp_path, processes):
    labs = tmp_path / "labs"
    for lab in ("t-ex-pm", "t-ex-pmh"):
        (labs / lab / "state").mkdir(parents=True)
    master = processes(HOLD_SOCKET, str(labs / "t-ex-pm" / "state" / "ssh-lb0.a1b2c3"))
    other_lab = processes(HOLD_SOCKET, str(labs / "t-ex-pmh" / "state" / "ssh-lb0"))
    look_alike = processes(SLEEP, f"-oControlPath={labs}/t-ex-pm/state/ssh-lb0", "-M", "labgen-t-ex-pm.lb0")
    for path in (labs / "t-ex-pm" / "state" / "ssh-lb0.a1b2c3", labs / "t-ex-pmh" / "state" / "ssh-lb0"):
        bound(path)
    found = set(host.holding_sockets_under(labs / "t-ex-pm"))
    assert found & {master, other_lab, look_alike} == {master}


def test_a_folder_others_may_write_to_proves_nothing(tmp_path, processes):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    processes(HOLD_SOCKET, str(shared / "ssh-lb0"))
    bound(shared / "ssh-lb0")
    assert host.holding_sockets_under(shared) == []


def test_a_recorded_process_is_that_process_only(processes):
    pid = processes(SLEEP)
    recorded = host.process_id(pid)
    assert recorded is not None and host.is_running(recorded)
    assert host.ProcessId.parse(str(recorded)) == recorded
    reused = host.ProcessId(pid, recorded.start + 1)  # the same PID, another process
    assert not host.is_running(reused)
    assert host.ProcessId.parse(f"{pid}\n") is None, "a PID alone is no record"
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    assert not host.is_running(recorded)


def test_what_a_process_runs_and_who_owns_it_come_from_the_kernel(processes):
    pid = processes(SLEEP, "systemd-nspawn", "-M", "labgen-x.lb0")
    assert host.executable(pid) == os.path.realpath(sys.executable)
    assert host.owner(pid) == os.getuid()
