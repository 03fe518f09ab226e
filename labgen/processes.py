"""Processes labgen started, looked at by PID (never by name: the host is shared)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

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
