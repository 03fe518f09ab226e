"""Seat accounts: local users labgen makes for a class and removes with it, and no others.

An account carries labgen's mark in its comment (GECOS) field; `class down` removes only marked
accounts, and `class up` refuses a seat name that is already someone's account.
"""

from __future__ import annotations

import pwd
import secrets
import subprocess

from labgen.errors import LabgenError
from labgen.host import HOST_TIMEOUT

MARK = "labgen seat"


def exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def is_seat(name: str) -> bool:
    try:
        return pwd.getpwnam(name).pw_gecos.startswith(MARK)
    except KeyError:
        return False


def check_free(names: list[str]) -> None:
    """Before anything is made: a seat name that is a user's account is never taken over."""
    taken = [name for name in names if exists(name) and not is_seat(name)]
    if taken:
        raise LabgenError(f"account {taken[0]} exists and is not a labgen seat; labgen will not touch it "
                          "(remove it, or give the class other seats with --prefix)")


def create(name: str, lab: str) -> str:
    """The account (home, bash) with a fresh password, which is returned for the roster."""
    password = secrets.token_urlsafe(12)
    if not exists(name):
        _run(["useradd", "--create-home", "--shell", "/bin/bash", "--user-group",
              "--comment", f"{MARK} (lab {lab})", name])
    _run(["chpasswd"], input=f"{name}:{password}\n")
    return password


def remove(name: str) -> None:
    """The account and its home, if labgen made it; nothing else."""
    if is_seat(name):
        _run(["userdel", "--remove", name], ok_codes=(0, 12))  # 12: home already gone


def _run(argv: list[str], *, input: str | None = None, ok_codes: tuple[int, ...] = (0,)) -> None:
    done = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=HOST_TIMEOUT,
                          check=False)
    if done.returncode not in ok_codes:
        raise LabgenError(f"{argv[0]} failed (exit {done.returncode}): {done.stderr.strip()}")
