"""labgen's cgroups on this host's real hierarchies: a group bounds, freezes, finds and kills what
runs in it, a fork loop included (needs root, as every test that touches a lab)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid

import pytest

from labgen import cgroups
from labgen.poll import wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="cgroups are root's")
FORK_LOOP = "while true; do sleep 60 & done"
HOG = "b = bytearray(128 * 2**20); b[::4096] = bytes(len(b) // 4096)  # 128 MB, every page touched"


@pytest.fixture
def group():
    lab = cgroups.lab_group(f"lgtest-{uuid.uuid4().hex[:8]}")
    node = lab.child("lb0")
    node.create()
    yield node
    lab.kill()
    lab.remove()
    assert lab.remains() == [], "the test's group is left"


def start_in(group: cgroups.Group, *argv: str) -> subprocess.Popen:
    """argv, in the group from its first instruction (as labgen starts a node)."""
    return subprocess.Popen(group.argv(list(argv)), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_pids_max_stops_a_fork_loop_and_kill_ends_it(group):
    if not cgroups.supported()["pids"]:
        pytest.skip("no pids controller on this host")
    assert "pids" not in group.limit(cgroups.Limits(pids=30, memory_mb=256))
    loop = start_in(group, "sh", "-c", FORK_LOOP)
    held = wait_for(lambda: len(group.pids()), lambda n: n >= 25, expected="the loop to fill its group",
                    timeout=20)
    assert held <= 30, f"{held} processes in a group capped at 30"
    assert group.contains(loop.pid) and not group.contains(os.getpid())
    group.kill()
    assert group.pids() == []
    loop.wait(timeout=10)


@pytest.mark.parametrize("killed", ["node", "lab"])
def test_a_frozen_group_is_killed_too(group, killed):
    """A frozen node dies with its lab's kill too: v1's freezer freezes each group on its own."""
    sleeper = start_in(group, "sleep", "120")
    wait_for(group.pids, bool, expected="a process in the group", timeout=10)
    group.freeze(True)
    assert group.frozen()
    (group if killed == "node" else cgroups.Group(*group.relative.parts[1:-1])).kill()
    assert group.pids() == [] and sleeper.wait(timeout=10) != 0


def test_memory_max_is_enforced(group):
    if not cgroups.supported()["memory"]:
        pytest.skip("no memory controller on this host")
    group.limit(cgroups.Limits(pids=30, memory_mb=32))
    hog = start_in(group, sys.executable, "-c", HOG)
    assert hog.wait(timeout=60) == -signal.SIGKILL, "a process of 128 MB ran in a group capped at 32 MB"


def test_names_stay_below_labgens_folder():
    for bad in ("", "..", "a/b", "."):
        with pytest.raises(Exception, match="one plain folder name"):
            cgroups.Group(bad)


def test_labgens_tree_weighs_more_than_one_process_of_the_host(group):
    """At the default weight every lab together counted as one process of the host's under load
    (pacemaker labs starved beside five test workers): labgen's folder carries the top weight."""
    if not cgroups.supported()["cpu"]:
        pytest.skip("no cpu controller on this host")
    for hierarchy in cgroups.hierarchies():
        if "cpu" in hierarchy.controllers:
            name = "cpu.weight" if hierarchy.v2 else "cpu.shares"
            weight = int((hierarchy.root / cgroups.TOP / name).read_text())
            top = cgroups.TOP_CPU_WEIGHT
            assert weight == (top if hierarchy.v2 else top * 1024 // 100), f"{name} {weight}"
