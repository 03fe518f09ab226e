"""What N seats need from the host's kernel, checked before a class starts.

Measured here (docs/classroom-scale.md): a container node's systemd holds about 8 inotify
instances, and every container's are counted against root (the creator of their user namespaces),
so the default fs.inotify.max_user_instances of 128 stops the 8th two-node lab with "Too many
open files" inside systemd. Limits that can be raised are raised for the class and put back by
`class down`; what cannot be raised (memory, disk) is refused with the numbers.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from labgen.errors import LabgenError
from labgen.providers import provider_class

INOTIFY = "fs.inotify.max_user_instances"
WATCHES = "fs.inotify.max_user_watches"
PIDS = "kernel.pid_max"
# per container node: inotify measured (17 instances for a two-node keepalived-rr lab on Debian 12,
# rounded up); watches and PIDs are estimates, checked against the limit without what is in use
PER_NODE = {INOTIFY: 10, WATCHES: 400, PIDS: 40}
HEADROOM = 1.5  # what the host itself and the teacher's own labs use besides


@dataclass(frozen=True)
class Limit:
    key: str
    needed: int
    have: int

    @property
    def enough(self) -> bool:
        return self.have >= self.needed


def sysctls(nodes: int, headroom: float = HEADROOM) -> list[Limit]:
    """The raisable kernel limits `nodes` more container nodes need, over what is in use."""
    return [Limit(key, int(_in_use(key) + per * nodes * headroom), read(key))
            for key, per in PER_NODE.items()]


def check_room(nodes: int, provider: str, home: Path, who: str = "the class") -> None:
    """Memory and disk for `nodes` more machines, or one line with the numbers."""
    memory_mb = nodes * provider_class(provider).node_memory_mb
    available = _meminfo("MemAvailable") // 1024
    if memory_mb > available:
        raise LabgenError(f"{who} needs about {memory_mb} MB of memory and this host has {available} MB "
                          "available: fewer seats or labs, or a bigger host (labgen doctor shows how many "
                          "fit)")
    disk = provider_class(provider).node_disk_mb * nodes
    free = shutil.disk_usage(_existing(home)).free // 2**20
    if disk > free:
        raise LabgenError(f"{who} needs about {disk} MB of disk under {home} and {free} MB are free")


def check_lab(nodes: int, provider: str, home: Path) -> None:
    """What one `labgen up` needs. It raises no kernel limit: a lab has no `class down` to put one
    back, so a short limit is refused with the numbers and the command that raises it."""
    check_room(nodes, provider, home, who="this lab")
    if not provider_class(provider).shares_host_kernel:
        return
    for limit in sysctls(nodes, headroom=1):
        if not limit.enough:
            raise LabgenError(f"this lab's {nodes} containers need {limit.key} of at least {limit.needed} "
                              f"and it is {limit.have}: raise it (sysctl -w {limit.key}={limit.needed}), or "
                              "take a lab down; `labgen class up` raises it for a class")


def capacity(nodes_per_seat: dict[str, int], provider: str, home: Path) -> dict:
    """How many seats of each blueprint this host holds (memory and disk, as check_room counts
    them), and the kernel limits as they are: `labgen doctor`."""
    memory = _meminfo("MemAvailable") // 1024
    free = shutil.disk_usage(_existing(home)).free // 2**20
    node = provider_class(provider)
    seats = {bp: min(memory // (n * node.node_memory_mb), free // (n * node.node_disk_mb))
             for bp, n in nodes_per_seat.items()}
    return {"seats": seats, "memory_available_mb": memory, "disk_free_mb": free,
            "limits": {key: read(key) for key in PER_NODE}}


CONTAINER_SEATS_AT_ONCE = 4


def seats_at_once(provider: str) -> int:
    """How many seats class up starts at once by default. Measured on 2 cores (BENCHMARKS.md,
    class-vm-parallel): 8 restored VM seats took 48.8 s one at a time, 35.8 s two, 40.1 s four:
    under TCG each restore is CPU-bound, so VMs go one per core. Containers wait on systemd and the
    election more than on the CPU: four at once."""
    if provider_class(provider).shares_host_kernel:
        return CONTAINER_SEATS_AT_ONCE
    return max(1, os.cpu_count() or 1)


def raise_limits(limits: list[Limit]) -> dict[str, list[int]]:
    """Raise what is short; for each, [the old value, the one written], for restore()."""
    raised = {}
    for limit in limits:
        if not limit.enough:
            raised[limit.key] = [limit.have, limit.needed]
            write(limit.key, limit.needed)
    return raised


def restore(raised: dict[str, list[int] | int]) -> None:
    """Put back what raise_limits changed, unless someone changed it since (a value of its own,
    higher for labs of theirs: lowering it would stop their next `up`). A record from before
    labgen kept the value it wrote holds the old value alone: that is put back unless higher."""
    for key, value in raised.items():
        old, written = value if isinstance(value, list) else (value, None)
        if written is None:
            write(key, min(read(key), old))
        elif read(key) == written:
            write(key, old)


def read(key: str) -> int:
    return int(_path(key).read_text().split()[0])


def write(key: str, value: int) -> None:
    _path(key).write_text(f"{value}\n")


def _in_use(key: str) -> int:
    """inotify instances held now (all users); for other limits, nothing is counted."""
    if key != INOTIFY:
        return 0
    found = 0
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            found += sum(os.readlink(fd) == "anon_inode:inotify" for fd in fd_dir.iterdir())
        except OSError:
            continue
    return found


def _path(key: str) -> Path:
    return Path("/proc/sys", *key.split("."))


def _meminfo(field: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def _existing(path: Path) -> Path:
    while not path.exists():
        path = path.parent
    return path


def describe_node(resources: dict[str, int]) -> str:
    """A node's bounds (a blueprint's resources) as the roster and doctor say them."""
    return (f"at most {resources['pids']} processes, {resources['memory_mb']} MiB of memory (no swap), "
            f"a {resources['disk_mb']} MiB writable layer, cpu weight {resources['cpu_weight']}")
