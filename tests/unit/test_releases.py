"""Releases are data: every box labgen names has a recipe, the lab daemons' versions and its own
departures; the CLI lists them, picks one per lab, and refuses an unknown or unreachable one in a
line."""

from __future__ import annotations

import json
import os

import pytest

from labgen.boxes import rootfs
from labgen.boxes.releases import DEFAULT, releases
from labgen.errors import LabgenError
from labgen.matrix import lab_name
from labgen.model.load import load_blueprint
from labgen.render.resolve import release_departures
from tests.conftest import BLUEPRINTS
from tests.unit.test_cli import labgen, one_error_line


def test_the_three_debian_releases_and_the_default():
    debian = [r.suite for r in releases().values() if r.distro == "debian"]
    assert debian == ["bullseye", "bookworm", "trixie"]
    assert DEFAULT in releases()


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_every_release_names_the_version_of_each_daemon_a_blueprint_installs(blueprint):
    bp, _ = load_blueprint(blueprint)
    for rel in releases().values():
        daemons = set(bp.packages) & {"keepalived", "heartbeat", "pacemaker", "nginx", "apache2"}
        assert daemons <= rel.daemons.keys(), f"{rel.name} does not say which {daemons - rel.daemons.keys()}"


def test_each_release_has_its_own_recipe_hash():
    hashes = {rootfs.recipe_hash(name) for name in releases()}
    assert len(hashes) == len(releases())


def test_a_release_departure_reaches_only_labs_with_its_package():
    keepalived, _ = load_blueprint("keepalived-rr", ["box=debian-13"])
    pacemaker, _ = load_blueprint("pacemaker-nginx", ["box=debian-13"])
    assert any("keepalived" in d.what for d in release_departures(keepalived))
    assert not any("pacemaker" in d.what for d in release_departures(keepalived))
    assert any("pacemaker" in d.what for d in release_departures(pacemaker))


def test_box_list_json_has_every_release_and_kind():
    rows = json.loads(labgen("box", "list", "--json", check_ok=True).stdout)
    assert {(r["name"], r["kind"]) for r in rows} == {
        (name, kind) for name in releases() for kind in ("nspawn root", "vagrant box")
    }
    for row in rows:
        assert len(row["recipe"]) == 64 and row["release"].startswith(("debian", "ubuntu")), row
        if row["kind"] == "nspawn root" and row["current"]:
            assert row["size_bytes"] > 100 * 2**20 and row["versions"], row


def test_show_json_gives_each_release_its_versions_and_departures():
    data = json.loads(labgen("show", "pacemaker-nginx", "--box", "debian-13", "--json", check_ok=True).stdout)
    assert data["box"] == "debian-13"
    by_box = {row["box"]: row for row in data["releases"]}
    assert by_box["debian-13"]["this_lab"] and not by_box["debian-12"]["this_lab"]
    assert by_box["debian-11"]["versions"]["pacemaker"].startswith("2.0")
    assert by_box["debian-13"]["versions"]["pacemaker"].startswith("3.0")
    assert any("pacemaker 3.0" in d["what"] for d in by_box["debian-13"]["departures"])


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["up", "keepalived-rr", "--box", "debian-7"], "--box: unknown box 'debian-7'; labgen builds: deb"),
        (["show", "keepalived-rr", "--set", "box=debian-7"], "unknown box 'debian-7'"),
        (["matrix", "keepalived-rr", "--boxes", "debian-12,debian-7"], "--boxes: unknown box 'debian-7'"),
        (["matrix", "keepalived-rr", "--faults", "melt"], "unknown fault 'melt'"),
    ],
)
def test_an_unknown_box_is_one_line(args, words):
    assert words in one_error_line(labgen(*args))


UBUNTU_KEYRING = releases()["ubuntu-24.04"].keyring


@pytest.mark.skipif(os.geteuid() != 0, reason="box build needs root")
@pytest.mark.skipif(os.path.exists(UBUNTU_KEYRING), reason="this host can check Ubuntu's archive")
def test_ubuntu_without_its_keyring_fails_in_one_line_and_builds_nothing():
    """This host reaches Ubuntu's archive (or not) but has no key to check it: one line, no box."""
    line = one_error_line(labgen("box", "build", "ubuntu-24.04", "--for", "nspawn"))
    assert line.startswith("labgen: error: box ubuntu-24.04: "), line
    assert "ubuntu-archive-keyring.gpg is missing" in line or "cannot reach ubuntu's archive" in line, line
    assert not rootfs.box_dir("ubuntu-24.04").exists()


def test_an_unreachable_archive_is_one_line_naming_it():
    """Nothing listens on loopback's discard port: the archive check fails at once, naming the URL."""
    offline = releases()["debian-13"].model_copy(update={"mirror": "http://127.0.0.1:9/debian"})
    with pytest.raises(LabgenError) as caught:
        rootfs.reachable_archive(offline)
    assert str(caught.value).startswith(
        "box debian-13: cannot reach debian's archive at http://127.0.0.1:9/debian "
        "(http://127.0.0.1:9/debian/dists/trixie/Release: "
    ), caught.value


@pytest.mark.parametrize(("blueprint", "box", "name"), [
    ("keepalived-rr", "debian-13", "mx-kr-debian-13"),
    ("pacemaker-nginx", "ubuntu-24.04", "mx-pn-ubuntu-2404"),
])
def test_matrix_labs_are_named_for_the_blueprint_and_box(blueprint, box, name):
    assert lab_name(blueprint, box) == name


ROW = {
    "box": "debian-13", "lab": "mx-kr-debian-13", "versions": {"keepalived": "1:2.3.3-1"}, "up_s": 11.1,
    "tests": {"passed": 50, "skipped": 6}, "claims": {"vip-answers": "passed", "round-robin": "not proven"},
    "failovers": [
        {"fault": "stop", "vip_moved_ms": 50.0, "expected_ms": None, "rule": "", "failback_ms": 3.0}
    ],
    "error": None, "log": "/x.log", "passed": True,
}


def test_matrix_shows_an_earlier_run_as_markdown(tmp_path):
    """What docs/platforms.md holds: the rows of a `--json` run, as a Markdown table."""
    saved = tmp_path / "run.json"
    saved.write_text(json.dumps([ROW, {**ROW, "box": "debian-11", "error": "labgen up failed: boom"}]))
    table = labgen("matrix", "keepalived-rr", "--from", str(saved), "--markdown", check_ok=False).stdout
    row = "| debian-13 | keepalived 2.3.3 | 11.1 s | 50 passed, 6 skipped | 1/2 (1 not proven) | 0.05 s |"
    assert row in table, table
    assert "| debian-11 |" in table and "labgen up failed: boom" in table


def test_matrix_exits_1_when_a_release_failed(tmp_path):
    saved = tmp_path / "run.json"
    saved.write_text(json.dumps([{**ROW, "error": "labgen verify failed"}]))
    assert labgen("matrix", "keepalived-rr", "--from", str(saved), "--json").returncode == 1
    saved.write_text(json.dumps([ROW]))
    assert labgen("matrix", "keepalived-rr", "--from", str(saved), "--json").returncode == 0
