"""A student at a seat, for the class tests: a login shell of the seat's account, as `su - seat`
gives one, and labgen's installation closed to the seats for a class (class up refuses otherwise)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from labgen.classroom import boundary


def as_seat(seat: str, command: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """A login shell of the seat's account, as `su - seat` gives a student."""
    return subprocess.run(["su", "-", seat, "-c", command], capture_output=True, text=True, timeout=300,
                          input=input, stdin=None if input is not None else subprocess.DEVNULL)


def seat_ok(seat: str, command: str, input: str | None = None) -> str:
    done = as_seat(seat, command, input)
    assert done.returncode == 0, f"{seat}: {command}: exit {done.returncode}\n{done.stdout}{done.stderr}"
    return done.stdout


def refused(seat: str, command: str) -> str:
    done = as_seat(seat, command)
    assert done.returncode != 0, f"{seat} was allowed: {command}\n{done.stdout}"
    return done.stderr


@contextmanager
def installation_mode(path: Path, mode: int) -> Iterator[None]:
    """path (a folder of labgen's installation) with mode for a while, its own mode put back after."""
    was = path.stat().st_mode & 0o7777
    path.chmod(mode)
    try:
        yield
    finally:
        path.chmod(was)


@contextmanager
def closed_installation(seats: list[str]) -> Iterator[None]:
    """Each folder of labgen's installation that the seats could read closed to them (CI clones
    the checkout where it likes, readable by all; closing it closes what it holds), and each put
    back as it was after."""
    changed: list[tuple[Path, int]] = []
    try:
        for path in boundary.installation():
            if who := boundary.readable_by_seats(path, seats):
                changed.append((path, path.stat().st_mode & 0o7777))
                path.chmod(changed[-1][1] & ~(0o007 if "o" in who else 0) & ~(0o070 if "g" in who else 0))
        yield
    finally:
        for path, mode in reversed(changed):
            path.chmod(mode)
