"""Each container lab's own range of host UIDs: root in a node is host UID `base`, never 0.

Ranges are claimed host-wide (every LABGEN_HOME, every user), so two labs, two seats of a class,
never share one: a file per claimed slot under /run/labgen/uids (root's alone) names the lab holding it. A
slot whose lab is gone (down, or deleted behind labgen's back) is free again.
"""

from __future__ import annotations

from pathlib import Path

from labgen.errors import LabgenError
from labgen.host import HOST_TIMEOUT
from labgen.lab import Lab
from labgen.locks import host_dir, host_lock
from labgen.providers.nspawn.idmap import RANGE

LOCK = "uids.lock"
# Above systemd's own container range (0x00080000-0x6FFFFFFF, for `--private-users=pick`) and any
# /etc/subuid allocation: 0x70000000 up to 0xEFFFFFFF, 32768 labs of 65536 UIDs each.
FIRST = 0x70000000
COUNT = 0x8000


def base(lab: Lab) -> int:
    """The lab's first host UID: recorded in LAB/state/uid-base once claimed, claimed on first use."""
    record = lab.state_dir / "uid-base"
    if record.exists() and _holder(slots(), _slot_of(first := int(record.read_text()))) == _owner(lab):
        return first
    with host_lock(LOCK, "UID ranges of container labs", HOST_TIMEOUT):
        folder = slots()
        folder.mkdir(exist_ok=True)
        for slot in range(COUNT):
            if _free(folder, slot):
                (folder / str(slot)).write_text(_owner(lab))
                first = FIRST + slot * RANGE
                record.write_text(f"{first}\n")
                return first
    raise LabgenError(f"every UID range for container labs is taken ({COUNT}); take labs down")


def slots() -> Path:
    """The folder of claimed slots, a file each naming the lab that holds it."""
    return host_dir() / "uids"


def release(lab: Lab) -> None:
    """Give the lab's range back (down)."""
    record = lab.state_dir / "uid-base"
    if record.exists():
        slot = slots() / str(_slot_of(int(record.read_text())))
        if _holder(slot.parent, int(slot.name)) == _owner(lab):
            slot.unlink(missing_ok=True)
        record.unlink()


def _owner(lab: Lab) -> str:
    return str(lab.state_dir / "uid-base")


def _slot_of(first: int) -> int:
    return (first - FIRST) // RANGE


def _holder(folder: Path, slot: int) -> str | None:
    try:
        return (folder / str(slot)).read_text()
    except OSError:
        return None


def _free(folder: Path, slot: int) -> bool:
    """Unclaimed, or claimed by a lab whose record of it is gone (its state was deleted)."""
    holder = _holder(folder, slot)
    if holder is None:
        return True
    try:
        return int(Path(holder).read_text()) != FIRST + slot * RANGE
    except (OSError, ValueError):
        return True

