"""The docs cannot drift: the blueprint reference is generated from the model, and every
`labgen ...` command line shown in the docs parses with the real command line."""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
import shlex
from functools import cache
from pathlib import Path

import pytest
import typer
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from labgen.classroom.seat import seat_argv
from labgen.cli import app
from labgen.lab import check_lab_name
from labgen.model.load import load_blueprint
from labgen.paths import blueprint_names
from labgen.providers import PROVIDERS
from labgen.verify.faults import FAULTS

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted(
    [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "docs" / "blueprints").glob("*.md")]
)
# `seat07$ labgen status`: a student's command, which labgen-seat turns into the lab's
COMMAND = re.compile(r"^(?:(?P<seat>seat\d\d)\$\s+)?(?:sudo\s+)?(?:\.venv/bin/)?labgen(?:\s+(?P<args>.*))?$")
PLACEHOLDER = re.compile(r"^[A-Z][A-Z0-9_]*(?:=[A-Z][A-Z0-9_]*)?$")  # LAB, NODE, KEY=VALUE
SHELL_OPERATORS = {"|", "||", "&&", ";", ">", ">>", "<", "&"}


def _load_docs_reference():
    """scripts/docs_reference.py: a developer's tool, outside the runtime package."""
    path = ROOT / "scripts" / "docs_reference.py"
    spec = importlib.util.spec_from_file_location("docs_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


docs_reference = _load_docs_reference()


# ---- (1) the reference block ---------------------------------------------------------------


def test_reference_block_equals_the_model():
    block = docs_reference.current_block(docs_reference.AUTHORING.read_text())
    assert block == docs_reference.reference_markdown(), (
        "docs/authoring.md's blueprint reference is out of date: run python scripts/docs_reference.py --write"
    )


def test_every_key_says_what_it_is_for():
    undescribed = [
        f"{model.__name__}.{name}"
        for model, _ in docs_reference.models()
        for name, field in model.model_fields.items()
        if not field.description
    ]
    assert undescribed == [], f"give these Field(description=...): {undescribed}"


def test_schema_file_equals_the_model():
    assert docs_reference.SCHEMA.read_text() == docs_reference.json_schema(), (
        "docs/blueprint.schema.json is out of date: run python scripts/docs_reference.py --write"
    )


@pytest.mark.parametrize("blueprint", blueprint_names())
def test_shipped_blueprints_pass_the_schema(blueprint):
    """An editor checking against the schema must not flag a blueprint that labgen accepts."""
    schema = json.loads(docs_reference.SCHEMA.read_text())
    data = YAML(typ="safe").load((ROOT / "blueprints" / blueprint / "blueprint.yaml").read_text())
    errors = Draft202012Validator(schema).iter_errors(data)
    assert [f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors] == []


def test_schema_rejects_what_the_model_rejects():
    schema = json.loads(docs_reference.SCHEMA.read_text())
    data = YAML(typ="safe").load((ROOT / "blueprints" / "keepalived-rr" / "blueprint.yaml").read_text())
    data["keepalived"]["advert_intt"] = 1
    data["nodes"][0]["role"] = "primary"
    messages = sorted(e.message for e in Draft202012Validator(schema).iter_errors(data))
    assert any("advert_intt" in m for m in messages) and any("primary" in m for m in messages), messages


def test_reference_covers_every_key():
    text = docs_reference.reference_markdown()
    for model, _ in docs_reference.models():
        for name in model.model_fields:
            assert f"| `{name}` |" in text, f"{model.__name__}.{name} missing from the reference"


# ---- (2) every command line in the docs ----------------------------------------------------


def code_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of every line in a fenced block or an indented code block."""
    found, fence, previous_blank = [], None, True
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if fence:
            if stripped.startswith(fence):
                fence = None
            else:
                found.append((number, stripped))
        elif stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
        elif (
            line.startswith(("    ", "\t"))
            and stripped
            and (previous_blank or (found and found[-1][0] == number - 1))
        ):
            found.append((number, stripped))
        previous_blank = not stripped
    # join continuation lines ending in a backslash
    joined: list[tuple[int, str]] = []
    for number, line in found:
        if joined and joined[-1][1].endswith("\\") and joined[-1][0] < number:
            joined[-1] = (joined[-1][0], joined[-1][1][:-1] + " " + line)
        else:
            joined.append((number, line))
    return joined


def doc_commands() -> list[tuple[str, str]]:
    """(where, line) of every `labgen ...` command line in the docs."""
    commands = []
    for path in DOCS:
        for number, line in code_lines(path.read_text()):
            if COMMAND.match(line):
                commands.append((f"{path.relative_to(ROOT)}:{number}", line))
    return commands


def synopsis_variants(args: str) -> list[list[str]]:
    """The argv lists a documented line stands for.

    Real examples are taken as they are. Synopsis lines (README's command list) are expanded:
    a trailing description after two spaces is dropped, `[...]` groups are included, `...`
    repetition is dropped, and `a|b|c` gives one argv per alternative.
    """
    args = re.split(r"\s{2,}(?=(?:[^'\"]*['\"][^'\"]*['\"])*[^'\"]*$)", args.strip(), maxsplit=1)[0]
    tokens = shlex.split(args, comments=True)
    for i, token in enumerate(tokens):
        if token in SHELL_OPERATORS:
            tokens = tokens[:i]
            break
    choices, verbatim = [], False
    for token in tokens:
        if verbatim or " " in token:  # the node's command after --, or a quoted expression
            choices.append([token])
            continue
        verbatim = token == "--"
        bare = re.sub(r"\](\.\.\.)?$", "", token.lstrip("["))
        bare = "" if bare == "..." else bare.removesuffix("...")
        if bare:
            choices.append(bare.split("|"))
    return [list(variant) for variant in itertools.product(*choices)]


def parse(argv: list[str]) -> tuple[str, dict]:
    """Parse argv with the real CLI, down to the leaf command, without running anything.

    Returns the command's path ("box build") and its parsed parameters.
    """
    command = _root_command()
    ctx = None
    path: list[str] = []
    args = list(argv)
    while True:
        ctx = command.make_context(path[-1] if path else "labgen", args, parent=ctx, resilient_parsing=False)
        if not hasattr(command, "commands"):
            return " ".join(path), ctx.params
        rest = [*ctx._protected_args, *ctx.args]  # how TyperGroup.invoke finds its subcommand
        if not rest:
            raise AssertionError("no command given")
        name, command, args = command.resolve_command(ctx, rest)
        path.append(name)


def check_values(where: str, command: str, params: dict) -> None:
    """Values the CLI checks only when it runs: faults, providers, blueprints, lab names, --set."""
    fault = params.get("fault")
    if fault is not None:
        assert fault in FAULTS, f"{where}: --fault {fault}: the CLI knows {', '.join(FAULTS)}"
    provider = params.get("provider")
    if provider is not None and not PLACEHOLDER.match(provider):
        assert provider in PROVIDERS, f"{where}: --provider {provider}: the CLI knows {', '.join(PROVIDERS)}"
    lab = params.get("lab") or (params.get("name") if command in ("up", "render", "status") else None)
    if lab and not PLACEHOLDER.match(lab):
        check_lab_name(lab)
    blueprint = params.get("blueprint")
    sets = [s for s in params.get("set_") or [] if not PLACEHOLDER.match(s)]
    if blueprint and not PLACEHOLDER.match(blueprint) and not blueprint.startswith(("/", ".")):
        assert blueprint in blueprint_names(), f"{where}: no blueprint {blueprint!r}"
        load_blueprint(blueprint, sets)  # raises LabgenError on a bad --set
    node = params.get("node")
    if node and not PLACEHOLDER.match(node):
        assert node in _node_names() | {"client"}, f"{where}: no blueprint has a node {node!r}"
    keyword = params.get("keyword")
    if command == "verify" and keyword and lab in blueprint_names():
        suite = _suite_text(lab)
        for word in set(re.findall(r"[A-Za-z_][\w-]*", keyword)) - {"and", "or", "not"}:
            assert word.lower() in suite, f"{where}: -k {keyword!r}: {word!r} names no test of {lab}"


@cache
def _suite_text(blueprint: str) -> str:
    """A lab named after its blueprint runs that blueprint's suite: its file names and code."""
    tests = ROOT / "blueprints" / blueprint / "tests"
    return " ".join(f"{f.name} {f.read_text()}" for f in sorted(tests.glob("test_*.py"))).lower()


@cache
def _root_command():
    return typer.main.get_command(app)


@cache
def _node_names() -> set[str]:
    return {node.name for name in blueprint_names() for node in load_blueprint(name)[0].nodes}


COMMANDS = doc_commands()


def test_the_docs_show_commands():
    assert len(COMMANDS) > 50, "the command extraction found too few lines: is code_lines broken?"


@pytest.mark.parametrize(("where", "line"), COMMANDS, ids=[where for where, _ in COMMANDS])
def test_documented_command_parses(where, line):
    match = COMMAND.match(line)
    for argv in synopsis_variants(match.group("args") or ""):
        if seat := match.group("seat"):
            argv = seat_argv(argv, seat, seat)  # what the seat's labgen runs; LabgenError if refused
        try:
            command, params = parse(argv)
        except typer.Exit as exc:  # --help
            assert exc.exit_code == 0, f"{where}: `{line}` exits {exc.exit_code}"
            continue
        except typer.TyperException as exc:
            pytest.fail(f"{where}: `{line}` is refused by the CLI ({' '.join(argv)}): {exc}")
        check_values(where, command, params)


def test_a_wrong_option_or_command_is_caught():
    """The checker itself: what a stale doc line would look like fails."""
    for argv in (["up", "keepalived-rr", "--nmae", "a"], ["destroy", "LAB"], ["verify"], ["exec", "LAB"]):
        with pytest.raises(typer.TyperException):
            parse(argv)
    assert parse(["exec", "LAB", "lb0", "--", "ip", "addr"])[1]["command"][-2:] == ["ip", "addr"]
    assert synopsis_variants("up BLUEPRINT [--provider libvirt|nspawn] [--set KEY=VALUE]...  starts it") == [
        ["up", "BLUEPRINT", "--provider", "libvirt", "--set", "KEY=VALUE"],
        ["up", "BLUEPRINT", "--provider", "nspawn", "--set", "KEY=VALUE"],
    ]
    assert synopsis_variants("exec LAB lb0 -- sh -c '[ -x a ] | b' x|y") == [
        ["exec", "LAB", "lb0", "--", "sh", "-c", "[ -x a ] | b", "x|y"]
    ]
    with pytest.raises(AssertionError):
        check_values("here", "failover", {"fault": "explode", "lab": "LAB"})
    with pytest.raises(AssertionError):
        check_values("here", "verify", {"lab": "keepalived-rr", "keyword": "splitbrain"})


def test_ci_runs_every_vm_module():
    """scripts/test names the VM modules one by one (it orders them): a new one must be named too."""
    script = (ROOT / "scripts" / "test").read_text()
    modules = sorted(p.name for p in (ROOT / "tests" / "e2e").glob("test_*.py"))
    assert modules and [m for m in modules if f"tests/e2e/{m}" not in script] == []
