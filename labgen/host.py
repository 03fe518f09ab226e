"""The host toolkit: what labgen reads of, and does to, the machine it runs on, in one place.

Mounts come from /proc/self/mounts, processes from psutil. A process is always picked by PID or by
a command line that names a lab's own path, never by a program's name alone: the host is shared.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
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


def naming(path: Path, *, as_prefix: bool = False) -> list[int]:
    """Processes whose command line names path or a file below it: what labgen started for a lab
    (ssh masters, their proxies) names the lab's own directory, which nothing else on the host does.
    The path is matched whole: lab t-ex-pm's folder is not named by /labs/t-ex-pmh/... (CI: the down
    of one killed the other's containers). as_prefix: any name that starts with path's last part."""
    pattern = re.compile(re.escape(str(path)) + ("" if as_prefix else r"""(?![^/\s'":])"""))
    return [
        process.pid
        for process in psutil.process_iter(["cmdline"])
        if process.pid != os.getpid() and pattern.search(" ".join(process.info["cmdline"] or []))
    ]


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
