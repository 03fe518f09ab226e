"""One writer per lab: `up`, `down`, `verify` and `failover` of the same lab never overlap; and
host-wide locks for what all labs of a host share (nspawn's tmpfs).

The lock is a file outside the lab's folder (down deletes the folder), held with flock(2): the
kernel releases it when its holder exits, however it exits, so a killed labgen never leaves a lab
locked. The file says who holds it, for the one line the loser prints.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from labgen import paths
from labgen.errors import LabgenError


@contextmanager
def lab_lock(name: str, action: str) -> Iterator[None]:
    """Hold lab `name` for `action`, or fail at once naming the holder."""
    folder = paths.home() / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with open(os.open(folder / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600), "r+") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = file.read().strip() or "another labgen"
            raise LabgenError(f"lab {name} is being changed by {holder}; try again when it is done") from None
        file.truncate()
        file.write(f"pid {os.getpid()} (labgen {action})\n")
        file.flush()
        try:
            yield
        finally:
            file.truncate(0)


@contextmanager
def host_lock(path: Path, what: str, timeout: float) -> Iterator[None]:
    """Wait (bounded) for the host-wide lock at path: labs of every user and LABGEN_HOME share it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(os.open(path, os.O_RDWR | os.O_CREAT, 0o600)) as file:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LabgenError(f"{what}: {path} stayed locked for {timeout:.0f} s") from None
                time.sleep(0.05)
        yield
