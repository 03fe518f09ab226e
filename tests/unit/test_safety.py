"""Hostile or careless input: nothing outside labgen's own labs is deleted, no path escapes its
root, no text becomes code, and every mistake is one line and exit 2. One test per rule."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from labgen import paths
from labgen.errors import LabgenError
from labgen.locks import lab_lock
from labgen.model.load import load_blueprint
from labgen.render import render_lab


def labgen(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "labgen", *args], capture_output=True, text=True, timeout=120, cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )


def refused(*args: str, cwd: Path | None = None) -> str:
    """The command fails as a user error must: exit 2, one line on stderr, no traceback."""
    result = labgen(*args, cwd=cwd)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, f"labgen {args}: exit {result.returncode}\n{result.stdout}{result.stderr}"
    assert len(lines) == 1 and lines[0].startswith("labgen: error: "), result.stderr
    return lines[0]


def tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


# ---- deleting what is not a lab -------------------------------------------------------------


@pytest.fixture
def home_with_a_lab(tmp_path: Path) -> Path:
    """LABGEN_HOME with one rendered lab and things that are not labs beside it."""
    home = Path(os.environ["LABGEN_HOME"])
    render_lab("keepalived-rr", home / "labs" / "kept", name="kept", provider="nspawn", sets=[], force=False)
    (home / "labs" / "stray").mkdir()
    (home / "labs" / "stray" / "notes.txt").write_text("mine")
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "lab.json").write_text("{}")
    return home


@pytest.mark.parametrize("name", ["", "..", ".", "/tmp/x", "../x", "kept/..", "KEPT", "a b", "-rf"])
def test_down_takes_a_lab_name_only(home_with_a_lab, tmp_path, name):
    before = tree(home_with_a_lab), tree(tmp_path)
    message = refused("down", name.replace("/tmp/x", str(tmp_path / "x")))
    assert "No such option" in message if name.startswith("-") else "lab name" in message
    assert (tree(home_with_a_lab), tree(tmp_path)) == before


def test_down_leaves_a_folder_that_is_not_a_lab(home_with_a_lab):
    assert "not a lab labgen made" in refused("down", "stray")
    assert (home_with_a_lab / "labs" / "stray" / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("where", ["cwd", "parent of cwd", "blueprint folder", "inside the blueprint"])
def test_render_never_writes_over_the_current_or_the_blueprint_folder(tmp_path, blueprint_copy, where):
    folder = blueprint_copy("keepalived-rr")
    cwd = tmp_path / "work" / "here"
    cwd.mkdir(parents=True)
    (cwd / "mine.txt").write_text("mine")
    out = {
        "cwd": ".",
        "parent of cwd": "..",
        "blueprint folder": str(folder),
        "inside the blueprint": str(folder / "templates"),
    }[where]
    before = tree(tmp_path)
    for force in ([], ["--force"]):
        refused("render", str(folder), "-o", out, *force, cwd=cwd)
    assert tree(tmp_path) == before


def test_render_empty_output_is_refused(tmp_path):
    (tmp_path / "mine.txt").write_text("mine")
    assert "current folder" in refused("render", "keepalived-rr", "-o", "", "--force", cwd=tmp_path)
    assert tree(tmp_path) == {"mine.txt"}


def test_render_into_the_running_labs_is_refused():
    assert "holds the labs" in refused("render", "keepalived-rr", "-o", str(paths.labs_dir() / "x"))


@pytest.mark.parametrize("parent", ["a file", "/proc", "/sys/kernel"])
def test_render_into_an_unwritable_place_is_one_line(tmp_path, parent):
    base = {"a file": str(tmp_path / "file"), "/proc": "/proc", "/sys/kernel": "/sys/kernel"}[parent]
    (tmp_path / "file").write_text("x")
    refused("render", "keepalived-rr", "-o", f"{base}/lab")


def test_render_force_replaces_a_rendered_lab_with_what_running_it_left(tmp_path):
    """What the lab's own suite leaves (its records, Python's caches) goes with it
    (labgen.render.manifest); tests/security/test_inputs.py: what is refused."""
    out = tmp_path / "lab"
    render_lab("keepalived-rr", out, name=None, provider="nspawn", sets=[], force=False)
    for left in ("logs/claims.json", "tests/__pycache__/conftest.cpython-311.pyc"):
        (out / left).parent.mkdir(exist_ok=True)
        (out / left).write_text("x")
    render_lab("keepalived-rr", out, name=None, provider="nspawn", sets=[], force=True)
    assert not (out / "logs").exists() and not (out / "tests/__pycache__").exists()
    assert (out / "lab.json").is_file()


# ---- writing outside the lab directory -------------------------------------------------------

ESCAPES = [
    ("path: /var/www/html/index.html", "path: /var/www/html/../../../etc/passwd", "files[0].path"),
    ("path: /var/www/html/index.html", "path: var/www/html/index.html", "files[0].path"),
    ("template: index.html.j2", "template: ../../../../etc/passwd", "files[0].template"),
    ("template: index.html.j2", "template: /etc/passwd", "files[0].template"),
    ("web_root: /var/www/html", "web_root: /var/www/html/..", "web_root"),
    ("box: debian-12", "box: ../../x", "box"),
    ("file: profitbricks-keepalived-apache.txt", "file: ../../etc/shadow", "source.file"),
]


@pytest.mark.parametrize(("old", "new", "field"), ESCAPES, ids=[e[1] for e in ESCAPES])
def test_paths_stay_inside_their_root(blueprint_copy, old, new, field):
    folder = blueprint_copy("keepalived-rr")
    yaml_file = folder / "blueprint.yaml"
    text = yaml_file.read_text()
    assert old in text
    yaml_file.write_text(text.replace(old, new, 1))
    with pytest.raises(LabgenError) as caught:
        load_blueprint(str(folder))
    message = str(caught.value)
    assert message.startswith(f"{yaml_file}:") and f": {field}: " in message, message


def test_tests_folder_outside_the_blueprint_is_refused(blueprint_copy):
    folder = blueprint_copy("keepalived-rr")
    (folder / "blueprint.yaml").write_text((folder / "blueprint.yaml").read_text() + "tests: ../../tests\n")
    with pytest.raises(LabgenError, match=r"tests: .*without '\.\.'"):
        load_blueprint(str(folder))


# ---- user text never becomes code --------------------------------------------------------------

HOSTILE_TEXT = "x\nputs 'ruby ran'; system('touch /tmp/labgen-pwned')\n#{`touch /tmp/labgen-pwned`}'\"\\"
HOSTILE_PAGE = "LABGEN_EOF\n$(touch /tmp/labgen-pwned) `id` ${HOME} 'q' \"dq\" \\\nEOF\nno final newline"
@pytest.fixture
def hostile_lab(tmp_path: Path) -> Path:
    out = tmp_path / "lab"
    sets = [
        "title=" + _yaml_str(HOSTILE_TEXT),
        "source.publisher=" + _yaml_str(HOSTILE_TEXT),
        "nodes.lb0.page=" + _yaml_str(HOSTILE_PAGE),
        "networks.vlan.purpose=" + _yaml_str(HOSTILE_TEXT),
    ]
    render_lab("keepalived-rr", out, name="hostile", provider="libvirt", sets=sets, force=False)
    return out


def _yaml_str(text: str) -> str:
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar


def test_hostile_text_keeps_the_provisioners_valid_bash(hostile_lab):
    for script in (hostile_lab / "provision").glob("*.sh"):
        done = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def test_hostile_page_is_written_verbatim_by_the_provisioner(hostile_lab, tmp_path):
    """Run the provisioner's own file-writing commands, rooted in a scratch folder."""
    script = (hostile_lab / "provision" / "lb0.sh").read_text()
    start = script.index("cat > /var/www/html/index.html")
    end = script.index("chmod 0644 /var/www/html/index.html")
    snippet = script[start:end].replace("/var/www/html/index.html", str(tmp_path / "index.html"))
    done = subprocess.run(["bash", "-euc", snippet], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "index.html").read_text() == HOSTILE_PAGE + "\n"
    assert not Path("/tmp/labgen-pwned").exists()


RUBY_STUB = """
# A stand-in for Vagrant: records the configuration and runs nothing else of the lab.
class Recorder
  def method_missing(name, *args, **kw, &block)
    block.call(Recorder.new, Recorder.new) if block
    Recorder.new
  end
  def respond_to_missing?(*) = true
end
module Vagrant
  def self.configure(_version)
    yield Recorder.new
  end
end
load ARGV[0]
print "loaded"
"""


@pytest.mark.skipif(shutil.which("ruby") is None, reason="needs ruby (installed with vagrant)")
def test_hostile_text_keeps_the_vagrantfile_data(hostile_lab, tmp_path):
    vagrantfile = hostile_lab / "Vagrantfile"
    check = subprocess.run(["ruby", "-c", str(vagrantfile)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    (tmp_path / "stub.rb").write_text(RUBY_STUB)
    stub = tmp_path / "stub.rb"
    done = subprocess.run(["ruby", str(stub), str(vagrantfile)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "loaded", f"the Vagrantfile ran code: {done.stdout!r}"
    assert not Path("/tmp/labgen-pwned").exists()


def test_config_comments_stay_comments(hostile_lab):
    conf = (hostile_lab / "files" / "lb0" / "etc" / "keepalived" / "keepalived.conf").read_text()
    assert "\nputs" not in conf
    interfaces = (hostile_lab / "provision" / "lb0.sh").read_text()
    assert "\nputs 'ruby ran'" not in interfaces


@pytest.mark.parametrize(
    ("item", "words"),
    [
        ("nodes.lb0.hostname=a;touch", "not a host name"),
        ("nodes.lb0.hostname=-lead", "not a host name"),
        ("packages=[apache2, 'x; rm -rf /']", "packages"),
        ("services=['apache2 && reboot']", "services"),
        ("sysctl={'net.ipv4.ip_forward': '1; reboot'}", "sysctl"),
        ("keepalived.auth_pass='a b'", "auth_pass"),
        ("keepalived.router_ids={preferred: 'A}', backup: B}", "router_ids"),
        ("keepalived.health_check.url=/x;y", "url"),
    ],
)
def test_fields_with_a_grammar_are_validated_by_it(item, words):
    with pytest.raises(LabgenError) as caught:
        load_blueprint("keepalived-rr", [item])
    assert str(caught.value).startswith(f"--set {item}: ") and words in str(caught.value)


# ---- values that are valid YAML but break the lab --------------------------------------------

BREAKING = [
    ("keepalived-rr", "keepalived.priorities={preferred: 50, backup: 100}", "not above backup"),
    ("keepalived-rr", "keepalived.priorities={preferred: 100, backup: 100}", "not above backup"),
    ("keepalived-rr", "networks.public.interface=eth1", "already carries the vlan network"),
    ("keepalived-rr", "keepalived.network=vlan", "the VIP lives on 'public'"),
    ("heartbeat-nginx", "heartbeat.vip_network=vlan", "the VIP lives on 'public'"),
    ("heartbeat-nginx", "nodes.lb0.hostname=alpha", "heartbeat names nodes by host name"),
    ("keepalived-rr", "keepalived.advert_int=0", "greater than 0"),
    ("keepalived-rr", "keepalived.advert_int=true", "a yes/no value where a number is needed"),
    ("keepalived-rr", "keepalived.virtual_router_id=true", "a yes/no value where a number is needed"),
    ("heartbeat-nginx", "heartbeat.keepalive=0", "keepalive of 0"),
    ("heartbeat-nginx", "heartbeat.keepalive=0ms", "keepalive of 0"),
    ("keepalived-rr", "web_root=/srv/www", "would not serve the page"),
    ("heartbeat-nginx", "web_root=/var/www", "would not serve the page"),
    ("keepalived-rr", "keepalived.priorities={preferred: 100}", "give both preferred and backup"),
]


@pytest.mark.parametrize(("blueprint", "item", "words"), BREAKING, ids=[b[1] for b in BREAKING])
def test_values_that_break_the_lab_are_refused_naming_the_set(blueprint, item, words):
    with pytest.raises(LabgenError) as caught:
        load_blueprint(blueprint, [item])
    assert str(caught.value).startswith(f"--set {item}: "), caught.value
    assert words in str(caught.value)


def test_vrrpv3_sub_centisecond_advert_is_refused():
    sets = ["keepalived.vrrp_version=3", "keepalived.auth_type=none", "keepalived.advert_int=0.005"]
    with pytest.raises(LabgenError, match="whole centiseconds"):
        load_blueprint("keepalived-rr", sets)


def test_the_same_rule_in_the_yaml_names_its_line(blueprint_copy):
    folder = blueprint_copy("keepalived-rr")
    yaml_file = folder / "blueprint.yaml"
    text = yaml_file.read_text().replace("{preferred: 100, backup: 50}", "{preferred: 50, backup: 100}")
    yaml_file.write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.strip().startswith("priorities:"))
    with pytest.raises(LabgenError, match=rf"^{yaml_file}:{line}: keepalived.priorities: "):
        load_blueprint(str(folder))


# ---- tracebacks: every mistake a user can make is one line ------------------------------------


def catalogue(tmp_path: Path) -> list[list[str]]:
    binary = tmp_path / "binary"
    binary.mkdir()
    (binary / "blueprint.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    unreadable = tmp_path / "unreadable"
    unreadable.mkdir()
    (unreadable / "blueprint.yaml").mkdir()  # reading it fails with IsADirectoryError
    shutil.copytree(paths.blueprints_dir() / "keepalived-rr", tmp_path / "no-tests")
    shutil.rmtree(tmp_path / "no-tests" / "tests")
    undefined = tmp_path / "undefined"
    shutil.copytree(paths.blueprints_dir() / "keepalived-rr", undefined)
    (undefined / "templates" / "index.html.j2").write_text("{{ no_such_variable }}\n")
    syntax = tmp_path / "syntax"
    shutil.copytree(paths.blueprints_dir() / "keepalived-rr", syntax)
    (syntax / "templates" / "index.html.j2").write_text("{% if %}\n")
    out = str(tmp_path / "out")
    return [
        ["render", "keepalived-rr", "-o", out, "--set", "keepalived.advert_int=["],
        ["render", "keepalived-rr", "-o", out, "--set", "keepalived.priorities={preferred: 100}"],
        ["render", "keepalived-rr", "-o", out, "--set", "nodes=[]"],
        ["render", "keepalived-rr", "-o", out, "--set", "nodes.lb0=x"],
        ["render", "keepalived-rr", "-o", out, "--set", "client=null"],
        ["render", str(undefined), "-o", out],
        ["render", str(syntax), "-o", out],
        ["render", str(tmp_path / "no-tests"), "-o", out],
        ["render", str(binary), "-o", out],
        ["render", str(unreadable), "-o", out],
        ["show", str(binary)],
        ["render", "keepalived-rr", "-o", "/proc/lab"],
        ["render", "keepalived-rr", "-o", str(binary / "blueprint.yaml" / "x")],
        ["up", "keepalived-rr", "--name", "Bad_Name"],
        ["up", "keepalived-rr", "--provider", "docker"],
        ["status", "../x"],
        ["exec", "no-such-lab", "lb0", "--", "true"],
        ["verify", "no-such-lab"],
        ["failover", "no-such-lab", "--fault", "unplug"],
        ["box", "build", "windows-95"],
    ]


def test_no_mistake_ends_in_a_traceback(tmp_path):
    for argv in catalogue(tmp_path):
        refused(*argv)
    assert not (tmp_path / "out").exists(), "a failed render left its output behind"


def test_a_corrupt_lab_json_is_one_line_and_shown_broken(tmp_path):
    lab = paths.labs_dir() / "broken"
    render_lab("keepalived-rr", lab, name="broken", provider="nspawn", sets=[], force=False)
    (lab / "lab.json").write_text("{not json")
    assert "unreadable" in refused("verify", "broken")
    listing = labgen("status")
    assert listing.returncode == 1 and "broken" in listing.stdout and "unreadable" in listing.stdout


# ---- one writer per lab -----------------------------------------------------------------------


@pytest.mark.parametrize("command", [["down", "busy"], ["up", "keepalived-rr", "--name", "busy"]])
def test_a_lab_being_changed_refuses_a_second_writer(command):
    with lab_lock("busy", "up"):
        message = refused(*command)
    assert f"lab busy is being changed by pid {os.getpid()} (labgen up)" in message


# ---- output into a file or a pipe ---------------------------------------------------------------


def test_output_to_a_pipe_is_not_wrapped():
    """A departure longer than 80 columns stays one line when stdout is not a terminal."""
    done = labgen("show", "keepalived-rr")
    bp, _ = load_blueprint("keepalived-rr")
    long_ones = [d.why for d in bp.departures if len(d.why) > 100]
    assert long_ones, "test data: no departure longer than 100 characters"
    lines = done.stdout.splitlines()
    for why in long_ones:
        assert any(why in line for line in lines), f"wrapped: {why!r}"
