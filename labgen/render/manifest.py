"""The proof that labgen rendered a folder: its marker lists every file render wrote, with its
sha256. `render --force` replaces a folder only when the proof holds, so a folder holding anything
of the user's (a file render did not write, or one changed since) is never deleted.

Besides what render wrote, a rendered folder may hold what running it makes, which labgen may
throw away: `logs/` (the suite's records), `__pycache__/` folders and `.pytest_cache/` (plain
`pytest`), and `.vagrant/` once no machine of plain `vagrant up` is left in it (after
`vagrant destroy`: its machines would be left running with nothing to manage them).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from labgen.lab import MARKER

FORMAT = "labgen rendered lab, version 1"
DISPOSABLE = ("logs", ".pytest_cache", ".vagrant")  # top-level folders, see above
# a machine plain vagrant still has: vagrant deletes its id at `vagrant destroy`
VAGRANT_MACHINES = ".vagrant/machines/*/*/id"


def write(folder: Path) -> None:
    """The marker for everything in folder, which render has just filled."""
    files = {name: _sha256(folder / name) for name in sorted(_files(folder))}
    (folder / MARKER).write_text(json.dumps({"format": FORMAT, "files": files}, indent=1) + "\n")


def foreign(folder: Path) -> str | None:
    """What in folder labgen cannot prove it rendered, in words; None when the proof holds."""
    if not (folder / MARKER).exists():
        return f"it holds files labgen did not write ({min(os.listdir(folder))}, no {MARKER})"
    listed = _listed(folder)
    if listed is None:
        return f"its {MARKER} does not list what labgen rendered (not labgen's, or an older labgen's)"
    if machine := next(folder.glob(VAGRANT_MACHINES), None):
        return f"{machine.relative_to(folder)}: vagrant still has this machine (`vagrant destroy -f` there)"
    folders = {str(parent) for name in listed for parent in Path(name).parents}
    for name in sorted(_entries(folder)):
        path = folder / name
        if name in listed:
            if _sha256(path) != listed[name]:
                return f"{name} was changed since labgen rendered it"
        elif not (name in folders and path.is_dir() and not path.is_symlink()) and name != MARKER:
            return f"{name} is not something labgen rendered"
    return None


def _listed(folder: Path) -> dict[str, str] | None:
    """The marker's list of files; None unless it is one labgen wrote."""
    marker = folder / MARKER
    if marker.is_symlink() or not marker.is_file():
        return None
    try:
        data = json.loads(marker.read_text())
    except (OSError, ValueError, RecursionError):
        return None
    if not (isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("files"), dict)):
        return None
    return data["files"]


def _entries(folder: Path) -> list[str]:
    """Every file, folder and link under folder (relative, never followed), except the disposable."""
    found = []
    for root, dirs, files in os.walk(folder):
        here = Path(root).relative_to(folder)
        dirs[:] = [d for d in dirs if d != "__pycache__" and not (here == Path(".") and d in DISPOSABLE)]
        found += [str(here / name) for name in [*dirs, *files]]
    return found


def _files(folder: Path) -> list[str]:
    return [name for name in _entries(folder) if (folder / name).is_file()]


def _sha256(path: Path) -> str | None:
    """The file's sha256; None for anything but a regular file (a link, a folder, a pipe)."""
    if path.is_symlink() or not path.is_file():
        return None
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()
