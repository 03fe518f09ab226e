"""A class of three on real containers: each seat's account reaches its own lab and nothing else.

The seats act as students do, through `su - seatNN -c 'labgen ...'` (their `labgen` is sudo to
labgen-seat); the checks try what a curious student would: another seat's lab, its files, its
network namespace, root on the host. Then a broken lab is reset, an exercise handed to the class
is mended by a student who cannot read its answer, and class down must leave no
account, lab, namespace, sudo rule or raised limit behind.
"""

from __future__ import annotations

import json
import os
import pwd
import shlex
import subprocess
from pathlib import Path

import pytest

from labgen import paths
from labgen.classroom import boundary, limits
from labgen.providers.nspawn import uids
from tests.hostcheck import leftovers, snapshot
from tests.labs import NSPAWN, labgen, ok, wait_for_the_hosts_class

pytestmark = NSPAWN
SEATS = ["seat01", "seat02", "seat03"]


def as_seat(seat: str, command: str) -> subprocess.CompletedProcess[str]:
    """A login shell of the seat's account, as `su - seat` gives a student."""
    return subprocess.run(["su", "-", seat, "-c", command], capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)


def seat_ok(seat: str, command: str) -> str:
    done = as_seat(seat, command)
    assert done.returncode == 0, f"{seat}: {command}: exit {done.returncode}\n{done.stdout}{done.stderr}"
    return done.stdout


def refused(seat: str, command: str) -> str:
    done = as_seat(seat, command)
    assert done.returncode != 0, f"{seat} was allowed: {command}\n{done.stdout}"
    return done.stderr


@pytest.fixture(scope="module")
def klass():
    wait_for_the_hosts_class("seat")
    before = snapshot()
    sysctls = {key: limits.read(key) for key in limits.PER_NODE}
    labgen("class", "down")  # leftovers of an interrupted run
    try:
        ok("class", "up", "keepalived-rr", "--seats", str(len(SEATS)), timeout=900)
        yield json.loads(ok("class", "roster", "--json"))
    finally:
        labgen("class", "down", timeout=600)
    assert leftovers(before, [f"labgen-{seat}" for seat in SEATS] + SEATS) == {}, "class down left things"
    assert {key: limits.read(key) for key in limits.PER_NODE} == sysctls, "a raised limit was not put back"


def test_the_roster_names_each_seat_with_its_own_password(klass) -> None:
    assert [row["seat"] for row in klass] == SEATS
    assert all(row["state"] == "up" and row["password"] for row in klass), klass
    assert len({row["password"] for row in klass}) == len(SEATS), "every seat needs its own password"
    record = paths.home() / "class" / "class.json"
    assert record.stat().st_mode & 0o077 == 0, "the roster holds passwords: root's alone"


def test_a_seat_reaches_its_own_lab_without_naming_it(klass) -> None:
    report = json.loads(seat_ok("seat02", "labgen status --json"))
    assert report["name"] == "seat02" and report["vip_holders"] == ["lb0"], report
    assert seat_ok("seat02", "labgen exec lb0 -- hostname").strip() == "vrrpmaster"


def test_a_seat_passes_its_quick_verify(klass) -> None:
    out = seat_ok("seat01", "labgen verify --quick")
    assert "passed" in out and " failed" not in out, out[-2000:]


@pytest.mark.parametrize("command", [
    "labgen status seat01",                   # another seat's lab, by name
    "labgen exec seat01 lb0 -- true",
    "labgen up keepalived-rr --name mine",    # a verb that is not for seats
    "labgen down seat02",
    "labgen verify --junit /etc/cron.d/x",    # an option that writes as root
])
def test_a_seat_is_refused_what_is_not_its_own(klass, command) -> None:
    assert "error" in refused("seat02", command)


def test_the_helper_acts_only_for_a_seat_sudo_names(klass) -> None:
    refused("seat02", f"{boundary.helper()} status")  # not through sudo: not even started as root
    env = {key: value for key, value in os.environ.items() if not key.startswith("SUDO_")}
    alone = subprocess.run([str(boundary.helper()), "status"], capture_output=True, text=True, env=env,
                           timeout=60)
    assert alone.returncode != 0 and "through sudo" in alone.stderr, alone.stderr
    forged = subprocess.run([str(boundary.helper()), "status"], capture_output=True, text=True, timeout=60,
                            env={**env, "SUDO_USER": "seat01", "SUDO_UID": "0"})
    assert forged.returncode != 0 and "not a seat" in forged.stderr, forged.stderr


def test_a_seat_cannot_read_another_seats_lab_or_secrets(klass) -> None:
    other = paths.labs_dir() / "seat01"
    for path in (other / "lab.json", other / "state" / "id_ed25519", paths.home() / "class" / "class.json"):
        assert "Permission denied" in refused("seat02", f"cat {shlex.quote(str(path))}"), path


def test_a_seat_cannot_enter_another_labs_namespaces(klass) -> None:
    refused("seat02", "ip netns exec labgen-seat01 true")
    refused("seat02", "nsenter --net=/run/netns/labgen-seat01-lb0 true")


def test_a_seat_is_not_root_on_the_host(klass) -> None:
    refused("seat02", "sudo -n true")
    refused("seat02", f"sudo -n {boundary.helper().parent / 'python'} -c 1")
    rule = boundary.SUDOERS.read_text()
    assert rule.rstrip().endswith(f"NOPASSWD: {boundary.helper()}"), rule


def test_root_in_a_node_is_not_root_on_the_host(klass) -> None:
    uid_map = seat_ok("seat03", "labgen exec lb0 -- cat /proc/self/uid_map").split()
    assert uid_map[0] == "0" and int(uid_map[1]) >= uids.FIRST, f"node root maps to host uid {uid_map[1]}"
    base = int(uid_map[1])
    daemons = [pid for pid in os.listdir("/proc") if pid.isdigit() and _comm(pid) == "keepalived"]
    owners = {os.stat(f"/proc/{pid}").st_uid for pid in daemons}
    assert base in owners and 0 not in owners, f"keepalived runs as host uids {owners}"
    with pytest.raises(KeyError):
        pwd.getpwuid(base)  # nobody on the host


def test_the_client_seat_runs_as_the_student(klass) -> None:
    assert seat_ok("seat03", "labgen exec client -- id -un").strip() == "seat03"
    page = seat_ok("seat03", "labgen exec client -- curl -s --max-time 5 http://203.0.113.10/")
    assert page.strip(), "the VIP serves the client seat"


def test_reset_mends_a_broken_seat_and_keeps_its_secrets(klass) -> None:
    record = paths.labs_dir() / "seat03" / "lab.json"
    before = record.read_text()  # networks, addresses, secrets (the VRRP password)
    seat_ok("seat03", "labgen exec lb0 -- sh -c 'echo broken > /etc/keepalived/keepalived.conf; "
                      "systemctl restart keepalived; touch /root/mine'")
    refused("seat03", "labgen verify --quick")
    out = seat_ok("seat03", "labgen reset")
    assert "as new" in out, out
    refused("seat03", "labgen exec lb0 -- ls /root/mine")
    seat_ok("seat03", "labgen verify --quick")
    assert record.read_text() == before, "reset changed the lab's addresses or secrets"
    password = json.loads(before)["params"]["auth_pass"]
    assert password in seat_ok("seat03", "labgen exec lb0 -- cat /etc/keepalived/keepalived.conf")


def test_class_status_shows_each_seat(klass) -> None:
    rows = {row["seat"]: row for row in json.loads(ok("class", "status", "--json"))}
    assert set(rows) == set(SEATS)
    assert all(row["lab"] == "up" and row["vip_holder"] == "lb0" for row in rows.values()), rows
    assert rows["seat03"]["last_activity"].startswith("exec"), rows["seat03"]  # its last: the reset test
    assert rows["seat01"]["last_verify"] and "passed" in rows["seat01"]["last_verify"], rows["seat01"]


def test_an_exercise_for_the_class_is_mended_by_a_student_who_cannot_read_the_answer(klass) -> None:
    ok("class", "exercise", "start", "twin-hostnames", timeout=600)
    assert all(exercise_of(seat).startswith("twin-hostnames: not checked yet") for seat in SEATS)
    for name in ("exercises.yaml", "breakages.yaml"):
        answers = paths.blueprints_dir() / "keepalived-rr" / name
        assert answers.stat().st_mode & 0o077 == 0, f"class up left {answers} readable by others"
        assert "Permission denied" in refused("seat02", f"cat {shlex.quote(str(answers))}"), answers
    assert "not for seats" in refused("seat02", "labgen exercise solve")
    broken = as_seat("seat02", "labgen exercise check")
    assert broken.returncode == 1 and "not mended yet" in broken.stdout, broken.stdout + broken.stderr
    assert seat_ok("seat02", "labgen exercise hint").startswith("hint 1 of ")
    seat_ok("seat02", "labgen exec lb1 -- sh -c 'hostname vrrpslave && echo vrrpslave > /etc/hostname'")
    assert "every claim holds again" in seat_ok("seat02", "labgen exercise check")
    assert exercise_of("seat02").startswith("twin-hostnames: mended") and "1 hint" in exercise_of("seat02")
    seat_ok("seat01", "labgen exercise reset")
    assert exercise_of("seat01") is None


def exercise_of(seat: str) -> str | None:
    rows = {row["seat"]: row for row in json.loads(ok("class", "status", "--json"))}
    return rows[seat]["exercise"]


def test_class_down_removes_accounts_labs_and_rule(klass) -> None:
    ok("class", "down", timeout=600)
    for seat in SEATS:
        with pytest.raises(KeyError):
            pwd.getpwnam(seat)
        assert not (paths.labs_dir() / seat).exists()
        assert not Path(f"/home/{seat}").exists()
    assert not boundary.SUDOERS.exists() and not boundary.SEATS_DIR.exists()
    assert "no class" in labgen("class", "status").stderr


def _comm(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""
