"""The privilege boundary between a seat and the host: sudo runs exactly one command as root.

`/etc/sudoers.d/labgen-seats` lets the class's seat accounts run labgen-seat (and nothing else) as
root without a password; labgen-seat (labgen.classroom.seat) finds the seat's lab from the account
sudo says ran it, in a root-owned seat file under /etc/labgen/seats, and runs a short list of verbs
on that lab only. Everything the rule names must be root's alone, or a seat could swap the code
that sudo runs as root: that is checked before the rule is written.

Seats read nothing of labgen's installation (code, blueprints with the exercises' answers, the
virtualenv, git objects): `class up` checks that a folder on the way to each is closed to them.
A seat runs at most HELPERS labgen-seat commands at once: each holds one of the seat's slots, a
file under SLOTS_DIR locked with flock(2), for as long as it runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import grp
import json
import os
import re
import signal
import stat
import subprocess
import sys
from pathlib import Path

from labgen import paths
from labgen.classroom import accounts
from labgen.errors import LabgenError
from labgen.host import HOST_TIMEOUT
from labgen.poll import wait_for

SUDOERS = Path("/etc/sudoers.d/labgen-seats")
SEATS_DIR = Path("/etc/labgen/seats")
SLOTS_DIR = Path("/run/labgen-seat")  # below /run, where only root makes anything
HELPERS = 4  # labgen-seat commands a seat runs at once (an ssh session is one)
HELPER_END_TIMEOUT = 30.0
_SAFE_PATH = re.compile(r"/[A-Za-z0-9/._+-]+")  # nothing sudoers would read as syntax


def helper() -> Path:
    """labgen-seat beside the running labgen (the same virtualenv's bin)."""
    return Path(sys.prefix) / "bin" / "labgen-seat"


def check_helper() -> Path:
    """The helper, once it is sure that only root can change what sudo will run."""
    path = helper()
    if not path.is_file():
        raise LabgenError(f"{path} is missing: install labgen again (scripts/install) to get labgen-seat")
    if not _SAFE_PATH.fullmatch(str(path)):
        raise LabgenError(f"{path}: a path sudoers can name safely has no spaces or special characters")
    code = Path(__file__).resolve().parent.parent
    for piece in (path, Path(sys.executable).resolve(), code):
        _check_root_only(piece)
    return path


def check_installation(seats: list[str]) -> None:
    """Before anything is made: no seat can read labgen's installation (they never need to: their
    `labgen` is sudo to labgen-seat), or one line naming the folder and the command that closes it."""
    for path in installation():
        if who := readable_by_seats(path, seats):
            raise LabgenError(f"seats could read labgen's installation at {path}, the exercises' answers "
                              f"with it: chmod {who}-rwx {path} (class down leaves it so)")


def readable_by_seats(path: Path, seats: list[str]) -> str:
    """Who of the seats may reach path: "o" (every account), "g" (through its group), both; ""
    when a folder on the way from / lets no seat pass."""
    groups = {accounts.GROUP, *seats}
    if all(_searchable_by(piece, groups) for piece in reversed(path.parents)):
        return _searchable_by(path, groups)
    return ""


def installation() -> list[Path]:
    """What a seat must not read: the checkout labgen runs from (.git included) and its git
    directory if that lives elsewhere (a worktree's), the virtualenv, the package, its data."""
    package = Path(__file__).resolve().parent.parent
    checkout = package.parent
    found = [checkout, *_git_dirs(checkout)] if (checkout / ".git").exists() else []
    found += [Path(sys.prefix).resolve(), package, paths.data_dir().resolve()]
    return list(dict.fromkeys(found))


def _git_dirs(checkout: Path) -> list[Path]:
    """A worktree's .git is a file naming its git directory, which keeps its objects in the main
    repository's (its commondir)."""
    dot_git = checkout / ".git"
    if not dot_git.is_file():
        return []
    git_dir = (checkout / dot_git.read_text().removeprefix("gitdir:").strip()).resolve()
    common = git_dir / "commondir"
    return [(git_dir / common.read_text().strip()).resolve() if common.exists() else git_dir]


def _searchable_by(folder: Path, groups: set[str]) -> str:
    """Who of the seats may pass through folder: "o" (every account), "g" (its group is, or could
    become, a seat's: a seat's own, labgen-seats, or a GID no group has yet), both, or "" (none)."""
    mode, gid = (info := folder.stat()).st_mode, info.st_gid
    who = "o" if mode & stat.S_IXOTH else ""
    return f"g{who}" if mode & stat.S_IXGRP and _group_name(gid) in {*groups, None} else who


def _group_name(gid: int) -> str | None:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return None


def take_slot(account: str) -> None:
    """One of the account's HELPERS slots, held until this process exits (the kernel lets go of a
    flock however its holder ends), or one line saying the seat runs as many commands as it may."""
    for slot in _slots(account):
        fd = os.open(slot, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            os.close(fd)
    raise LabgenError(f"{account} runs {HELPERS} labgen commands already, the most a seat runs at once: "
                      "try again when one has ended")


def helpers(account: str) -> list[int]:
    """The labgen-seat processes running for the account: its slots' holders as the kernel lists
    them (/proc/locks), never as anyone names them."""
    slots = set()
    for slot in _slots(account, make=False):
        with contextlib.suppress(FileNotFoundError):
            info = slot.stat()
            slots.add(f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}")
    held = [line.split() for line in Path("/proc/locks").read_text().splitlines()]
    return sorted({int(fields[4]) for fields in held if fields[1] == "FLOCK" and fields[5] in slots})


def end_helpers(account: str) -> None:
    """SIGTERM to the account's running labgen-seat commands (each passes it to its labgen), and
    return once none is left: the class goes, and its seats' commands with it."""
    for pid in helpers(account):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    wait_for(lambda: helpers(account), lambda left: not left, timeout=HELPER_END_TIMEOUT, interval=0.1,
             expected=f"no labgen-seat command of {account} running after SIGTERM")


def remove_slots(account: str) -> None:
    for slot in _slots(account, make=False):
        slot.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        SLOTS_DIR.rmdir()  # once the class's last seat is gone


def _slots(account: str, *, make: bool = True) -> list[Path]:
    """The account's slot files, in a folder that must be root's alone (made if missing)."""
    if make:
        SLOTS_DIR.mkdir(mode=0o700, exist_ok=True)
        info = SLOTS_DIR.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o077:
            raise LabgenError(f"{SLOTS_DIR} is not a folder of root's alone; ask the teacher to remove it")
    return [SLOTS_DIR / f"{account}.{number}" for number in range(1, HELPERS + 1)]


def install(seats: dict[str, str], home: Path) -> None:
    """Seat files (account -> lab, LABGEN_HOME) and the sudoers rule for these seats."""
    path = check_helper()
    SEATS_DIR.mkdir(parents=True, exist_ok=True, mode=0o755)
    for account, lab in seats.items():
        seat_file(account).write_text(json.dumps({"lab": lab, "home": str(home)}) + "\n")
    _write_sudoers(sorted(seats), path)


def remove(names: list[str]) -> None:
    """The sudo rule and the seat files: no seat starts labgen-seat any more."""
    try:
        for account in names:
            seat_file(account).unlink(missing_ok=True)
        SUDOERS.unlink(missing_ok=True)
        for folder in (SEATS_DIR, SEATS_DIR.parent):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
    except OSError as exc:
        raise LabgenError(f"the seats' sudo rule or seat files stay: {exc}; remove {SUDOERS} and "
                          f"{SEATS_DIR} by hand, then `labgen class down` again") from None


def seat_file(account: str) -> Path:
    return SEATS_DIR / f"{account}.json"


def seat_of(account: str) -> dict[str, str] | None:
    """The seat an account sits at, from its root-owned seat file; None when it is no seat."""
    path = seat_file(account)
    try:
        info = path.lstat()
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o022:
        raise LabgenError(f"{path} is not root's alone; ask the teacher to run `labgen class up` again")
    return json.loads(path.read_text())


def _write_sudoers(accounts: list[str], path: Path) -> None:
    rule = (
        "# labgen class: each seat account may run labgen-seat as root, and nothing else.\n"
        "# labgen-seat acts on the seat's own lab only (labgen/classroom/seat.py); `labgen class down`\n"
        "# removes this file.\n"
        f"{', '.join(accounts)} ALL=(root) NOPASSWD: {path}\n"
    )
    draft = SUDOERS.with_name(".labgen-seats.new")  # sudo skips names with a dot
    SUDOERS.parent.mkdir(parents=True, exist_ok=True)
    draft.write_text(rule)
    draft.chmod(0o440)
    check = subprocess.run(["visudo", "-cqf", str(draft)], capture_output=True, text=True,
                           timeout=HOST_TIMEOUT, check=False)
    if check.returncode != 0:
        draft.unlink()
        raise LabgenError(f"the sudoers rule for the seats did not pass visudo: {check.stderr.strip()}")
    draft.rename(SUDOERS)


def _check_root_only(path: Path) -> None:
    """path and every folder above it: owned by root, writable by no one else, or (like /tmp) a
    sticky folder, where no one but root may rename or delete what root owns."""
    for piece in (path, *path.parents):
        info = piece.stat()
        shared = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        if info.st_uid != 0 or (shared and not (stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_ISVTX)):
            raise LabgenError(f"{piece} can be changed by someone other than root, so seats could change "
                              "what sudo runs for them: install labgen where only root can write")

