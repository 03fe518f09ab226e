"""One writer per lab: `up`, `down`, `verify` and `failover` of the same lab never overlap; and
host-wide locks for what all labs of a host share (nspawn's tmpfs).

The lock is a file outside the lab's folder (down deletes the folder), held with flock(2): the
kernel releases it when its holder exits, however it exits, so a killed labgen never leaves a lab
locked. The file says who holds it, for the one line the loser prints.
"""

from __future__ import annotations

import fcntl
import os
import stat
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


# Root's alone, where host-wide locks and claims live: in a folder any account may write (/run/lock,
# /tmp) a seat could make the file first and hold it, or swap it for a link.
HOST_DIR = Path("/run/labgen")


def host_dir() -> Path:
    """HOST_DIR, made if need be, and refused unless it is a folder only root can change."""
    HOST_DIR.mkdir(mode=0o755, exist_ok=True)
    info = HOST_DIR.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o022:
        raise LabgenError(f"{HOST_DIR} is not a folder only root can change; remove it and try again")
    return HOST_DIR


@contextmanager
def host_lock(name: str, what: str, timeout: float) -> Iterator[None]:
    """Wait (bounded) for the host-wide lock `name` in host_dir(): labs of every LABGEN_HOME share it."""
    path = host_dir() / name
    with open(os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)) as file:
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
