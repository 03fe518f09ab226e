"""The host toolkit: what labgen reads of, and does to, the machine it runs on, in one place.

Mounts come from /proc/self/mounts, processes from psutil. A process is picked by what labgen
recorded and owns (a PID with its start time, a cgroup: labgen.cgroups, a socket in a root-owned
folder), never by its name or command line: on a shared host any user can forge those.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import psutil

from labgen.errors import LabgenError

# seconds a host command labgen runs (ip, mount, virsh, ...) may take; past it, it is stuck and
# the CLI says which command it waited for (labgen.cli.main)
HOST_TIMEOUT = 60.0

# ---- commands ----------------------------------------------------------------------------------


def run(
    argv: list[str], *, timeout: float | None = HOST_TIMEOUT, check: bool = True, **kwargs
) -> subprocess.CompletedProcess[str]:
    """Run a host command, its output captured; with check, a failure is one LabgenError naming
    the command and its last line of output."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, **kwargs)
    if check and done.returncode != 0:
        raise LabgenError(f"{' '.join(argv)} failed: {last_line(done)}")
    return done


def labgen_argv(args: list[str]) -> list[str]:
    """This labgen run again as a command (-P, and run it with cwd="/": a labgen folder in the
    working directory never stands in for it)."""
    return [sys.executable, "-P", "-m", "labgen", *args]


def last_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = (done.stderr or done.stdout or "").strip().splitlines()
    return lines[-1] if lines else f"exit {done.returncode}"


# ---- mounts ------------------------------------------------------------------------------------


class Mount(NamedTuple):
    source: str
    target: str
    fstype: str
    options: str


_OCTAL = re.compile(r"\\([0-7]{3})")  # the kernel writes a blank in a path as \040


def mounts() -> list[Mount]:
    """Every mount this process sees, paths decoded."""
    with open("/proc/self/mounts") as table:
        return [Mount(*(_OCTAL.sub(_char, field) for field in line.split()[:4])) for line in table]


def _char(match: re.Match) -> str:
    return chr(int(match.group(1), 8))


def is_mount(path: Path | str) -> bool:
    return any(m.target == str(path) for m in mounts())


def mounts_inside(path: Path) -> list[str]:
    """Mount points strictly below path."""
    prefix = f"{path.resolve()}/"
    return [m.target for m in mounts() if m.target.startswith(prefix)]


# ---- processes ---------------------------------------------------------------------------------


def pids() -> list[int]:
    return psutil.pids()


def cmdline(pid: int) -> list[str]:
    """The process's argv, or [] when it is gone (or not readable)."""
    try:
        return psutil.Process(pid).cmdline()
    except psutil.Error:
        return []


def parent(pid: int) -> int | None:
    try:
        return psutil.Process(pid).ppid()
    except psutil.Error:
        return None


def children(pid: int) -> list[int]:
    try:
        return [child.pid for child in psutil.Process(pid).children()]
    except psutil.Error:
        return []


def pid_in_its_namespace(pid: int) -> int | None:
    """The PID the process has in its own (innermost) PID namespace: 1 for a container's init.
    (psutil does not read NSpid.)"""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("NSpid:"):
            return int(line.split()[-1])
    return None


def is_host_network_namespace(path: str | Path) -> bool:
    """Whether a namespace file (/proc/PID/ns/net, /run/netns/NAME) is the host's own network
    namespace, labgen's: False when it cannot be read."""
    try:
        return os.stat(path).st_ino == os.stat("/proc/self/ns/net").st_ino
    except OSError:
        return False


def in_own_network_namespace(pid: int) -> bool:
    """Whether the process has left the host's network namespace. A container's init is PID 1
    inside before it has made its own network namespace (nspawn makes it within the container's
    user namespace, after the clone): naming the namespace then would name the host's."""
    return alive(pid) and not is_host_network_namespace(f"/proc/{pid}/ns/net")


def alive(pid: int) -> bool:
    """Alive and not a zombie; reaps it when it is our own child, so a killed child counts as gone."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


class ProcessId(NamedTuple):
    """A process as labgen recorded it when it started it: a PID alone may be reused by anyone's
    process once the first one is gone, a PID with its start time never is."""

    pid: int
    start: int  # clock ticks after boot (/proc/PID/stat field 22)

    def __str__(self) -> str:
        return f"{self.pid} {self.start}"

    @classmethod
    def parse(cls, text: str) -> ProcessId | None:
        """From a record written by str(); None for anything else (an old record: a PID alone)."""
        words = text.split()
        if len(words) != 2 or not all(word.isdigit() for word in words):
            return None
        return cls(int(words[0]), int(words[1]))


def process_id(pid: int) -> ProcessId | None:
    """The process as it is now, to record (None when it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # after the command name, which may hold anything
    return ProcessId(pid, int(fields[19]))


def is_running(recorded: ProcessId) -> bool:
    """Whether the recorded process is still the one running under its PID (not a zombie)."""
    return process_id(recorded.pid) == recorded and alive(recorded.pid)


def owner(pid: int) -> int | None:
    """The process's real UID: a seat's processes are never 0."""
    try:
        return psutil.Process(pid).uids().real
    except psutil.Error:
        return None


def executable(pid: int) -> str:
    """The file the process runs, as the kernel knows it (not its command line, which it writes)."""
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return ""


def holding_sockets_under(folder: Path) -> list[int]:
    """Processes holding a unix socket bound below folder (ssh's ControlMaster binds its control
    socket there). bind(2) needs write access to the socket's folder, so below a folder only its
    owner may write to, the holder ran as that owner: a name or a command line proves nothing, a
    socket there does. Nothing is found below a folder that others may write to."""
    try:
        info = folder.stat()
    except OSError:
        return []
    if info.st_mode & 0o022:
        return []
    prefix = f"{folder}/"
    return sorted({
        conn.pid for conn in psutil.net_connections(kind="unix")
        if conn.pid and isinstance(conn.laddr, str) and conn.laddr.startswith(prefix)
        and conn.pid != os.getpid() and owner(conn.pid) == info.st_uid
    })


def stop(pids: list[int], timeout: float = 5, *, reaped: bool = True) -> None:
    """SIGTERM, SIGKILL whatever is left after timeout, and return once all are dead (and reaped,
    unless told not to wait for the host's init to reap what it adopted)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
    if reaped:
        wait_reaped(pids)


def wait_reaped(pids: list[int], timeout: float = 15) -> None:
    """Return once none of pids is left even as a zombie, so that a command that says a lab is gone
    leaves nothing of it in `ps` (a daemon's zombie lasts until the host's init reaps it)."""
    deadline = time.monotonic() + timeout
    while left := [pid for pid in pids if psutil.pid_exists(pid)]:
        if time.monotonic() > deadline:
            raise LabgenError(f"processes {left} of the lab have not exited after {timeout:g} s")
        with contextlib.suppress(ChildProcessError, OSError):
            for pid in left:
                os.waitpid(pid, os.WNOHANG)  # our own child: reap it ourselves
        time.sleep(0.05)
