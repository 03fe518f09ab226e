"""labgen hosts: other machines reached over ssh alone (tests/remote.py makes them on this one),
each answering from its own labgen state."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from labgen.boxes import rootfs, transfer
from labgen.remote import hosts
from tests.labs import labgen, ok
from tests.remote import SSHD, RemoteHost, controller_key

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
    with RemoteHost("rh1", folder, key) as rh1, RemoteHost("rh2", folder, key) as rh2:
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
    marker = subprocess.run(["ssh", "-i", str(key), "-o", rh1.proxy, "-o", "BatchMode=yes",
                             "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                             "root@127.0.0.1", 'touch "$LABGEN_HOME/written-there" && ls "$LABGEN_HOME"'],
                            capture_output=True, text=True, timeout=30)
    assert "written-there" in marker.stdout, marker.stderr
    assert list(rh1.home.iterdir()) == [], "the host's state is visible outside its mount namespace"


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
    rh2.sshd.terminate()
    rh2.sshd.wait(timeout=10)
    rows = {row["host"]: row for row in json.loads(ok("hosts", "list", "--json"))}
    assert rows["t-rh2"]["state"].startswith("unreachable: host t-rh2"), rows["t-rh2"]
    assert rows["t-rh1"]["state"] == "reachable", rows["t-rh1"]


def test_a_host_with_another_labgen_is_refused_and_keeps_nothing(tmp_path):
    """labgen on the host answers another version (an older install: a stand-in that says so):
    one line, nothing added, no host key left pinned."""
    older = tmp_path / "older-bin"
    older.mkdir()
    (older / "labgen").write_text("#!/bin/sh\necho 'labgen 0.0.9'\n")
    (older / "labgen").chmod(0o755)
    key = controller_key(tmp_path)
    labgen("hosts", "remove", "t-rh3")
    with RemoteHost("rh3", tmp_path, key, labgen_bin=older) as rh3:
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
