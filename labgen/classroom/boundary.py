"""The privilege boundary between a seat and the host: sudo runs exactly one command as root.

`/etc/sudoers.d/labgen-seats` lets the class's seat accounts run labgen-seat (and nothing else) as
root without a password; labgen-seat (labgen.classroom.seat) finds the seat's lab from the account
sudo says ran it, in a root-owned seat file under /etc/labgen/seats, and runs a short list of verbs
on that lab only. Everything the rule names must be root's alone, or a seat could swap the code
that sudo runs as root: that is checked before the rule is written.
"""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from pathlib import Path

from labgen.errors import LabgenError
from labgen.host import HOST_TIMEOUT

SUDOERS = Path("/etc/sudoers.d/labgen-seats")
SEATS_DIR = Path("/etc/labgen/seats")
_SAFE_PATH = re.compile(r"^/[A-Za-z0-9/._+-]+$")  # nothing sudoers would read as syntax


def helper() -> Path:
    """labgen-seat beside the running labgen (the same virtualenv's bin)."""
    return Path(sys.prefix) / "bin" / "labgen-seat"


def check_helper() -> Path:
    """The helper, once it is sure that only root can change what sudo will run."""
    path = helper()
    if not path.is_file():
        raise LabgenError(f"{path} is missing: install labgen again (scripts/install) to get labgen-seat")
    if not _SAFE_PATH.match(str(path)):
        raise LabgenError(f"{path}: a path sudoers can name safely has no spaces or special characters")
    code = Path(__file__).resolve().parent.parent
    for piece in (path, Path(sys.executable).resolve(), code):
        _check_root_only(piece)
    return path


def seal_answers() -> list[Path]:
    """Every blueprint's breakages and exercises readable by their owner only, so that no seat
    reads what an exercise broke or how to mend it; the files it had to change."""
    from labgen import paths
    from labgen.model import breakages, exercises

    changed = []
    for name in (breakages.FILE, exercises.FILE):
        for path in sorted(paths.blueprints_dir().glob(f"*/{name}")):
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)
                changed.append(path)
    return changed


def install(seats: dict[str, str], home: Path) -> None:
    """Seat files (account -> lab, LABGEN_HOME) and the sudoers rule for these seats."""
    path = check_helper()
    SEATS_DIR.mkdir(parents=True, exist_ok=True, mode=0o755)
    for account, lab in seats.items():
        seat_file(account).write_text(json.dumps({"lab": lab, "home": str(home)}) + "\n")
    _write_sudoers(sorted(seats), path)


def remove(accounts: list[str]) -> None:
    for account in accounts:
        seat_file(account).unlink(missing_ok=True)
    SUDOERS.unlink(missing_ok=True)
    for folder in (SEATS_DIR, SEATS_DIR.parent):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


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

