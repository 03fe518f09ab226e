"""labgen's cgroups: every lab's processes live in groups labgen made, bounded, found through them.

A lab has the group labgen/LAB (LAB: the lab's namespace name) in every cgroup hierarchy the host
mounts, and each node (or a VM lab's daemons) a group below it. Only root makes a cgroup, and a
process cannot leave one it cannot write to, so membership is an identity no seat can forge (a
command line or a name can be): labgen counts, freezes and kills a lab's processes through it, and
its limits bound a node and a seat whatever runs inside.

Hosts differ. On cgroup v2 alone, the controllers are in the one unified hierarchy. On a hybrid
host (this project's machines: docs/platform.md) pids, memory, cpu, blkio and freezer are v1
hierarchies, and the cgroup2 hierarchy at /sys/fs/cgroup/unified has no controllers but still has
cgroup.kill and cgroup.freeze. Each limit is written where its controller is; one the host lacks
is reported by limit(), never silently dropped.
"""

from __future__ import annotations

import contextlib
import os
import signal
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from labgen import host
from labgen.errors import LabgenError
from labgen.poll import wait_for

TOP = "labgen"
# v1 controllers labgen puts a lab's processes under; cpuset and devices need more than a mkdir
V1_CONTROLLERS = ("pids", "memory", "cpu", "blkio", "freezer")
TRACKING_V1 = "name=systemd"  # the named hierarchy a container's systemd tracks its services in
KILL_TIMEOUT = 15.0
# labgen's whole tree against the host's other work. At the default weight every lab together
# counted as one process of the host's under load: with five test workers beside them, pacemaker
# labs' re-provisioning ran out its 900 s. The weights below it share this between labs and nodes.
MAX_CPU_WEIGHT = 10000  # cgroup v2's scale, 100 the default
TOP_CPU_WEIGHT = MAX_CPU_WEIGHT


@dataclass(frozen=True)
class Limits:
    """What one group may use. memory_mb bounds RAM with no swap on top; weights are cgroup v2's
    scale (1-10000, 100 the default), shares for v1's cpu."""

    pids: int
    memory_mb: int
    cpu_weight: int = 100
    io_weight: int = 100


@dataclass(frozen=True)
class Hierarchy:
    root: Path
    controllers: frozenset[str]
    v2: bool


@cache
def hierarchies() -> tuple[Hierarchy, ...]:
    """The cgroup hierarchies labgen uses on this host: the unified one and the v1 ones holding a
    controller it sets, or the systemd tracking one."""
    found = []
    for mount in host.mounts():
        if mount.fstype == "cgroup2":
            controllers = _read(Path(mount.target) / "cgroup.controllers").split()
            found.append(Hierarchy(Path(mount.target), frozenset(controllers), True))
        elif mount.fstype == "cgroup":
            options = set(mount.options.split(","))
            if options & {*V1_CONTROLLERS, TRACKING_V1}:
                found.append(Hierarchy(Path(mount.target), frozenset(options), False))
    return tuple(found)


def supported() -> dict[str, bool]:
    """Which limits this host can enforce (labgen doctor)."""
    have = set().union(*(h.controllers for h in hierarchies())) if hierarchies() else set()
    return {"pids": "pids" in have, "memory": "memory" in have, "cpu": "cpu" in have,
            "io": any(_io_weight_file(h) for h in hierarchies()),
            "kill": any(h.v2 for h in hierarchies()) or "freezer" in have}


class Group:
    """labgen/PARTS in every hierarchy; only labgen (root) creates, fills and removes it."""

    def __init__(self, *parts: str):
        for part in parts:
            if not part or "/" in part or part in (".", ".."):
                raise LabgenError(f"cgroup name {part!r}: one plain folder name per level")
        self.relative = Path(TOP, *parts)

    def __repr__(self) -> str:
        return f"Group({str(self.relative)!r})"

    def child(self, name: str) -> Group:
        return Group(*self.relative.parts[1:], name)

    def paths(self) -> list[Path]:
        return [h.root / self.relative for h in hierarchies()]

    def create(self) -> None:
        for hierarchy in hierarchies():
            if hierarchy.v2:
                _delegate_controllers(hierarchy, self.relative)
            (hierarchy.root / self.relative).mkdir(parents=True, exist_ok=True)
            if "cpu" in hierarchy.controllers:
                _cpu_weight(hierarchy, hierarchy.root / TOP, TOP_CPU_WEIGHT)

    def argv(self, argv: list[str]) -> list[str]:
        """argv run inside the group from its first instruction: a shell moves itself ($$) into
        the group, then becomes argv (same PID), whose children stay in it."""
        join = " && ".join(f"echo $$ > {path}/cgroup.procs" for path in self.paths())
        return ["sh", "-c", f'{join} && exec "$@"', "sh", *argv]

    def limit(self, limits: Limits) -> list[str]:
        """Apply limits; the names of those this host cannot enforce."""
        applied: set[str] = set()
        for hierarchy in hierarchies():
            folder = hierarchy.root / self.relative
            applied |= _limit_in(hierarchy, folder, limits)
        return [name for name in ("pids", "memory", "cpu", "io") if name not in applied]

    def pids(self) -> list[int]:
        """Every process in the group and below, from the hierarchy that sees all of them (the
        unified one, else the freezer)."""
        root = self._census_root()
        if root is None or not root.is_dir():
            return []
        found: list[int] = []
        for procs in root.rglob("cgroup.procs"):
            found += [int(pid) for pid in _read(procs).split()]
        return found

    def contains(self, pid: int) -> bool:
        """Whether the live process pid is in this group or below (its /proc/PID/cgroup)."""
        census = self._census_hierarchy()
        if census is None:
            return False
        wanted = f"/{self.relative}"
        for line in _read(Path(f"/proc/{pid}/cgroup")).splitlines():
            number, controllers, path = line.split(":", 2)
            if _line_is(census, number, controllers):
                return path == wanted or path.startswith(wanted + "/")
        return False

    def freeze(self, frozen: bool) -> None:
        """Freeze (or thaw) every process in the group, and wait until the kernel says so."""
        state = self._freezer_file()
        if state.name == "freezer.state":
            state.write_text("FROZEN" if frozen else "THAWED")
        else:
            state.write_text("1" if frozen else "0")
        wanted = "frozen" if frozen else "thawed"
        wait_for(self.frozen, lambda seen: seen == frozen, expected=f"{self} {wanted}", timeout=10,
                 interval=0.05)

    def frozen(self) -> bool:
        state = self._freezer_file()
        if state.name == "freezer.state":
            return _read(state).strip() in ("FROZEN", "FREEZING")
        return "frozen 1" in _read(state.with_name("cgroup.events"))

    def kill(self, timeout: float = KILL_TIMEOUT) -> None:
        """SIGKILL every process in the group and below, forks racing the kill included, and
        return once none is left. cgroup.kill does it atomically; without it, the group is frozen
        first so that nothing forks between the look and the kill. A frozen process dies only
        once thawed (v1's freezer), so the group and those below it are thawed after the signal."""
        if not self.pids():
            return
        kill_file = next((p / "cgroup.kill" for p in self.paths() if (p / "cgroup.kill").exists()), None)
        if kill_file is not None:
            kill_file.write_text("1")
        else:
            self.freeze(True)
            for pid in self.pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self._thaw_all()
        wait_for(self.pids, lambda left: not left, expected=f"no process left in {self}", timeout=timeout,
                 interval=0.05)

    def remove(self) -> None:
        """The group and what was made below it (a container's systemd makes its own), deepest
        first; a folder still holding a process stays, and remains() says so."""
        for path in self.paths():
            if not path.is_dir():
                continue
            for folder in sorted((p for p in path.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
                with contextlib.suppress(OSError):
                    folder.rmdir()
            with contextlib.suppress(OSError):
                path.rmdir()

    def remains(self) -> list[Path]:
        return [path for path in self.paths() if path.is_dir()]

    def _thaw_all(self) -> None:
        """Thaw the group and every group below it: v1's freezer freezes each one on its own."""
        for state in self._freezer_file().parent.rglob(self._freezer_file().name):
            if state.name == "freezer.state" and _read(state).strip() != "THAWED":
                _write(state, "THAWED")
            elif state.name == "cgroup.freeze" and _read(state).strip() == "1":
                _write(state, "0")

    def _census_hierarchy(self) -> Hierarchy | None:
        for want in (lambda h: h.v2, lambda h: "freezer" in h.controllers):
            for hierarchy in hierarchies():
                if want(hierarchy):
                    return hierarchy
        return None

    def _census_root(self) -> Path | None:
        hierarchy = self._census_hierarchy()
        return None if hierarchy is None else hierarchy.root / self.relative

    def _freezer_file(self) -> Path:
        for hierarchy in hierarchies():
            if "freezer" in hierarchy.controllers and not hierarchy.v2:
                return hierarchy.root / self.relative / "freezer.state"
        for hierarchy in hierarchies():
            if hierarchy.v2:
                return hierarchy.root / self.relative / "cgroup.freeze"
        raise LabgenError("this host has no cgroup freezer (neither v1 freezer nor cgroup v2)")


def lab_group(namespace: str) -> Group:
    """A lab's own group: its nodes (or its VM daemons) below it."""
    return Group(namespace)


def lab_groups() -> list[str]:
    """The names of every lab group on the host (tests: what a lab left behind)."""
    found: set[str] = set()
    for hierarchy in hierarchies():
        top = hierarchy.root / TOP
        if top.is_dir():
            found |= {entry.name for entry in top.iterdir() if entry.is_dir()}
    return sorted(found)


def remove_top() -> None:
    """labgen's own folder in each hierarchy, once no lab uses it."""
    for hierarchy in hierarchies():
        with contextlib.suppress(OSError):
            (hierarchy.root / TOP).rmdir()


# ---- limits, per controller ----------------------------------------------------------------


def _limit_in(hierarchy: Hierarchy, folder: Path, limits: Limits) -> set[str]:
    applied = set()
    controllers = hierarchy.controllers
    if "pids" in controllers:
        _write(folder / "pids.max", str(limits.pids))
        applied.add("pids")
    if "memory" in controllers:
        _limit_memory(hierarchy, folder, limits.memory_mb * 2**20)
        applied.add("memory")
    if "cpu" in controllers:
        _cpu_weight(hierarchy, folder, limits.cpu_weight)
        applied.add("cpu")
    if (io := _io_weight_file(hierarchy)) is not None:
        _write(folder / io, f"default {limits.io_weight}" if hierarchy.v2 else str(_v1_io(limits.io_weight)))
        applied.add("io")
    return applied


def _cpu_weight(hierarchy: Hierarchy, folder: Path, weight: int) -> None:
    """cgroup v2's weight (1-10000), or v1's shares on the same scale (100 = 1024)."""
    if hierarchy.v2:
        _write(folder / "cpu.weight", str(weight))
    else:
        _write(folder / "cpu.shares", str(max(2, weight * 1024 // 100)))


def _limit_memory(hierarchy: Hierarchy, folder: Path, limit: int) -> None:
    """RAM capped, and no swap on top of it (a capped node must not page the host's disk)."""
    if hierarchy.v2:
        _write(folder / "memory.max", str(limit))
        if (folder / "memory.swap.max").exists():
            _write(folder / "memory.swap.max", "0")
        return
    memsw = folder / "memory.memsw.limit_in_bytes"
    # memsw (RAM + swap) may never be below the RAM limit: raise in the order that keeps that true
    current = int(_read(folder / "memory.limit_in_bytes") or 0)
    order = [("memory.limit_in_bytes", limit), ("memory.memsw.limit_in_bytes", limit)]
    if memsw.exists() and limit > current:
        order.reverse()
    for name, value in order:
        if (folder / name).exists():
            _write(folder / name, str(value))


def _io_weight_file(hierarchy: Hierarchy) -> str | None:
    """Where an I/O weight goes: v2 io.weight, v1 blkio.weight (CFQ) or blkio.bfq.weight (BFQ);
    none on a v1 blkio with neither scheduler (throttling only, as here)."""
    if hierarchy.v2:
        return "io.weight" if "io" in hierarchy.controllers else None
    if "blkio" not in hierarchy.controllers:
        return None
    return next((name for name in ("blkio.weight", "blkio.bfq.weight") if (hierarchy.root / name).exists()),
                None)


def _v1_io(weight: int) -> int:
    """v2's 1-10000 scale (100 default) onto v1's 10-1000 (500 default)."""
    return max(10, min(1000, weight * 5))


def _delegate_controllers(hierarchy: Hierarchy, relative: Path) -> None:
    """On cgroup v2 a controller works in a group only once every ancestor enables it for its
    children: enable what labgen limits, from the hierarchy's root down to the group's parent."""
    wanted = [c for c in ("pids", "memory", "cpu", "io") if c in hierarchy.controllers]
    if not wanted:
        return
    folder = hierarchy.root
    for part in relative.parts:
        enabled = _read(folder / "cgroup.subtree_control").split()
        missing = [c for c in wanted if c not in enabled]
        if missing:
            _write(folder / "cgroup.subtree_control", " ".join(f"+{c}" for c in missing))
        folder = folder / part
        folder.mkdir(exist_ok=True)


def _line_is(hierarchy: Hierarchy, number: str, controllers: str) -> bool:
    """Whether a /proc/PID/cgroup line (number:controllers:path) is this hierarchy's."""
    if hierarchy.v2:
        return number == "0" and controllers == ""
    return bool(controllers) and set(controllers.split(",")) <= hierarchy.controllers


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _write(path: Path, value: str) -> None:
    try:
        path.write_text(value)
    except OSError as exc:
        raise LabgenError(f"cannot set {path} to {value}: {exc.strerror}") from None
