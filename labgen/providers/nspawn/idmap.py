"""ID-mapped bind mounts: a node's files seen through the node's own UID range.

A node runs in a private user namespace (its root is host UID `base`, not 0), yet its layers on
disk stay owned by 0, as debootstrap made them: the box's root is shared by every lab, and a node's
writable layer can be thrown away and made again. The kernel's ID-mapped mounts (mount_setattr
MOUNT_ATTR_IDMAP, Linux 5.12; overlayfs over them, 5.19) show both layers shifted by `base`,
without copying or chown-ing a file. systemd-nspawn 252 cannot map an overlay itself
(--private-users-ownership=map fails on overlayfs), so the overlay is mounted over mapped layers.
util-linux 2.38 (Debian 12) has no X-mount.idmap: the three syscalls are called here.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

from labgen.errors import LabgenError
from labgen.poll import wait_for

RANGE = 65536  # UIDs per node: 0..65535 inside, as a Debian system expects
_SYS_OPEN_TREE, _SYS_MOVE_MOUNT, _SYS_MOUNT_SETATTR = 428, 429, 442  # x86_64
_OPEN_TREE_CLONE, _AT_EMPTY_PATH = 1, 0x1000
_MOVE_MOUNT_F_EMPTY_PATH = 0x4
_MOUNT_ATTR_IDMAP = 0x00100000
_AT_FDCWD = -100


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


_libc = ctypes.CDLL(None, use_errno=True)


def _syscall(number: int, *args: object) -> int:
    result = _libc.syscall(number, *args)
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))
    return result


@contextlib.contextmanager
def user_namespace(base: int) -> Iterator[int]:
    """A file descriptor of a user namespace mapping 0..RANGE-1 to base..base+RANGE-1.

    Made by a short-lived `unshare --user` whose maps are written from here (as root), kept open
    only while the mounts that need it are made."""
    child = subprocess.Popen(["unshare", "--user", "--", "sleep", "30"], stdin=subprocess.DEVNULL)
    try:
        ours = os.readlink("/proc/self/ns/user")
        wait_for(lambda: _readlink(f"/proc/{child.pid}/ns/user"), lambda ns: ns not in (None, ours),
                 expected="unshare to enter its user namespace", timeout=10, interval=0.01)
        for kind in ("uid_map", "gid_map"):
            Path(f"/proc/{child.pid}/{kind}").write_text(f"0 {base} {RANGE}\n")
        fd = os.open(f"/proc/{child.pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    finally:
        child.kill()
        child.wait()
    try:
        yield fd
    finally:
        os.close(fd)


def bind_mapped(source: Path, target: Path, userns: int) -> None:
    """Bind source on target (made if missing), every owner shifted through the user namespace."""
    target.mkdir(parents=True, exist_ok=True)
    flags = _OPEN_TREE_CLONE | os.O_CLOEXEC
    try:
        tree = _syscall(_SYS_OPEN_TREE, _AT_FDCWD, os.fsencode(source), flags)
        try:
            attr = _MountAttr(attr_set=_MOUNT_ATTR_IDMAP, userns_fd=userns)
            _syscall(_SYS_MOUNT_SETATTR, tree, b"", _AT_EMPTY_PATH, ctypes.byref(attr), ctypes.sizeof(attr))
            _syscall(_SYS_MOVE_MOUNT, tree, b"", _AT_FDCWD, os.fsencode(target), _MOVE_MOUNT_F_EMPTY_PATH)
        finally:
            os.close(tree)
    except OSError as exc:
        raise LabgenError(
            f"cannot mount {source} ID-mapped on {target} ({exc.strerror}): private user namespaces "
            "for containers need Linux 5.19 or later on a filesystem that supports ID-mapped mounts "
            "(ext4, xfs, btrfs, tmpfs)"
        ) from exc


def _readlink(path: str) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None
