"""Safety rules only a running lab can show: hostile text lands verbatim on a node, two writers of
one lab get one winner, a lab that died or whose lab.json broke is reported in one line and still
removed whole, and a broken lab fails its suite fast instead of stacking timeouts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from labgen import paths
from tests.hostcheck import leftovers, snapshot
from tests.labs import NSPAWN, RunningLab, labgen, ok

pytestmark = NSPAWN

# a page and a title that would run commands if any of them reached a shell or Ruby as code
PAGE = "LABGEN_EOF\n$(touch /tmp/labgen-pwned) `touch /tmp/labgen-pwned` ${HOME} 'q' \"dq\" \\\nEOF"
TITLE = "x\nputs 'ruby ran'; system('touch /tmp/labgen-pwned')\n#{`touch /tmp/labgen-pwned`}"


@pytest.fixture(scope="module")
def hostile():
    sets = [f"nodes.lb0.page={json.dumps(PAGE)}", f"title={json.dumps(TITLE)}"]
    lab = RunningLab("keepalived-rr", "t-safe", "nspawn", sets)
    yield lab
    lab.down()


def test_a_page_of_shell_text_is_served_verbatim(hostile):
    served = hostile.exec("client", "curl -s --max-time 3 http://203.0.113.10/")
    assert served == PAGE + "\n"
    for where in ("lb0", "lb1"):
        assert hostile.exec(where, "ls /tmp/labgen-pwned 2>/dev/null || echo absent").strip() == "absent"
    assert not Path("/tmp/labgen-pwned").exists()


def test_two_ups_of_one_lab_give_one_winner_and_one_line():
    before = snapshot()
    argv = [sys.executable, "-m", "labgen", "up", "keepalived-rr", "--provider", "nspawn", "--name", "t-race"]
    first = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lock = paths.home() / "locks" / "t-race.lock"
    try:
        deadline = time.monotonic() + 30
        while not (lock.exists() and lock.read_text().startswith("pid")):
            assert time.monotonic() < deadline and first.poll() is None, "the first up never took the lab"
            time.sleep(0.05)
        second = labgen("up", "keepalived-rr", "--provider", "nspawn", "--name", "t-race")
        assert second.returncode == 2, second.stdout + second.stderr
        expected = f"lab t-race is being changed by pid {first.pid} (labgen up); try again when it is done"
        assert second.stderr.strip() == f"labgen: error: {expected}"
        downed = labgen("down", "t-race")
        assert downed.returncode == 2 and "being changed by" in downed.stderr
        assert first.wait(timeout=300) == 0
    finally:
        if first.poll() is None:
            first.send_signal(signal.SIGINT)
            first.wait(timeout=60)
        ok("down", "t-race")
    assert leftovers(before, ["labgen-t-race"]) == {}


def test_a_node_that_died_is_reported_in_one_line(hostile):
    pid_file = paths.labs_dir() / "t-safe" / "state" / "lb1.pid"
    os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)  # behind labgen's back
    deadline = time.monotonic() + 20
    while json.loads(labgen("status", "t-safe", "--json").stdout)["state"] != "degraded":
        assert time.monotonic() < deadline, "status never noticed the dead node"
        time.sleep(0.2)
    seen = labgen("status", "t-safe", "--json")
    assert seen.returncode == 1, seen.stdout  # a lab that is not up: status exits 1
    report = json.loads(seen.stdout)
    assert "lb1 is" in report["problem"] and "labgen down t-safe" in report["problem"]
    for command in (["verify", "t-safe"], ["failover", "t-safe"]):
        result = labgen(*command)
        assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
        assert "lb1 is" in result.stderr


def test_a_corrupt_lab_json_is_shown_broken_and_down_still_removes_everything(hostile):
    (paths.labs_dir() / "t-safe" / "lab.json").write_text('{"name": "t-safe", "nodes": [')
    seen = labgen("status", "--json")
    assert seen.returncode == 1, seen.stdout
    listed = json.loads(seen.stdout)
    mine = next(lab for lab in listed if lab["name"] == "t-safe")
    assert mine["state"] == "broken" and "unreadable" in mine["problem"]
    assert "nothing of it is left" in ok("down", "t-safe")
    assert leftovers(hostile.before, ["labgen-t-safe"]) == {}
    assert not (paths.labs_dir() / "t-safe").exists()


def test_a_swapped_priority_fails_verify_fast_and_once():
    """The preferred node's priority set below the backup's: the suite must say so at its first
    behaviour test and skip the others, not let each wait out its own timeout."""
    lab = RunningLab("keepalived-rr", "t-swap", "nspawn", [])
    try:
        conf = "/etc/keepalived/keepalived.conf"
        lab.exec("lb0", f"sed -i 's/priority 100/priority 20/' {conf} && systemctl restart keepalived")
        started = time.monotonic()
        result = lab.verify("-k", "failover or split_brain or vip")
        took = time.monotonic() - started
        assert result.returncode != 0, result.stdout[-3000:]
        assert "needs a settled lab, and it did not settle" in result.stdout, result.stdout[-3000:]
        # one settle bound (10 x advert + 20 s, plus LVS's serving bound on a host with ip_vs), once
        assert took < 150, f"verify took {took:.0f} s to fail"
    finally:
        lab.down()


def test_auto_failback_off_on_both_nodes_fails_verify_fast():
    """heartbeat without failback keeps the VIP on lb1 after the first failover: the suite must say
    so once, within its settle bound, where it used to hang for minutes in a blocking restart."""
    lab = RunningLab("heartbeat-nginx", "t-nofb", "nspawn", [])
    try:
        for node in ("lb0", "lb1"):
            lab.exec(node, "sed -i 's/^auto_failback on/auto_failback off/' /etc/ha.d/ha.cf")
        lab.exec("lb1", "systemctl restart heartbeat")  # the backup re-reads it; lb0 keeps the VIP
        lab.exec("lb0", "systemctl restart heartbeat")
        started = time.monotonic()
        result = lab.verify("-k", "failover or split_brain")
        took = time.monotonic() - started
        assert result.returncode != 0, result.stdout[-3000:]
        # heartbeat's settle bound: 4 x initdead + 40 s, twice at most (the failing test, its heal)
        assert took < 300, f"verify took {took:.0f} s to fail"
    finally:
        lab.down()
