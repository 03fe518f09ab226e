"""Seat accounts: local users labgen makes for a class and removes with it, and no others.

An account carries labgen's mark in its comment (GECOS) field, which its user cannot change
(Debian's chfn leaves the full name to root), and its UID is recorded in class.json when labgen
makes it: `class down` ends processes and removes files by that UID only while the account still
has it and the mark. `class up` refuses a seat name that is already someone else's account.

Every seat is in the group labgen-seats, which pam_limits bounds (limits.d): a seat's own
processes, a fork loop's included, stop at NPROC.
"""

from __future__ import annotations

import grp
import pwd
import secrets
import shutil
import subprocess
from pathlib import Path

import psutil

from labgen.errors import LabgenError
from labgen.host import HOST_TIMEOUT, last_line
from labgen.poll import wait_for

MARK = "labgen seat"
GROUP = "labgen-seats"
LIMITS = Path("/etc/security/limits.d/labgen-seats.conf")
NPROC = 256  # a seat's processes (threads count), whatever it runs; a lab's nodes are not its own
# the folders every account may write to: what a seat leaves there goes with it
SHARED_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
END_TIMEOUT = 30.0


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


def bound_seats() -> None:
    """The seats' group, and pam_limits' process limit for its members (every login: su, ssh)."""
    if not _group_exists(GROUP):
        _run(["groupadd", "--system", GROUP])
    LIMITS.write_text(f"# labgen class: each seat account's own processes; `labgen class down` removes "
                      f"this file\n@{GROUP} hard nproc {NPROC}\n")


def unbound_seats() -> None:
    """What bound_seats() made, once no seat is left."""
    LIMITS.unlink(missing_ok=True)
    if _group_exists(GROUP):
        _run(["groupdel", GROUP])


def create(name: str, lab: str) -> tuple[int, str]:
    """The account (bash, in the seats' group, a home of its own that no one else reads) with a
    fresh password: its UID, to record, and the password, for the roster."""
    password = secrets.token_urlsafe(12)
    if not exists(name):
        _run(["useradd", "--create-home", "--shell", "/bin/bash", "--user-group", "--groups", GROUP,
              "--comment", f"{MARK} (lab {lab})", name])
    account = pwd.getpwnam(name)
    Path(account.pw_dir).chmod(0o700)
    _run(["chpasswd"], input=f"{name}:{password}\n")
    return account.pw_uid, password


def seat_uid(name: str, recorded: int | None) -> int | None:
    """The account's UID while it is still the seat labgen made: it has labgen's mark and the UID
    recorded when it was made (none is recorded when `class up` was cut short right after
    useradd: the mark alone says it is labgen's, and such an account never had a password out)."""
    try:
        account = pwd.getpwnam(name)
    except KeyError:
        return None
    if not account.pw_gecos.startswith(MARK) or recorded not in (None, account.pw_uid):
        return None
    return account.pw_uid


def lock(name: str) -> None:
    """No more logins: the password locked and the account expired (su, ssh and cron refuse it)."""
    if is_seat(name):
        _run(["usermod", "--lock", "--expiredate", "1", name])


def end_processes(name: str, uid: int) -> None:
    """Every process of the UID, a fork loop's and those that ignore SIGTERM included: a process
    that takes the UID and sends SIGKILL to all it may signal (kill -1: the UID's own), again until
    none is left. Nothing is picked by a name or a command line."""
    gid = pwd.getpwuid(uid).pw_gid
    kill_all = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "kill", "-KILL", "-1"]

    def kill_and_look() -> list[int]:
        subprocess.run(kill_all, capture_output=True, timeout=HOST_TIMEOUT, check=False)
        return processes_of(uid)

    wait_for(kill_and_look, lambda left: not left, timeout=END_TIMEOUT, interval=0.1,
             expected=f"no process of {name} (uid {uid}) left after SIGKILL")


def processes_of(uid: int) -> list[int]:
    """Processes running with the UID (real, effective or saved, as userdel counts them), zombies
    not yet reaped included."""
    return [process.pid for process in psutil.process_iter(["uids"])
            if process.info["uids"] and uid in process.info["uids"]]


def remove_files(uid: int) -> None:
    """The UID's files in the folders every account may write to. find neither follows a symbolic
    link (-P) nor leaves the folder's file system (-xdev), so nothing outside them is touched; a
    file that goes while it looks (another seat's, removed at the same time) is no error."""
    done = subprocess.run(["find", "-P", *SHARED_FOLDERS, "-xdev", "-ignore_readdir_race", "-uid", str(uid),
                           "-delete"],
                          capture_output=True, text=True, timeout=HOST_TIMEOUT * 5, check=False)
    if done.returncode != 0:
        raise LabgenError(f"files of uid {uid} stay in {', '.join(SHARED_FOLDERS)}: {last_line(done)}")


def remove(name: str) -> None:
    """The home, then the account (and its mail spool), if labgen made it. The home goes first: if
    it cannot, the account stays (locked) for the next `class down` to find."""
    if not is_seat(name):
        return
    home = Path(pwd.getpwnam(name).pw_dir)
    if home.is_dir() and not home.is_symlink():
        try:
            shutil.rmtree(home)
        except OSError as exc:
            raise LabgenError(f"home {home} stays: {exc}") from None
    _run(["userdel", "--remove", name])


def _group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def _run(argv: list[str], *, input: str | None = None) -> None:
    done = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=HOST_TIMEOUT,
                          check=False)
    if done.returncode != 0:
        raise LabgenError(f"{argv[0]} failed (exit {done.returncode}): {done.stderr.strip()}")
