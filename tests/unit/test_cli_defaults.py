"""Defaults set once (environment, config files), --version and shell completion, as a user meets
them: real `labgen` processes, the lab files they write, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_cli import one_error_line


def run(*args: str, config: str | None = None, home: Path, env: dict | None = None):
    """labgen with its own XDG_CONFIG_HOME (holding `config` as labgen/config.toml, if given)."""
    if config is not None:
        (home / "labgen").mkdir(parents=True, exist_ok=True)
        (home / "labgen" / "config.toml").write_text(config)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LABGEN_")}
    environment |= {"XDG_CONFIG_HOME": str(home), **(env or {})}
    result = subprocess.run(
        [sys.executable, "-m", "labgen", *args], capture_output=True, text=True, env=environment, timeout=120
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def rendered_provider(tmp_path: Path, *args: str, **kw) -> str:
    out = tmp_path / "lab"
    result = run("render", "keepalived-rr", "-o", str(out), "--force", *args, home=tmp_path / "cfg", **kw)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads((out / "lab.json").read_text())["provider"]


def test_the_command_line_beats_the_environment_which_beats_the_file(tmp_path):
    assert rendered_provider(tmp_path) == "libvirt"  # render's own default
    assert rendered_provider(tmp_path, config='provider = "nspawn"\n') == "nspawn"
    assert rendered_provider(tmp_path, env={"LABGEN_PROVIDER": "libvirt"}) == "libvirt"
    assert rendered_provider(tmp_path, "-p", "nspawn", env={"LABGEN_PROVIDER": "libvirt"}) == "nspawn"


def test_a_command_table_is_that_command_alone(tmp_path):
    config = '[up]\nprovider = "nspawn"\n'
    assert rendered_provider(tmp_path, config=config) == "libvirt"
    shown = run("up", "--help", home=tmp_path / "cfg", env={"COLUMNS": "200"}).stdout
    assert "[default: nspawn]" in shown, shown


def test_labgen_box_from_the_environment(tmp_path):
    out = tmp_path / "lab"
    run("render", "heartbeat-nginx", "-o", str(out), home=tmp_path, env={"LABGEN_BOX": "debian-11"})
    assert json.loads((out / "lab.json").read_text())["nodes"][0]["box"].endswith("debian-11")


@pytest.mark.parametrize(
    "config, said",
    [
        ('provdier = "nspawn"\n', "no labgen command has an option --provdier (did you mean --provider?)"),
        ("[up]\nseats = 3\n", "`labgen up` has no option --seats"),
        ("[class]\nseat = 3\n", "under `labgen class` has an option --seat (did you mean --seats?)"),
        ("provider = [\n", "not a readable TOML file"),
    ],
)
def test_a_bad_config_file_is_one_line_naming_it(tmp_path, config, said):
    line = one_error_line(run("list", config=config, home=tmp_path))
    assert str(tmp_path / "labgen" / "config.toml") in line and said in line, line


def test_version(tmp_path):
    result = run("--version", home=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("labgen 0."), result.stdout


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_a_completion_script_for_each_shell(tmp_path, shell):
    script = run("--show-completion", shell, home=tmp_path).stdout
    assert "_LABGEN_COMPLETE" in script, script


def test_completion_names_commands_and_labs_blueprints(tmp_path):
    def complete(words: str) -> list[str]:
        env = {
            "_LABGEN_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - 1),
        }
        return run(home=tmp_path, env=env).stdout.split()

    assert complete("labgen sta") == ["status"]
    assert complete("labgen show keep") == ["keepalived-rr"]


def test_completion_names_a_labs_nodes_read_off_its_lab_json(tmp_path):
    labs = tmp_path / "labgen-home" / "labs"
    (labs / "t-comp").mkdir(parents=True)
    (labs / "t-comp" / "lab.json").write_text(json.dumps({"nodes": [{"name": "lb0"}, {"name": "lb1"}]}))

    def complete(words: str) -> list[str]:
        env = {"_LABGEN_COMPLETE": "complete_bash", "COMP_WORDS": words,
               "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
               "LABGEN_HOME": str(tmp_path / "labgen-home")}
        return run(home=tmp_path, env=env).stdout.split()

    assert complete("labgen exec t-comp ") == ["lb0", "lb1", "client"]
    assert complete("labgen capture t-comp lb") == ["lb0", "lb1"]
    assert complete("labgen ssh t-comp c") == ["client"]
    assert complete("labgen exec ../etc ") == [], "only a lab's own folder is read"
