"""The command line as a user meets it: real processes, exit codes, one-line errors, JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import BLUEPRINTS

COMMANDS = [
    "list",
    "show",
    "render",
    "up",
    "status",
    "exec",
    "ssh",
    "verify",
    "failover",
    "watch",
    "capture",
    "impair",
    "down",
    "box",
    "box build",
    "box list",
    "doctor",
]


def labgen(*args: str, check_ok: bool | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "labgen", *args], capture_output=True, text=True, env=os.environ, timeout=120
    )
    assert "Traceback" not in result.stderr, result.stderr
    if check_ok is not None:
        assert (result.returncode == 0) == check_ok, result.stdout + result.stderr
    return result


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("labgen: error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    assert "Usage" in labgen(*command.split(), "--help", check_ok=True).stdout


def test_list():
    out = labgen("list", check_ok=True).stdout
    assert all(name in out for name in BLUEPRINTS)
    assert [b["name"] for b in json.loads(labgen("list", "--json", check_ok=True).stdout)] == BLUEPRINTS


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_show_names_nodes_vip_and_departures(blueprint):
    human = labgen("show", blueprint, check_ok=True).stdout
    assert "lb0" in human and "departures from the tutorial" in human and "VIP" in human
    data = json.loads(labgen("show", blueprint, "--json", check_ok=True).stdout)
    assert data["name"] == blueprint and len(data["departures"]) >= 3


def test_show_reports_lvs_skipped_with_nspawn_without_ip_vs():
    data = json.loads(labgen("show", "keepalived-rr", "--json", check_ok=True).stdout)
    if os.path.exists("/proc/net/ip_vs"):
        pytest.skip("this host has ip_vs: nothing is skipped")
    assert "ip_vs" in data["skipped_by_provider"]["nspawn"][0]["reason"]
    assert data["skipped_by_provider"]["libvirt"] == []


def test_render_writes_the_lab(tmp_path):
    result = labgen("render", "keepalived-rr", "-o", str(tmp_path / "lab"), check_ok=True)
    assert "rendered lab keepalived-rr" in result.stdout
    assert (tmp_path / "lab/Vagrantfile").is_file()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["render", "nope", "-o", "X"],
            "unknown blueprint 'nope'; known blueprints: heartbeat-nginx, keepalived-rr",
        ),
        (
            ["render", "keepalived-rr", "-o", "X", "--set", "keepalived.priorities.backup=300"],
            "--set keepalived.priorities.backup=300",
        ),
        (
            ["render", "keepalived-rr", "-o", "X", "--set", "keepalived.virtual_router_idd=3"],
            "did you mean 'virtual_router_id'",
        ),
        (["show", "keepalived-rr", "--set", "keepalived.advert_int=x"], "valid number"),
        (["exec", "no-such-lab", "lb0", "--", "true"], "no lab named 'no-such-lab'"),
        (["failover", "no-such-lab", "--fault", "melt"], "unknown fault 'melt'"),
        (["up", "keepalived-rr", "--name", "Bad Name"], "lab name 'Bad Name'"),
        (["box", "build", "debian-7"], "unknown box 'debian-7'"),
    ],
)
def test_bad_input_is_one_line_and_nothing_is_written(tmp_path, args, words):
    args = [str(tmp_path / "X") if a == "X" else a for a in args]
    line = one_error_line(labgen(*args))
    assert words in line
    assert not (tmp_path / "X").exists()


def test_malformed_yaml_names_file_and_line(tmp_path, blueprint_copy):
    folder = blueprint_copy("heartbeat-nginx")
    yaml_file = folder / "blueprint.yaml"
    yaml_file.write_text(yaml_file.read_text().replace("web: nginx", "web: [nginx"))
    line = one_error_line(labgen("render", str(folder), "-o", str(tmp_path / "out")))
    assert f"{yaml_file}:" in line and "malformed YAML" in line
    assert not (tmp_path / "out").exists()


def test_a_rendered_lab_is_replaced_only_with_force(tmp_path):
    labgen("render", "heartbeat-nginx", "-o", str(tmp_path / "lab"), check_ok=True)
    assert "--force" in one_error_line(labgen("render", "heartbeat-nginx", "-o", str(tmp_path / "lab")))
    labgen("render", "heartbeat-nginx", "-o", str(tmp_path / "lab"), "--force", check_ok=True)


def test_down_of_a_missing_lab_says_so_and_succeeds():
    assert "nothing to do" in labgen("down", "no-such-lab", check_ok=True).stdout


def test_status_without_labs():
    assert "no labs" in labgen("status", check_ok=True).stdout
    assert json.loads(labgen("status", "--json", check_ok=True).stdout) == []


def test_doctor_reports_each_provider():
    report = json.loads(labgen("doctor", "--json").stdout)
    assert set(report) == {"libvirt", "nspawn"}
    seats = {provider: entry["classroom"]["seats"] for provider, entry in report.items()}
    for fit in seats.values():
        assert set(fit) == {"keepalived-rr", "heartbeat-nginx", "pacemaker-nginx"}, seats
    assert seats["libvirt"]["keepalived-rr"] < seats["nspawn"]["keepalived-rr"], seats  # 640 MB vs 40


def test_doctor_says_each_nodes_bounds_and_what_this_host_cannot_enforce():
    """A limit the host lacks is said, never dropped silently: io here (no io weight on v1 blkio),
    and the seat's process limit where root cannot lift it (labgen in a container)."""
    from labgen.classroom.seat import can_lift_seat_limits

    limits = json.loads(labgen("doctor", "--json").stdout)["nspawn"]["node_limits"]
    assert set(limits["enforced"]) == {"pids", "memory", "cpu", "io", "kill"}, limits
    assert limits["per_blueprint"]["pacemaker-nginx"]["memory_mb"] == 512, limits
    assert limits["seat_limit_lifted_in_nodes"] is can_lift_seat_limits()
    text = labgen("doctor").stdout
    assert "keepalived-rr: at most 512 processes, 256 MiB of memory (no swap)" in text, text
    missing = [name for name, ok in limits["enforced"].items() if not ok]
    assert (f"not: {', '.join(missing)}" in text) == bool(missing), text


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--delay", "100"], "--delay '100': give a number and a unit, e.g. 100ms"),
        (["--loss", "5; reboot"], "--loss '5; reboot': give a number and a unit, e.g. 10%"),
        (["--jitter", "10ms"], "--jitter varies a --delay: give both"),
        ([], "say how to impair the link"),
        (["--clear", "--loss", "5%"], "--clear takes the impairment off: give it alone"),
    ],
)
def test_impair_takes_only_numbers_and_units(args, said):
    """Checked before any lab is looked at: nothing but a number and a unit ever reaches tc."""
    assert said in one_error_line(labgen("impair", "no-such-lab", "lb0", "public", *args))
