"""Hostile or careless input to the command line and to the files labgen reads (issue 22's smaller
defects): names are matched whole, no input ends in a traceback, `render --force` replaces only
what labgen provably rendered, an interrupted `up` is finished by the next one, and `status` says
(exit 1) when a lab is not up. The CLI runs as a user runs it, as a process: each mistake is one
line on stderr, exit 2, and nothing made.

The first part needs no machine (its own LABGEN_HOME each); the last part one container lab."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from labgen import paths
from labgen.poll import wait_for
from labgen.render import render_lab
from tests.hostcheck import leftovers, snapshot
from tests.labs import NSPAWN

OUT = "OUT"  # an argument replaced by a new folder under tmp_path, which must not be made


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A LABGEN_HOME of the test's own, for this process and the commands it runs."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("LABGEN_HOME", str(folder))
    return folder


def labgen(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "labgen", *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def refused(*args: str) -> str:
    """A mistake as it must end: exit 2, one line on stderr saying what is wrong, no traceback."""
    done = labgen(*args)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, f"labgen {args}: exit {done.returncode}\n{done.stdout}{done.stderr}"
    assert len(lines) == 1 and lines[0].startswith("labgen: error: "), done.stderr
    return lines[0]


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every path under folder, with its bytes (None for a folder or a link)."""
    found = {}
    for path in folder.rglob("*"):
        regular = path.is_file() and not path.is_symlink()
        found[str(path.relative_to(folder))] = path.read_bytes() if regular else None
    return found


# ---- names and --set values are matched whole -------------------------------------------------

NEWLINES = [
    ["up", "keepalived-rr", "--name", "ab\n", "--provider", "nspawn"],
    ["down", "ab\n"],
    ["status", "ab\n"],
    ["exec", "ab\n", "lb0", "--", "true"],
    ["render", "keepalived-rr", "-o", OUT, "--name", "ab\n"],
    ["render", "keepalived-rr", "-o", OUT, "--set", "keepalived.advert_int=2\n"],
    ["render", "keepalived-rr", "-o", OUT, "--set", "title=two\nlines"],
    ["render", "keepalived-rr", "-o", OUT, "--set", "keepalived\n.advert_int=2"],
    ["render", "keepalived-rr", "-o", OUT, "--set", 'nodes.lb0.hostname="lb0\\n"'],  # YAML's \n
    ["render", "heartbeat-nginx", "-o", OUT, "--set", 'heartbeat.deadtime="2\\n"'],
    ["up", "keepalived-rr", "--name", "ab", "--provider", "nspawn", "--set", "keepalived.advert_int=2\n"],
]


@pytest.mark.parametrize("argv", NEWLINES, ids=[repr(" ".join(a)) for a in NEWLINES])
def test_a_name_key_or_value_ending_in_a_newline_is_refused_and_nothing_made(home, tmp_path, argv):
    refused(*[str(tmp_path / "out") if a == OUT else a for a in argv])
    assert not (tmp_path / "out").exists()
    made = [path for path in home.rglob("*") if "\n" in path.name or path.parent.name == "labs"]
    assert made == [], made


# ---- a blueprint's files: text, or one line --------------------------------------------------

BAD_BYTES = {"NUL": b"key: a\x00b\n", "not UTF-8": b"\xff\xfe\n"}
FILES = ["blueprint.yaml", "templates/keepalived.conf.j2", "tests/test_5_sysctl.py", "breakages.yaml",
         "exercises.yaml"]


@pytest.mark.parametrize("what", BAD_BYTES)
@pytest.mark.parametrize("file", FILES)
def test_a_nul_or_non_utf8_byte_in_a_blueprint_file_is_one_line_naming_it(home, blueprint_copy, tmp_path,
                                                                          file, what):
    folder = blueprint_copy("keepalived-rr")
    with (folder / file).open("ab") as appended:
        appended.write(BAD_BYTES[what])
    catalogue = file.endswith("s.yaml")  # read by the exercises, not by render
    reads = ["exercise", "list"] if catalogue else ["render", "-o", str(tmp_path / "out")]
    message = refused(*reads, str(folder))
    assert f"{folder / file}:" in message and ("NUL" in message or "UTF-8" in message), message
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("text", ["- id: [unclosed\n", "3\n", "{id: x}\n", "[" * 5000 + "\n"],
                         ids=["malformed", "a number", "a mapping", "nested deep"])
def test_a_catalogue_that_is_not_a_list_of_entries_is_one_line(home, blueprint_copy, text):
    folder = blueprint_copy("keepalived-rr")
    (folder / "breakages.yaml").write_text(text)
    assert str(folder / "breakages.yaml") in refused("exercise", "list", str(folder))


def test_paths_that_cannot_be_are_one_line(home, tmp_path):
    """A link loop as -o or on the way to it, a name longer than the file system takes."""
    (tmp_path / "loop").symlink_to("loop")
    for out in (tmp_path / "loop", tmp_path / "loop" / "lab", tmp_path / ("x" * 300) / "lab"):
        assert f"-o {out}" in refused("render", "keepalived-rr", "-o", str(out))
    assert "unknown blueprint" in refused("render", str(tmp_path / "loop"), "-o", str(tmp_path / "lab"))
    assert "nested too deeply" in refused("show", "keepalived-rr", "--set", "title=" + "[" * 5000)


# ---- a lab whose lab.json is not what labgen wrote ---------------------------------------------

LAB_JSONS = {
    "not JSON": b"{not json",
    "NUL bytes": b'{"name": "\x00\x00"}',
    "a JSON list": b"[1, 2]",
    "wrong types": b'{"name": 3, "nodes": "lb0", "networks": []}',
    "empty": b"",
    "not UTF-8": b"\xff\xfe\xfd",
    "nested deep": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.skipif(os.geteuid() != 0, reason="down of a lab takes down its namespaces: root")
@pytest.mark.parametrize("content", LAB_JSONS.values(), ids=LAB_JSONS.keys())
def test_a_lab_with_a_bad_lab_json_is_shown_broken_and_removed_whole(home, content):
    folder = home / "labs" / "broken"
    render_lab("keepalived-rr", folder, name="broken", provider="nspawn", sets=[], force=False)
    (folder / "lab.json").write_bytes(content)
    listing = labgen("status")
    assert listing.returncode == 1 and "broken broken: " in listing.stdout, listing.stdout + listing.stderr
    assert "unreadable" in refused("status", "broken")
    assert "nothing of it is left" in labgen("down", "broken").stdout
    assert not folder.exists()


# ---- render --force replaces only what labgen rendered -------------------------------------------


def rendered(out: Path, *more: str) -> subprocess.CompletedProcess[str]:
    return labgen("render", "keepalived-rr", "-o", str(out), *more)


def test_a_folder_with_a_lab_json_and_a_file_of_the_users_is_never_replaced(home, tmp_path):
    out = tmp_path / "work"
    out.mkdir()
    (out / "lab.json").write_text("{}")
    (out / "thesis.tex").write_text("mine")
    before = tree(out)
    for force in ([], ["--force"]):
        assert "labgen did not write" in refused("render", "keepalived-rr", "-o", str(out), *force)
    assert tree(out) == before


def test_a_marker_copied_from_a_lab_proves_nothing_about_the_users_files(home, tmp_path):
    lab, work = tmp_path / "lab", tmp_path / "work"
    assert rendered(lab).returncode == 0
    shutil.copytree(lab, work)
    (work / "provision" / "notes.txt").write_text("mine")
    (work / "Vagrantfile").write_text("mine, in place of the lab's")
    before = tree(work)
    message = refused("render", "keepalived-rr", "-o", str(work), "--force")
    assert "Vagrantfile was changed since labgen rendered it" in message, message
    (work / "Vagrantfile").write_bytes((lab / "Vagrantfile").read_bytes())
    assert "provision/notes.txt is not something labgen rendered" in refused(
        "render", "keepalived-rr", "-o", str(work), "--force")
    (work / "provision" / "notes.txt").unlink()
    (work / "provision" / "lb0.sh").unlink()
    (work / "provision" / "lb0.sh").symlink_to(tmp_path / "elsewhere")
    assert "provision/lb0.sh was changed" in refused("render", "keepalived-rr", "-o", str(work), "--force")
    (work / "provision" / "lb0.sh").unlink()
    (work / ".labgen-lab").write_text("labgen rendered this lab; `labgen render --force` may replace it\n")
    assert "does not list what labgen rendered" in refused("render", "keepalived-rr", "-o", str(work),
                                                           "--force")
    assert set(tree(work)) == set(before) - {"provision/notes.txt", "provision/lb0.sh"}


def test_a_rendered_lab_is_replaced_with_what_running_it_leaves(home, tmp_path):
    """Its suite's records and caches; vagrant's folder once no machine is left in it."""
    out = tmp_path / "lab"
    assert rendered(out).returncode == 0
    machine = out / ".vagrant" / "machines" / "lb0" / "libvirt" / "id"
    for left in ("logs/claims.json", "tests/__pycache__/conftest.cpython-311.pyc", ".pytest_cache/v/x",
                 str(machine.relative_to(out))):
        (out / left).parent.mkdir(parents=True, exist_ok=True)
        (out / left).write_text("x")
    assert "vagrant still has this machine" in refused("render", "keepalived-rr", "-o", str(out), "--force")
    machine.unlink()  # as `vagrant destroy` does
    assert "rendered lab keepalived-rr" in rendered(out, "--force").stdout
    assert not (out / ".vagrant").exists() and not (out / "logs").exists()
    assert (out / "Vagrantfile").is_file()


# ---- a real lab: an interrupted up, the status's exit code, a lab.json naming another lab ----------

LAB = "t-sec-in"
VIP = "203.0.113.10"
UP = ["up", "keepalived-rr", "--provider", "nspawn", "--name", LAB]
SLOW_LAB = "t-sec-up"  # a lab of its own for the interrupted up


@pytest.fixture(scope="module")
def lab_name():
    """The module's one lab, brought up by the first test that needs it; down at the end, and
    nothing of it left."""
    before = snapshot()
    labgen("down", LAB)  # what an interrupted earlier run left
    labgen("down", SLOW_LAB)
    yield LAB
    assert labgen("down", LAB).returncode == 0  # "nothing of it is left", or no such lab if none ran
    assert leftovers(before, [f"labgen-{LAB}", f"labgen-{SLOW_LAB}"]) == {}


@pytest.fixture
def running(lab_name):
    done = labgen(*UP)
    assert done.returncode == 0, done.stdout + done.stderr
    return lab_name


def _ctrl_c_as_in_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def status(lab: str = LAB) -> tuple[int, dict]:
    done = labgen("status", lab, "--json")
    return done.returncode, json.loads(done.stdout)


def served(lab: str = LAB) -> str:
    return labgen("exec", lab, "client", "--", "curl", "-s", "--max-time", "3", f"http://{VIP}/").stdout


class TestALab:
    pytestmark = NSPAWN

    def test_an_up_interrupted_while_provisioning_is_finished_by_the_next(self, lab_name, tmp_path):
        """A lab of its own whose first election takes 36 s (advert_int 10): the interrupt lands
        inside up however loaded the host. Ctrl-C reaches up as it does from a terminal, SIGINT at
        its default: a suite started in the background of a shell script inherits SIGINT ignored,
        and up then ran to its end (exit 0, not 130) whatever the window."""
        log = tmp_path / "up.log"
        up = ["up", "keepalived-rr", "--provider", "nspawn", "--name", SLOW_LAB]
        slow = [sys.executable, "-m", "labgen", *up, "--set", "keepalived.advert_int=10"]
        with log.open("w") as out:  # its own process group: ctrl-C reaches labgen and what it runs
            first = subprocess.Popen(slow, stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                                     start_new_session=True, preexec_fn=_ctrl_c_as_in_a_terminal)
        try:
            wait_for(log.read_text, lambda text: "setting up lb1" in text or first.poll() is not None,
                     expected="up to reach the provisioning step", timeout=300, interval=0.05)
            assert first.poll() is None, log.read_text()
            os.killpg(first.pid, signal.SIGINT)  # as ctrl-C in a terminal
            assert first.wait(timeout=300) == 130, log.read_text()
            assert "up did not finish" in log.read_text()
            code, report = status(SLOW_LAB)
            assert code == 1 and report["up_state"] == "starting", report
            assert "its `labgen up` did not finish" in report["problem"], report
            again = labgen(*up)  # its --set is the lab's already
            assert again.returncode == 0 and "finishing it" in again.stdout, again.stdout + again.stderr
            assert status(SLOW_LAB)[0] == 0
            assert served(SLOW_LAB).strip() == "Welcome to WebServer 1"
        finally:
            if first.poll() is None:
                first.kill()
                first.wait()
            assert "nothing of it is left" in labgen("down", SLOW_LAB).stdout

    def test_status_exits_1_while_no_node_holds_the_vip(self, running):
        for node in ("lb0", "lb1"):
            labgen("exec", running, node, "--", "systemctl", "stop", "keepalived")
        try:
            _, report = wait_for(status, lambda seen: seen[0] == 1, expected="status to exit 1",
                                 timeout=30, interval=0.5)
            assert f"no node holds the VIP {VIP}" in report["problem"], report
            listing = labgen("status")
            assert listing.returncode == 1 and "no node holds the VIP" in listing.stdout, listing.stdout
        finally:
            for node in ("lb0", "lb1"):
                labgen("exec", running, node, "--", "systemctl", "start", "keepalived")
        _, report = wait_for(status, lambda seen: seen[0] == 0, expected="status to exit 0 again",
                             timeout=60, interval=0.5)
        assert report["state"] == "up" and report["vip_holders"] == ["lb0"], report

    def test_status_exits_1_while_a_web_server_is_down_behind_a_held_vip(self, running):
        """The machines run and lb0 holds the VIP: only the daemons say lb1 would serve nothing."""
        labgen("exec", running, "lb1", "--", "systemctl", "stop", "apache2")
        try:
            code, report = status()
            assert code == 1 and report["vip_holders"] == ["lb0"], report
            assert "apache2 is inactive on lb1" in report["problem"], report
            assert report["units"]["lb1"] == {"keepalived": "active", "apache2": "inactive"}, report
            rows = labgen("status").stdout.splitlines()
            row = next(line for line in rows if line.startswith(f"{running} "))
            assert row.split()[3:] == ["degraded", "lb0", "lb0", "ok", "lb1", "apache2", "inactive", "-"], row
        finally:
            labgen("exec", running, "lb1", "--", "systemctl", "start", "apache2")
        assert status()[0] == 0

    def test_down_of_a_folder_whose_lab_json_names_another_lab_leaves_that_lab(self, running):
        """A lab.json copied from the running lab into another lab's folder: down takes down the
        folder's own lab (by its name), never the running one."""
        impostor = paths.labs_dir() / "t-sec-fk"
        render_lab("keepalived-rr", impostor, name="t-sec-fk", provider="nspawn", sets=[], force=False)
        shutil.copy(paths.labs_dir() / running / "lab.json", impostor / "lab.json")
        assert "nothing of it is left" in labgen("down", "t-sec-fk").stdout
        assert not impostor.exists()
        assert status()[0] == 0
        assert served().strip() == "Welcome to WebServer 1"
