"""One writer per lab: `up`, `down`, `verify` and `failover` of the same lab never overlap.

The lock is a file outside the lab's folder (down deletes the folder), held with flock(2): the
kernel releases it when its holder exits, however it exits, so a killed labgen never leaves a lab
locked. The file says who holds it, for the one line the loser prints.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

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
