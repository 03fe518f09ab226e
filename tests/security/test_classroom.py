"""A class of three on real containers, attacked by its students: each seat's account reaches its
own lab and nothing else.

The seats act as students do, through `su - seatNN -c 'labgen ...'` (their `labgen` is sudo to
labgen-seat); the attacker is a seat, root in its own nodes. The checks try another seat's lab, its
files and home, its network namespace, root on the host, the exercises' answers (every copy, the
git objects, the breakage's command line in the node), more concurrent root helpers than a seat
may run, a fork loop. A broken lab is reset, an exercise handed to the class is mended by a student
who cannot read its answer; class down runs with the seats' processes left behind and one seat
that cannot be removed, then again, and must leave no account, process, file, lab, namespace, sudo
rule or raised limit behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from labgen import cgroups, host, paths
from labgen.classroom import accounts, boundary, limits
from labgen.classroom import seats as classroom
from labgen.labs import find_lab, provider_for
from labgen.locks import host_lock
from labgen.poll import wait_for
from labgen.providers.nspawn import provider as nspawn
from labgen.providers.nspawn import uids
from labgen.providers.nspawn.idmap import RANGE
from tests.hostcheck import leftovers, snapshot
from tests.labs import NSPAWN, labgen, ok, the_hosts_class
from tests.security.seats import as_seat, closed_installation, installation_mode, refused, seat_ok

pytestmark = NSPAWN
SEATS = ["seat01", "seat02", "seat03"]
STUCK = "seat03"  # the seat whose removal fails in the first class down
SHARED = ("/tmp", "/var/tmp", "/dev/shm")  # where any account may leave files


def test_class_up_refuses_an_installation_seats_could_read() -> None:
    """Attack: read the answers (and labgen's code) straight from an installation left readable.
    class up refuses before it makes anything, in one line naming the folder and the fix."""
    checkout = boundary.installation()[0]
    closed_above = [folder for folder in checkout.parents if not folder.stat().st_mode & 0o001]
    if closed_above:
        pytest.skip(f"{closed_above[0]} is closed to other accounts: no seat could read {checkout}")
    with the_hosts_class(), installation_mode(checkout, checkout.stat().st_mode & 0o7777 | 0o005):
        done = labgen("class", "up", "keepalived-rr", "--seats", str(len(SEATS)), timeout=900)
        if done.returncode == 0:
            labgen("class", "down", timeout=600)
    assert done.returncode != 0, "class up started a class that could read labgen's installation"
    assert done.stderr.strip() == (
        f"labgen: error: seats could read labgen's installation at {checkout}, the exercises' answers with "
        f"it: chmod o-rwx {checkout} (class down leaves it so)"), done.stderr
    assert not classroom.state_file().exists() and not boundary.SUDOERS.exists()
    assert not any(accounts.exists(seat) for seat in SEATS)


def test_a_class_command_while_another_is_at_work_is_one_line() -> None:
    """Two class ups that both found no class made two, each overwriting the other's sudo rule and
    record (seen: a benchmark's class beside this module's). While one class command holds the
    host's class, another is refused at once, in one line, and makes nothing."""
    with the_hosts_class(), host_lock(classroom.CLASS_LOCK, "the host's class, as a class up holds it",
                                      timeout=600):
        for argv in (["class", "up", "keepalived-rr", "--seats", str(len(SEATS))], ["class", "down"]):
            done = labgen(*argv, timeout=120)
            assert done.returncode != 0 and done.stderr.strip() == (
                "labgen: error: another labgen class up or class down is at work on this host; wait for it, "
                "then see `labgen class status`"), done.stderr
    assert not classroom.state_file().exists() and not boundary.SUDOERS.exists()
    assert not any(accounts.exists(seat) for seat in SEATS)


@pytest.fixture(scope="module")
def klass():
    with the_hosts_class():
        before = snapshot()
        sysctls = {key: limits.read(key) for key in limits.PER_NODE}
        answers = answer_modes()
        labgen("class", "down")  # leftovers of an interrupted run
        try:
            with closed_installation(SEATS):
                ok("class", "up", "keepalived-rr", "--seats", str(len(SEATS)), timeout=900)
                yield json.loads(ok("class", "roster", "--json"))
        finally:
            set_immutable(paths.labs_dir() / STUCK, False)  # in case the class down tests stopped half way
            labgen("class", "down", timeout=600)
    assert leftovers(before, [f"labgen-{seat}" for seat in SEATS] + SEATS) == {}, "class down left things"
    assert {key: limits.read(key) for key in limits.PER_NODE} == sysctls, "a raised limit was not put back"
    assert answer_modes() == answers, "class up changed the answers' modes, and class down did not undo it"


def answer_modes() -> dict[str, int]:
    """The mode of every copy of every blueprint file (the answers among them): the checkout's and
    the installed package data's."""
    return {str(path): path.stat().st_mode for path in answer_copies("*.yaml")}


def answer_copies(name: str) -> list[Path]:
    """Every copy of a blueprint file labgen ships: in the checkout (or the wheel's data) and in the
    virtualenv's package data (an editable install has one too)."""
    data = Path(sys.prefix).glob("lib/python3*/site-packages/labgen/data/blueprints")
    return sorted({path for folder in (paths.blueprints_dir(), *data) for path in folder.glob(f"*/{name}")})


def set_immutable(path: Path, on: bool) -> None:
    if path.exists():
        subprocess.run(["chattr", "+i" if on else "-i", str(path)], check=True, timeout=30)


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


def test_a_seat_cannot_read_a_classmates_home(klass) -> None:
    """Attack: read what a classmate keeps at home (notes, a half-done fix). Homes are 0700."""
    seat_ok("seat01", "echo my answer > notes")
    assert "Permission denied" in refused("seat02", "cat /home/seat01/notes")
    assert Path("/home/seat01").stat().st_mode & 0o777 == 0o700


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


def test_a_seats_own_processes_are_bounded(klass) -> None:
    """Attack: a fork loop in the seat's own account, at a login or through the client seat, would
    take every PID of the host. Both run under the seats' process limit (the class down test runs
    such a loop into it)."""
    assert accounts.GROUP in seat_ok("seat01", "id -Gn").split()
    assert seat_ok("seat01", "ulimit -Hu").strip() == str(accounts.NPROC)
    assert seat_ok("seat01", "labgen exec client -- bash -c 'ulimit -Hu'").strip() == str(accounts.NPROC)


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


def test_a_seat_runs_at_most_four_labgen_commands_at_once(klass) -> None:
    """Attack: many `labgen` commands at once, each a root process on the host (a helper, its
    labgen, its buffers). The fifth concurrent one is refused in one line; once one ends, the seat
    runs commands again."""
    release = "/run/release-the-helpers"
    hold = (f"labgen exec lb0 -- sh -c 'i=0; while [ ! -e {release} ] && [ $i -lt 1200 ]; do sleep 0.1; "
            "i=$((i+1)); done'")
    held = [subprocess.Popen(["su", "-", "seat03", "-c", hold], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(boundary.HELPERS)]
    try:
        wait_for(lambda: boundary.helpers("seat03"), lambda pids: len(pids) == boundary.HELPERS, timeout=120,
                 expected=f"{boundary.HELPERS} labgen-seat commands of seat03 running")
        done = as_seat("seat03", "labgen status")
        assert done.returncode == 2 and done.stderr == (
            f"labgen: error: seat03 runs {boundary.HELPERS} labgen commands already, the most a seat runs at "
            "once: try again when one has ended\n"), done.stderr
    finally:
        ok("exec", "seat03", "lb0", "--", "touch", release)
        outcomes = [process.communicate(timeout=120) for process in held]
        ok("exec", "seat03", "lb0", "--", "rm", release)
    assert [process.returncode for process in held] == [0] * boundary.HELPERS, outcomes
    seat_ok("seat03", "labgen exec lb0 -- true")


def test_a_look_alike_of_a_classmates_node_fools_no_command(klass) -> None:
    """Attack: seat01 starts a process that calls itself seat02's node: argv[0] the real
    systemd-nspawn's path, `-M labgen-seat02.lb0` and the rest of the real command line as `ps` shows
    it, its executable a copy of python named systemd-nspawn. seat02's reset must succeed, boot
    its own node, and leave the look-alike running (labgen kills no process that is not its own);
    seat02's exec answers from its real node and its quick verify passes."""
    attacked_by_a_look_alike(userns=False)


def test_a_look_alike_root_in_its_own_user_namespace_fools_no_command(klass) -> None:
    """Attack: the same look-alike of seat02's node, but root in a user namespace of seat01's
    (`unshare -Urpf --mount-proc`), PID 1 of its own PID namespace as a container's init is, with
    the node's command line. It is still seat01's process on the host: seat02's reset succeeds
    and leaves it running, seat02's exec answers from its real node, its quick verify passes."""
    probe = as_seat("seat01", "unshare -Urpf --mount-proc true")
    if probe.returncode != 0:
        pytest.skip(f"an unprivileged account cannot make a user namespace here: {probe.stderr.strip()}")
    attacked_by_a_look_alike(userns=True)


def attacked_by_a_look_alike(userns: bool, attacker: str = "seat01", victim: str = "seat02") -> None:
    provider = provider_for(find_lab(victim))
    node = "lb0"
    home = Path(pwd.getpwnam(attacker).pw_dir)
    real = host.cmdline(provider._nspawn_pid(node) or 0)  # what ps shows every account
    assert real[:1] == [nspawn.NSPAWN] and provider.machine(node) in real, real
    pid_file = home / "look-alike.pid"
    sleeps = ["-c", "import time; time.sleep(600)"]  # python's; the node's own arguments follow
    fake = shlex.join(["exec", "-a", real[0], str(home / "systemd-nspawn"), *sleeps, *real[1:]])
    if userns:
        fake = shlex.join(["exec", "unshare", "-Urpf", "--mount-proc", "bash", "-c", fake])
    seat_ok(attacker, "cp /usr/bin/python3 ~/systemd-nspawn && setsid -f bash -c "
                      f"{shlex.quote(f'echo $$ > {pid_file}; {fake}')} >/dev/null 2>&1")
    lead = wait_for(lambda: pid_file.read_text().strip() if pid_file.exists() else "", str.isdigit,
                    timeout=30, expected=f"{attacker}'s look-alike to write its PID")
    lead_pid = int(lead)
    try:
        look_alike = wait_for(lambda: _look_alike(lead_pid, userns), lambda pid: pid is not None and
                              host.cmdline(pid)[:1] == real[:1], timeout=30,
                              expected=f"{attacker}'s look-alike of {provider.machine(node)} running")
        assert look_alike is not None
        recorded = host.process_id(look_alike)
        assert host.owner(look_alike) == pwd.getpwnam(attacker).pw_uid
        assert provider.machine(node) in host.cmdline(look_alike)
        if userns:  # root, PID 1 in namespaces of its own: what a container's init is
            uid_map = Path(f"/proc/{look_alike}/uid_map").read_text().split()
            assert uid_map[:2] == ["0", str(pwd.getpwnam(attacker).pw_uid)], uid_map
            assert host.pid_in_its_namespace(look_alike) == 1

        began = time.monotonic()
        out = seat_ok(victim, "labgen reset")
        print(f"{victim}'s reset beside {attacker}'s look-alike (userns: {userns}): "
              f"{time.monotonic() - began:.1f} s")
        assert "as new" in out, out
        assert host.process_id(look_alike) == recorded and host.alive(look_alike), \
            f"labgen's reset of {victim} killed {attacker}'s look-alike {look_alike}"
        answer = seat_ok(victim, f"labgen exec {node} -- sh -c '{WHERE_AM_I}'").split()
        assert answer == answer_of_the_real_node(victim, node), \
            f"{victim}'s exec did not answer from its node: {answer}"
        assert answer[1] != f"net:[{os.stat(f'/proc/{look_alike}/ns/net').st_ino}]"
        seat_ok(victim, "labgen verify --quick")
        assert host.process_id(look_alike) == recorded, "the look-alike did not outlive the attack"
    finally:
        end_processes([pid for pid in (_look_alike(lead_pid, userns), lead_pid) if pid])
        for made in (pid_file, home / "systemd-nspawn"):
            made.unlink(missing_ok=True)


def _look_alike(lead: int, userns: bool) -> int | None:
    """The look-alike: the process that wrote its PID, or (in namespaces of its own) unshare's child."""
    if not userns:
        return lead if host.alive(lead) else None
    return next(iter(host.children(lead)), None)


WHERE_AM_I = "hostname; readlink /proc/self/ns/net; head -n1 /proc/self/uid_map"


def answer_of_the_real_node(seat: str, node: str) -> list[str]:
    """What WHERE_AM_I says in the seat's node, found from what no seat can forge: the node's init
    is the process PID 1 in its own namespace in the cgroup labgen made for the node, and its root
    is the first UID of the lab's range."""
    lab = find_lab(seat)
    group = node_group(seat, node)
    inits = [pid for pid in group.pids() if host.pid_in_its_namespace(pid) == 1]
    assert len(inits) == 1, f"{seat}'s {node}: inits {inits} in {group}"
    base = int((lab.state_dir / "uid-base").read_text())
    hostname = next(n.hostname for n in lab.spec.nodes if n.name == node)
    return [hostname, f"net:[{os.stat(f'/proc/{inits[0]}/ns/net').st_ino}]", "0", str(base), str(RANGE)]


def end_processes(pids: list[int]) -> None:
    """SIGKILL processes the test started (through a seat), by PID, and wait until they are gone."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    wait_for(lambda: [pid for pid in pids if host.alive(pid)], lambda left: not left, timeout=30,
             expected=f"{pids} gone after SIGKILL")


def node_group(seat: str, node: str) -> cgroups.Group:
    """The cgroup labgen made for the seat's node."""
    return cgroups.lab_group(find_lab(seat).spec.namespace).child(node)


def node_file(seat: str, node: str, name: str) -> Path:
    """A cgroup file of the seat's node (pids.max, memory.oom_control, ...), in the hierarchy that has it."""
    group = node_group(seat, node)
    found = [path / name for path in group.paths() if (path / name).exists()]
    assert found, f"no {name} in {group.paths()}: the host does not bound this"
    return found[0]


def counter(path: Path, key: str) -> int:
    """One counter of a flat keyed cgroup file (memory.oom_control, memory.events)."""
    return int(dict(line.split() for line in path.read_text().splitlines())[key])


def storm_leaders(started: int, seat: str, node: str) -> list[int]:
    """The storm's first python in the node: below the su the test started, in the node's
    cgroup, root's in the node (its workers have users of their own)."""
    group, root = node_group(seat, node), int((find_lab(seat).state_dir / "uid-base").read_text())
    found = []
    for process in descendants(started):
        with contextlib.suppress(psutil.Error):
            if process.cmdline()[:2] == ["python3", "-c"] and process.uids().real == root and \
                    group.contains(process.pid):
                found.append(process.pid)
    return found


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


STORM = """
import os, signal, time  # a fork storm, spread over four of the node's users
os.setpgid(0, 0)
signal.signal(signal.SIGTERM, lambda *_: os.killpg(0, signal.SIGKILL))
deadline = time.monotonic() + 240
for user in range(10001, 10005):
    if os.fork() == 0:
        os.setgid(user)
        os.setuid(user)
        kids = 0
        while kids < 500 and time.monotonic() < deadline:
            try:
                if os.fork() == 0:
                    os.execv("/bin/sleep", ["sleep", "300"])
                kids += 1
            except OSError:
                time.sleep(0.01)
        while time.monotonic() < deadline:
            time.sleep(1)
        os._exit(0)
while time.monotonic() < deadline:
    time.sleep(1)
os.killpg(0, signal.SIGKILL)
"""


def test_a_fork_storm_in_a_node_stops_at_its_process_limit(klass) -> None:
    """Attack: root in its node, seat01 forks as fast as it can to take every PID of the host:
    2000 processes, each refused fork tried again, spread over four of the node's users so that
    no per-user process limit (the seat's, which its labgen-seat cannot lift on a host without
    CAP_SYS_RESOURCE) holds it. The node's pids cgroup holds it at the blueprint's limit; seat01's
    other node and seat02's lab work on (seat02's quick verify passes); once the storm ends,
    seat01's lab is whole again."""
    limit = find_lab("seat01").spec.resources.pids
    current, maximum = node_file("seat01", "lb0", "pids.current"), node_file("seat01", "lb0", "pids.max")
    assert maximum.read_text().strip() == str(limit)
    command = f"labgen exec lb0 -- python3 -c {shlex.quote(STORM)}"
    storm = subprocess.Popen(["su", "-", "seat01", "-c", command], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        held = wait_for(lambda: int(current.read_text()), lambda count: count >= limit, timeout=120,
                        expected=f"seat01's lb0 at its limit of {limit} processes")
        print(f"seat01's fork storm held at {held} processes (pids.max {maximum.read_text().strip()})")
        assert held == limit
        seat_ok("seat01", "labgen exec lb1 -- true")  # the bound is the node's, not the lab's
        seat_ok("seat02", "labgen verify --quick")
        assert int(current.read_text()) == limit and storm.poll() is None, "the storm ended before the checks"
    finally:
        for leader in storm_leaders(storm.pid, "seat01", "lb0"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(leader, signal.SIGTERM)  # it kills its process group, itself included
        storm.communicate(timeout=120)
    wait_for(lambda: int(current.read_text()), lambda count: count < limit // 2, timeout=60,
             expected="seat01's lb0 to have its processes back")
    wait_for(lambda: as_seat("seat01", "labgen verify --quick").returncode, lambda code: code == 0,
             timeout=120, interval=2, expected="seat01's quick verify to pass once the storm is over")


def test_a_memory_hog_in_a_node_is_killed_at_the_nodes_limit(klass) -> None:
    """Attack: seat01 allocates 600 MiB in its node (limit: the blueprint's memory_mb) to make the
    host swap or kill its classmates' daemons. The kernel kills the hog inside the node's memory
    cgroup, whose peak stays within its limit; seat01's node runs on (keepalived active, its lab
    up) and seat02's quick verify passes."""
    limit = find_lab("seat01").spec.resources.memory_mb * 2**20
    assert int(node_file("seat01", "lb0", "memory.limit_in_bytes").read_text()) == limit
    oom = node_file("seat01", "lb0", "memory.oom_control")
    kills = counter(oom, "oom_kill")
    hog = as_seat("seat01", "labgen exec lb0 -- python3 -c "
                            "'b = b\"x\" * (600 * 2**20); import time; time.sleep(10)'")
    assert hog.returncode != 0, f"the hog lived: {hog.stdout}{hog.stderr}"
    peak = int(node_file("seat01", "lb0", "memory.max_usage_in_bytes").read_text())
    now_kills = counter(oom, "oom_kill")
    print(f"the hog exited {hog.returncode}; the node's oom_kill {kills} -> {now_kills}, its peak "
          f"{peak / 2**20:.0f} MiB of {limit / 2**20:.0f} MiB")
    assert now_kills > kills, f"no OOM kill in seat01's lb0: {oom.read_text()}"
    assert peak <= limit and counter(oom, "under_oom") == 0
    assert seat_ok("seat01", "labgen exec lb0 -- systemctl is-active keepalived").strip() == "active"
    report = json.loads(seat_ok("seat01", "labgen status --json"))
    assert report["state"] == "up" and set(report["nodes"].values()) == {"running"}, report
    seat_ok("seat02", "labgen verify --quick")


@pytest.mark.parametrize("direction", ["out", "in"])
def test_400_mb_through_exec_do_not_pass_through_the_root_helper(klass, direction) -> None:
    """Attack: make the root helper hold what the seat sends: 400 MB out of the node through
    `labgen exec` (and 400 MB into it with -i), to take the host's memory with root's processes.
    Every byte arrives, and no root Python process of the seat's command (labgen-seat, its labgen)
    grows past 100 MiB."""
    size = 400_000_000
    command = (f"labgen exec lb0 -- head -c {size} /dev/zero | wc -c" if direction == "out"
               else f"head -c {size} /dev/zero | labgen exec -i lb0 -- wc -c")
    python = os.path.realpath(sys.executable)
    piping = subprocess.Popen(["su", "-", "seat01", "-c", command], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peaks: dict[int, int] = {}
    try:
        while piping.poll() is None:
            for process in descendants(piping.pid):
                with contextlib.suppress(psutil.Error):
                    if process.uids().real == 0 and process.exe() == python:
                        peaks[process.pid] = max(peaks.get(process.pid, 0), process.memory_info().rss)
            time.sleep(0.2)
        out, err = piping.communicate(timeout=30)
    finally:
        if piping.poll() is None:
            end_processes([p.pid for p in descendants(piping.pid)] + [piping.pid])
    peak = max(peaks.values(), default=0)
    way = {"out": "out of", "in": "into"}[direction]
    print(f"400 MB {way} the node: peak RSS of the root helpers {peak / 2**20:.1f} MiB "
          f"({len(peaks)} processes sampled)")
    assert piping.returncode == 0 and out.split() == [str(size)], out + err
    assert len(peaks) >= 2, "the helper and its labgen were never sampled"
    assert peak < 100 * 2**20, f"a root helper held {peak / 2**20:.0f} MiB"


def test_an_exercise_for_the_class_is_mended_by_a_student_who_cannot_read_the_answer(klass) -> None:
    ok("class", "exercise", "start", "two-machines-one-name", timeout=600)
    assert all(exercise_of(seat).startswith("two-machines-one-name: not checked yet") for seat in SEATS)
    for name in ("exercises.yaml", "breakages.yaml"):
        answers = paths.blueprints_dir() / "keepalived-rr" / name
        assert "Permission denied" in refused("seat02", f"cat {shlex.quote(str(answers))}"), answers
    assert "not for seats" in refused("seat02", "labgen exercise solve")
    broken = as_seat("seat02", "labgen exercise check")
    assert broken.returncode == 1 and "not mended yet" in broken.stdout, broken.stdout + broken.stderr
    assert seat_ok("seat02", "labgen exercise hint").startswith("hint 1 of ")
    seat_ok("seat02", "labgen exec lb1 -- sh -c 'hostname vrrpslave && echo vrrpslave > /etc/hostname'")
    assert "every claim holds again" in seat_ok("seat02", "labgen exercise check")
    mended = exercise_of("seat02")
    assert mended.startswith("two-machines-one-name: mended") and "1 hint" in mended
    seat_ok("seat01", "labgen exercise reset")
    assert exercise_of("seat01") is None


def test_every_copy_of_the_answers_is_out_of_a_seats_reach(klass) -> None:
    """Attack: read an exercise's answer from any copy labgen has: the checkout's blueprints, the
    package data in the virtualenv, the git objects (with git's ownership check waved through)."""
    copies = answer_copies("breakages.yaml") + answer_copies("exercises.yaml")
    assert len(copies) >= 6, copies
    for answers in copies:
        assert "Permission denied" in refused("seat02", f"cat {shlex.quote(str(answers))}"), answers
    checkout = boundary.installation()[0]
    refused("seat02", f"git -c safe.directory='*' -C {shlex.quote(str(checkout))} cat-file -p "
                      "HEAD:blueprints/keepalived-rr/breakages.yaml")
    refused("seat02", f"{shlex.quote(sys.executable)} -c 'import labgen'")


def test_a_breakage_reaches_the_node_on_no_command_line(klass) -> None:
    """Attack: root in its node, a student puts an `sh` that logs its arguments first on the PATH
    labgen runs commands with, and starts an exercise: the breakage's command would be in the log
    (as in `ps`, in the node and on the host). It comes on sh's standard input instead."""
    wrapper = '#!/bin/sh\necho "$*" >> /root/sh-argv\nexec /bin/sh "$@"\n'
    seat_ok("seat01", "labgen exec -i lb1 -- sh -c 'cat > /usr/local/sbin/sh; chmod 755 /usr/local/sbin/sh'",
            input=wrapper)
    seat_ok("seat01", "labgen exercise start two-machines-one-name")
    seen = seat_ok("seat01", "labgen exec lb1 -- cat /root/sh-argv").splitlines()
    assert "-s" in seen, f"the breakage did not go through the node's sh: {seen}"
    assert not [line for line in seen if "vrrpmaster" in line], f"the breakage on a command line: {seen}"


def test_an_orphaned_node_is_reported_and_down_ends_it(klass) -> None:
    """Attack (or accident): the systemd-nspawn of seat02's lb1 is killed and the node's network
    namespace deleted, behind labgen's back; the container's processes live on in the node's
    cgroup, invisible to a search by name or namespace. seat02's status says the node is orphaned
    and exits 1; down ends every process of the lab, removes its cgroups and gives its UID range
    back. (The class down tests after this one take down a seat whose lab is already gone.)"""
    lab = find_lab("seat02")
    provider = provider_for(lab)
    runner, init = provider._nspawn_pid("lb1"), provider._init_pid("lb1")
    assert runner and init
    recorded = host.process_id(runner)
    base = int((lab.state_dir / "uid-base").read_text())
    slot = uids.slots() / str((base - uids.FIRST) // RANGE)
    holder = slot.read_text()
    os.kill(runner, signal.SIGKILL)
    wait_for(lambda: recorded is not None and host.is_running(recorded), lambda running: not running,
             timeout=30, expected="lb1's systemd-nspawn gone after SIGKILL")
    subprocess.run(["ip", "netns", "delete", provider.machine("lb1")], check=True, timeout=30)
    group = cgroups.lab_group(lab.spec.namespace)
    assert host.alive(init) and group.child("lb1").contains(init), "the node did not outlive its nspawn"

    done = as_seat("seat02", "labgen status")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "lb1 is orphaned" in " ".join(done.stdout.split()), done.stdout
    report = json.loads(as_seat("seat02", "labgen status --json").stdout)
    assert report["nodes"]["lb1"] == "orphaned" and report["state"] == "degraded", report

    ok("down", "seat02")
    assert not host.alive(init), f"lb1's init {init} outlived down"
    assert group.pids() == [] and group.remains() == [], f"{group} left: {group.remains()}"
    assert not slot.exists() or slot.read_text() != holder, f"{slot} still names {holder}"
    assert "nothing to do" in ok("down", "seat02")


def test_class_down_ends_what_seats_left_and_goes_on_past_a_failing_seat(klass) -> None:
    """Attack: leave things for class down to trip on: a sleeping process, one that ignores
    SIGTERM, a labgen command still running, a fork loop (held at the seats' process limit), files
    in /tmp, /var/tmp, /dev/shm and a mail spool; and a seat whose lab cannot be removed (its folder
    immutable). class down ends and removes every other seat whole, reports the stuck one in one
    line, exits non-zero, and keeps it locked (its password refused) in the class record."""
    uid = {name: seat["uid"] for name, seat in classroom.load()["seats"].items()}
    for folder in SHARED:
        seat_ok("seat01", f"cd {folder} && touch seat01-file && mkdir seat01-dir && touch seat01-dir/x")
    spool = Path("/var/mail/seat01")
    spool.write_text("From teacher\n")  # as a mail server would deliver it
    os.chown(spool, uid["seat01"], -1)
    stubborn = "sh -c 'trap \"\" TERM; while :; do sleep 1; done'"
    for left in ("sleep 1000", stubborn, "labgen exec lb0 -- sleep 1000"):
        seat_ok("seat01", f"setsid -f {left} >/dev/null 2>&1")  # detached: su returns, they stay
    seat_ok("seat02", "setsid -f bash -c 'while :; do sleep 1000 & done' >/dev/null 2>&1")
    wait_for(lambda: len(accounts.processes_of(uid["seat02"])), lambda count: count >= accounts.NPROC - 10,
             timeout=60, expected="seat02's fork loop at the seats' process limit")
    looping = len(accounts.processes_of(uid["seat02"]))
    print(f"seat02's fork loop holds at {looping} processes")
    assert looping <= accounts.NPROC
    set_immutable(paths.labs_dir() / STUCK, True)

    began = time.monotonic()
    done = labgen("class", "down", timeout=600)
    print(f"class down with the seats' processes left: {time.monotonic() - began:.1f} s")
    assert done.returncode == 1, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("not gone")]
    assert len(lines) == 1 and lines[0].startswith(f"not gone: {STUCK}: labgen down {STUCK}:"), done.stderr
    for seat in ("seat01", "seat02"):
        assert not accounts.exists(seat) and not accounts.processes_of(uid[seat]), seat
    assert not [path for folder in SHARED for path in Path(folder).glob("seat01-*")] and not spool.exists()
    assert not boundary.SUDOERS.exists() and boundary.helpers("seat01") == []
    assert list(classroom.load()["seats"]) == [STUCK]
    shadow = next(line.split(":") for line in Path("/etc/shadow").read_text().splitlines()
                  if line.startswith(f"{STUCK}:"))
    assert shadow[1].startswith("!") and shadow[7] == "1", f"{STUCK} is not locked and expired: {shadow[1:]}"
    assert "expired" in refused(STUCK, "true")


def test_class_down_again_finishes_the_job(klass) -> None:
    """Once the stuck seat can go (its folder mutable again), class down removes it and the class."""
    set_immutable(paths.labs_dir() / STUCK, False)
    print(ok("class", "down", timeout=600).splitlines()[-1])
    for seat in SEATS:
        with pytest.raises(KeyError):
            pwd.getpwnam(seat)
        assert not (paths.labs_dir() / seat).exists()
        assert not Path(f"/home/{seat}").exists()
    assert not any(path.exists() for path in (boundary.SUDOERS, boundary.SEATS_DIR, boundary.SLOTS_DIR))
    assert not accounts.LIMITS.exists() and accounts.GROUP not in Path("/etc/group").read_text()
    assert "no class" in labgen("class", "status").stderr


def exercise_of(seat: str) -> str | None:
    rows = {row["seat"]: row for row in json.loads(ok("class", "status", "--json"))}
    return rows[seat]["exercise"]


def _comm(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""
