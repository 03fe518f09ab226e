"""labgen hosts: other machines reached over ssh alone (tests/remote.py makes them on this one),
each answering from its own labgen state."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from labgen.boxes import rootfs, transfer
from labgen.classroom import accounts
from labgen.classroom import seats as classroom
from labgen.remote import hosts
from tests.labs import labgen, ok, the_hosts_class
from tests.remote import SSHD, RemoteHost, controller_key
from tests.security.seats import closed_installation

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="network and mount namespaces need root"),
    pytest.mark.skipif(not os.path.exists(SSHD), reason="needs openssh-server (scripts/install)"),
]


@pytest.fixture(scope="module")
def two_hosts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hosts")
    key = controller_key(folder)
    for name in ("t-rh1", "t-rh2"):
        labgen("hosts", "remove", name)
    with RemoteHost("rh1", folder, key, uids=41000) as rh1, RemoteHost("rh2", folder, key, uids=42000) as rh2:
        yield key, rh1, rh2
    for name in ("t-rh1", "t-rh2"):
        labgen("hosts", "remove", name)


def add(name: str, host: RemoteHost, key) -> subprocess.CompletedProcess[str]:
    return labgen("hosts", "add", name, "ssh://root@127.0.0.1:22", "--key", str(key),
                  "--ssh-option", host.proxy)


def test_hosts_answer_from_their_own_state_over_ssh_alone(two_hosts):
    """Each host is added over ssh and listed with its labgen, its boxes (none: its own state is
    empty) and what it holds; what a host writes stays in its mount namespace, unseen here."""
    key, rh1, rh2 = two_hosts
    for name, host in (("t-rh1", rh1), ("t-rh2", rh2)):
        added = add(name, host, key)
        assert added.returncode == 0 and f"host {name} added" in added.stdout, added.stderr
    rows = {row["host"]: row for row in json.loads(ok("hosts", "list", "--json"))}
    assert rows["local"]["boxes"], "this machine has its boxes built"
    for name in ("t-rh1", "t-rh2"):
        assert rows[name]["state"] == "reachable", rows[name]
        assert rows[name]["labgen"] == rows["local"]["labgen"], rows[name]
        assert rows[name]["boxes"] == [], f"{name} answered from this machine's state: {rows[name]}"
        assert rows[name]["capacity"]["nspawn"]["keepalived-rr"] > 0, rows[name]
    marker = rh1.run_there(["sh", "-c", 'touch "$LABGEN_HOME/written-there" && ls "$LABGEN_HOME"'])
    assert "written-there" in marker.stdout, marker.stderr
    assert list(rh1.home.iterdir()) == [], "the host's state is visible outside its mount namespace"


def test_the_controllers_key_runs_labgen_alone_there(two_hosts):
    """The key's forced command (labgen-ssh) runs labgen with the words asked for, never a shell."""
    key, rh1, _ = two_hosts
    for command in ('touch /tmp/t-owned', 'labgen list; touch /tmp/t-owned', 'sh -c "touch /tmp/t-owned"'):
        done = subprocess.run(["ssh", "-i", str(key), "-o", rh1.proxy, "-o", "BatchMode=yes",
                               "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                               "root@127.0.0.1", command], capture_output=True, text=True, timeout=30)
        assert done.returncode != 0 and not os.path.exists("/tmp/t-owned"), (command, done.stderr)
    assert "this key runs labgen only" in done.stderr, done.stderr


def test_any_command_runs_on_a_host_with_its_output_and_exit_code(two_hosts):
    """labgen --host NAME COMMAND: the host's own labgen answers (its state, not this machine's),
    its errors and exit codes come back as they are."""
    key, rh1, _ = two_hosts
    add("t-rh1", rh1, key)
    there = json.loads(ok("--host", "t-rh1", "box", "list", "--json"))
    here = json.loads(ok("box", "list", "--json"))
    assert not any(row["built"] for row in there) and any(row["built"] for row in here), there
    missing = labgen("--host", "t-rh1", "status", "t-nolab")
    assert missing.returncode == 2 and "no lab named 't-nolab'" in missing.stderr, missing.stderr
    assert "keepalived-rr" in ok("--host", "local", "list")
    unknown = labgen("--host", "t-nohost", "list")
    assert unknown.returncode == 2 and "no host named 't-nohost'" in unknown.stderr, unknown.stderr


def test_a_refused_key_an_unknown_name_and_a_bad_address_are_one_line_each(two_hosts, tmp_path):
    _, rh1, _ = two_hosts
    stranger = controller_key(tmp_path)  # a key the host does not know
    refused = add("t-rh9", rh1, stranger)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
    assert "ssh:" in refused.stderr and "Permission denied" in refused.stderr, refused.stderr
    assert "t-rh9" not in ok("hosts", "list")
    bad = labgen("hosts", "add", "t-rh9", "http://example.org")
    assert bad.returncode == 2 and "ssh://USER@ADDRESS" in bad.stderr, bad.stderr
    missing = labgen("hosts", "remove", "t-nohost")
    assert missing.returncode == 2 and "no host named 't-nohost'" in missing.stderr, missing.stderr


def test_a_host_gone_is_reported_and_the_others_still_answer(two_hosts):
    key, rh1, rh2 = two_hosts
    add("t-rh1", rh1, key)
    add("t-rh2", rh2, key)
    rh2.stop_sshd()
    rows = {row["host"]: row for row in json.loads(ok("hosts", "list", "--json"))}
    assert rows["t-rh2"]["state"].startswith("unreachable: host t-rh2"), rows["t-rh2"]
    assert rows["t-rh1"]["state"] == "reachable", rows["t-rh1"]
    rh2.start_sshd()
    back = {row["host"]: row for row in json.loads(ok("hosts", "list", "--json"))}["t-rh2"]
    assert back["state"] == "reachable", f"the host back did not answer: {back}"


def test_a_host_with_another_labgen_is_refused_and_keeps_nothing(tmp_path):
    """labgen on the host answers another version (an older install: a stand-in that says so):
    one line, nothing added, no host key left pinned."""
    older = tmp_path / "older-bin"
    older.mkdir()
    (older / "labgen").write_text("#!/bin/sh\necho 'labgen 0.0.9'\n")
    (older / "labgen").chmod(0o755)
    key = controller_key(tmp_path)
    labgen("hosts", "remove", "t-rh3")
    with RemoteHost("rh3", tmp_path, key, labgen_bin=older, forced=False) as rh3:
        refused = add("t-rh3", rh3, key)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
    assert "runs labgen 0.0.9, this one" in refused.stderr, refused.stderr
    assert "t-rh3" not in ok("hosts", "list")


@pytest.mark.skipif(not rootfs.is_current("debian-12"), reason="needs `labgen box build debian-12`")
def test_a_container_root_pushed_to_a_host_is_checked_there(two_hosts):
    """box push: the root streamed over ssh, put in place on the host only once its sha256 is the
    one sent; a stream that does not match leaves the host as it was, said in one line."""
    key, rh1, _ = two_hosts
    add("t-rh1", rh1, key)
    host = hosts.get("t-rh1")
    wrong = transfer.send("debian-12", host.ssh_argv(["labgen", "box", "receive", "debian-12",
                                                      "--sha256", "0" * 64]))
    assert wrong and "arrived with sha256" in wrong and "nothing was changed" in wrong, wrong
    assert not _built_there("t-rh1"), "a root that did not match was put in place"
    pushed = ok("box", "push", "debian-12", "--to", "t-rh1", timeout=900)
    assert "debian-12 root on t-rh1" in pushed and "checked there" in pushed, pushed
    assert _built_there("t-rh1") == ["debian-12"]
    assert list(rh1.home.iterdir()) == [], "the root went over ssh, not through this mount namespace"


def _built_there(name: str) -> list[str]:
    rows = json.loads(ok("--host", name, "box", "list", "--json"))
    return [row["name"] for row in rows if row["kind"] == "nspawn root" and row["current"]]



SEATS = ["hseat01", "hseat02", "hseat03", "hseat04"]


@pytest.mark.skipif(not rootfs.is_current("debian-12"), reason="needs `labgen box build debian-12`")
def test_a_class_spans_two_hosts_and_this_one(two_hosts):
    """class up --hosts: four container seats placed over t-rh1, t-rh2 and this machine by their
    room, the plan first; the root copied to a host that lacks it; each seat's lab and account on
    its own host alone. Roster and status gather every host, with its host. A host gone is
    reported per seat, the rest of the class goes down without it, and class down finishes once it
    is back: nothing of the class left on any host."""
    key, rh1, rh2 = two_hosts
    add("t-rh1", rh1, key)
    add("t-rh2", rh2, key)
    spread = ["class", "up", "keepalived-rr", "--seats", "4", "--prefix", "hseat",
              "--hosts", "t-rh1,t-rh2,local"]
    with the_hosts_class(), closed_installation(SEATS):
        try:
            planned = _placed(ok(*spread, "--dry-run"))
            assert sorted(planned) == SEATS and set(planned.values()) == {"t-rh1", "t-rh2", "local"}, planned
            assert not classroom.state_file().exists(), "the dry run made a class"
            up = labgen(*spread, timeout=1800)
            assert up.returncode == 0, up.stdout[-3000:] + up.stderr
            where = _placed(up.stdout)
            assert "debian-12 root copied to t-rh2" in up.stdout, up.stdout[-3000:]
            _each_seat_on_its_host(where)
            _another_class_is_left_alone()
            away = [seat for seat, host in where.items() if host == "t-rh2"]
            rh2.stop_sshd()
            rows = {row["seat"]: row for row in json.loads(ok("class", "status", "--json"))}
            assert all(rows[seat]["lab"].startswith("unreachable: host t-rh2") for seat in away), rows
            assert all(row["vip_holder"] == "lb0" for seat, row in rows.items() if seat not in away), rows
            down = labgen("class", "down", timeout=900)
            said = down.stdout + down.stderr
            assert down.returncode == 1 and f"not gone: t-rh2 ({', '.join(away)})" in down.stderr, said
            assert not any(accounts.exists(seat) for seat in SEATS) and _no_class("t-rh1")
            rh2.start_sshd()
            ok("class", "down", timeout=900)
            assert not classroom.state_file().exists() and _no_class("t-rh2")
        finally:
            if classroom.state_file().exists() and labgen("class", "down", timeout=900).returncode:
                labgen("class", "down", "--abandon", "t-rh1", "--abandon", "t-rh2")


def _placed(plan: str) -> dict[str, str]:
    """seat -> host, from the plan's lines (`  t-rh1: hseat01..hseat02 (2 of the ...`)."""
    where = {}
    for host, first, last in re.findall(r"^  (\S+): hseat(\d+)(?:\.\.hseat(\d+))? \(", plan, re.MULTILINE):
        where.update({f"hseat{n:02d}": host for n in range(int(first), int(last or first) + 1)})
    return where


def _each_seat_on_its_host(where: dict[str, str]) -> None:
    roster = {row["seat"]: row for row in json.loads(ok("class", "roster", "--json"))}
    assert {seat: row["host"] for seat, row in roster.items()} == where, roster
    assert all(row["state"] == "up" and row["password"] for row in roster.values()), roster
    away = next(seat for seat, host in where.items() if host == "t-rh2")
    assert roster[away]["connect"] == f"ssh {away}@127.0.0.1", roster[away]
    status = json.loads(ok("class", "status", "--json"))
    assert {row["seat"]: (row["host"], row["vip_holder"]) for row in status} == {
        seat: (host, "lb0") for seat, host in where.items()}, status
    for host in ("t-rh1", "t-rh2", "local"):  # this machine has the other tests' labs too, some degraded
        listed = labgen("--host", host, "status", "--json")
        assert listed.returncode in (0, 1), listed.stderr  # 1: a lab is degraded, its row says how
        labs = {lab["name"] for lab in json.loads(listed.stdout)}
        seated = labs & set(SEATS) if host == "local" else labs
        assert seated == {seat for seat, there in where.items() if there == host}, f"{host} holds {labs}"
    assert all(accounts.exists(seat) == (host == "local") for seat, host in where.items()), \
        "a seat's account is not on its own host alone"


def _another_class_is_left_alone() -> None:
    """A class command that is part of another class (another id) leaves the host's class alone."""
    stranger = ["--host", "t-rh1", "class", "--part-of", "0" * 16]
    refused = labgen(*stranger, "down")
    assert refused.returncode != 0 and f"is not part of class {'0' * 16}" in refused.stderr, refused.stderr
    assert "no part of class" in ok(*stranger, "down", "--missing-ok")
    assert json.loads(ok("--host", "t-rh1", "status", "--json")), "another class's down took this one's labs"


def _no_class(host: str) -> bool:
    done = labgen("--host", host, "class", "status")
    return done.returncode != 0 and "no class on this host" in done.stderr
