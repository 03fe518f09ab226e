"""What a lab may leave on the host, for tests that assert `down` leaves nothing behind."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

from labgen import cgroups, host
from labgen.providers.nspawn import provider as nspawn
from labgen.providers.nspawn import uids


def snapshot() -> dict[str, set[str]]:
    """What a lab could leave behind on the host: host links, namespaces, mounts, nspawns."""
    links = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True).stdout
    spaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    # by the executable the kernel runs: labgen starts nspawn by its full path (and a command line
    # proves nothing), so a match on "systemd-nspawn ..." saw none and every leak check passed
    nspawns = {_cmd(p) for p in os.listdir("/proc") if p.isdigit() and _is_nspawn(p)}
    return {
        "links": {line.split()[0] for line in links.splitlines()},
        "netns": {line.split()[0] for line in spaces.splitlines()},
        "mounts": set(Path("/proc/mounts").read_text().splitlines()),
        "processes": nspawns,
        "cgroups": set(cgroups.lab_groups()),
        "orphaned containers": _orphaned_container_inits(),
        "uid ranges": {f"{slot.name}: {slot.read_text()}" for slot in uids.slots().glob("*")},
    }


def leftovers(before: dict[str, set[str]], ours: list[str], settle: float = 30) -> dict[str, set[str]]:
    """What appeared since `before` and is ours (other labs may come and go meanwhile), and is
    still there after `settle` seconds: another lab's reset or down may be passing through a state
    the checks below see (an init between its nspawn's end and its reaping), and a leftover stays.

    Host links are compared whole: no lab, ours or not, may ever add one."""
    deadline = time.monotonic() + settle
    while (found := _appeared(before, ours)) and time.monotonic() < deadline:
        time.sleep(1)
    return found


def _appeared(before: dict[str, set[str]], ours: list[str]) -> dict[str, set[str]]:
    after = snapshot()
    found = {"links": after["links"] ^ before["links"]}
    for kind in ("netns", "mounts", "processes", "cgroups", "uid ranges"):
        found[kind] = {x for x in after[kind] - before[kind] if any(_names(x, o) for o in ours)}
    # nameless once their nspawn is gone, and never right on a host: every new one is a leak
    found["orphaned containers"] = after["orphaned containers"] - before["orphaned containers"]
    if not after["processes"]:  # no container left on the host: nspawn's tmpfs must be gone
        found["mounts"] |= {m for m in after["mounts"] - before["mounts"] if m.startswith("labgen-nspawn ")}
    return {kind: items for kind, items in found.items() if items}


def _names(text: str, name: str) -> bool:
    """Whether text names `name` itself: labgen-t-ex-pmh.lb0 is lab t-ex-pmh's, not t-ex-pm's (two
    modules' labs, up at once in CI). A name runs on in letters, digits and dashes; labgen joins a
    node to its lab with a dot."""
    return re.search(rf"{re.escape(name)}(?![\w-])", text) is not None


def _orphaned_container_inits() -> set[str]:
    """Containers running on after their systemd-nspawn died: a PID 1 of its own PID namespace
    whose parent is the host's init ("PID (command)")."""
    return {
        f"{pid} ({' '.join(host.cmdline(pid))})"
        for pid in host.pids()
        if pid != 1 and host.parent(pid) == 1 and host.pid_in_its_namespace(pid) == 1
    }


def _is_nspawn(pid: str) -> bool:
    return host.executable(int(pid)) == nspawn.NSPAWN


def _cmd(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
