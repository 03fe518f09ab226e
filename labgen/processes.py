"""Processes labgen started, looked at by PID (never by name: the host is shared)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from labgen.errors import LabgenError

# seconds a host command labgen runs (ip, mount, virsh, ...) may take; past it, it is stuck and
# the CLI says which command it waited for (labgen.cli.main)
HOST_TIMEOUT = 60.0


def alive(pid: int) -> bool:
    """Alive and not a zombie; reaps it when it is our own child, so a killed child counts as gone."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def naming(path: Path) -> list[int]:
    """Processes whose command line names path: what labgen started for a lab (ssh masters, their
    proxies) names the lab's own directory, which nothing else on the host does."""
    text = str(path)
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            with contextlib.suppress(OSError):
                if text in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    found.append(int(entry.name))
    return found


def stop(pids: list[int], timeout: float = 5) -> None:
    """SIGTERM, SIGKILL whatever is left after timeout, and return once all are reaped."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
    wait_reaped(pids)


def wait_reaped(pids: list[int], timeout: float = 15) -> None:
    """Return once none of pids is left even as a zombie, so that a command that says a lab is gone
    leaves nothing of it in `ps` (a daemon's zombie lasts until the host's init reaps it)."""
    deadline = time.monotonic() + timeout
    while left := [pid for pid in pids if _listed(pid)]:
        if time.monotonic() > deadline:
            raise LabgenError(f"processes {left} of the lab have not exited after {timeout:g} s")
        with contextlib.suppress(ChildProcessError, OSError):
            for pid in left:
                os.waitpid(pid, os.WNOHANG)  # our own child: reap it ourselves
        time.sleep(0.05)


def _listed(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()
