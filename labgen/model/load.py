"""Blueprint YAML -> Blueprint, with every error as one line: file:line: field: what is allowed."""

from __future__ import annotations

import ast
import difflib
import typing
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from labgen import paths
from labgen.errors import LabgenError
from labgen.model.blueprint import Blueprint
from labgen.model.checks import Loc, problems
from labgen.model.files import check_texts, read_text, read_yaml


@dataclass(frozen=True)
class Source:
    """A blueprint found on disk: its folder (templates, tests) and its YAML file."""

    folder: Path
    file: Path


def find_blueprint(name_or_path: str) -> Source:
    """A name from blueprints/, or a path to a blueprint folder or YAML file (for authors)."""
    candidate = Path(name_or_path)
    if candidate.is_dir():
        candidate = candidate / "blueprint.yaml"
    if not candidate.is_file() and "/" not in name_or_path:
        candidate = paths.blueprints_dir() / name_or_path / "blueprint.yaml"
    if not candidate.is_file():
        known = ", ".join(paths.blueprint_names())
        raise LabgenError(f"unknown blueprint {name_or_path!r}; known blueprints: {known} (or give a path)")
    return Source(folder=candidate.parent, file=candidate)


def load_blueprint(name_or_path: str, overrides: list[str] = ()) -> tuple[Blueprint, Source]:
    source = find_blueprint(name_or_path)
    data = _parse(source.file)
    blueprint = _validate(data, data, source.file, {})
    if overrides:
        full = blueprint.model_dump(mode="json")
        set_at = {_apply(full, item): item for item in overrides}
        blueprint = _validate(full, data, source.file, set_at)
    _check_folders(blueprint, source, data)
    return blueprint, source


def _validate(data: dict, yaml_data: CommentedMap, file: Path, set_at: dict[Loc, str]) -> Blueprint:
    try:
        blueprint = Blueprint.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc, yaml_data, file, set_at) from None
    for loc, message in problems(blueprint):
        raise LabgenError(_where(loc, yaml_data, file, set_at) + message)
    return blueprint


def _parse(file: Path) -> CommentedMap:
    data = read_yaml(file, typ="rt")
    if not isinstance(data, CommentedMap):
        raise LabgenError(f"{file}:1: a blueprint is a YAML mapping (name:, nodes:, ...)")
    return data


# ---- where an error is: line numbers and --set --------------------------------------------


def _first_error(exc: ValidationError, data: CommentedMap, file: Path, set_at: dict[Loc, str]) -> LabgenError:
    error = exc.errors()[0]
    loc = tuple(error["loc"])
    if error["type"] == "extra_forbidden":
        message = f"unknown key {loc[-1]!r}{_suggest(loc)}"
    else:
        message = error["msg"].removeprefix("Value error, ")
        if "input" in error and not isinstance(error["input"], dict | list):
            message = f"{error['input']!r}: {message}"
    more = exc.error_count() - 1
    tail = f" (and {more} more problem{'s' * (more > 1)})" if more else ""
    return LabgenError(_where(loc, data, file, set_at) + message + tail)


def _where(loc: Loc, data: CommentedMap, file: Path, set_at: dict[Loc, str]) -> str:
    for set_loc, item in set_at.items():
        if set_loc[: len(loc)] == loc or loc[: len(set_loc)] == set_loc:
            return f"--set {item}: "
    return f"{file}:{_line(data, loc)}: {_dotted(loc, data)}: " if loc else f"{file}:1: "


def _line(data: object, loc: Loc) -> int:
    """1-based line of the deepest part of loc present in the YAML."""
    line, node = 1, data
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
        else:
            break
        node = node[part]
    return line


def _dotted(loc: Loc, data: CommentedMap) -> str:
    text = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            text += f"[{_node_label(data, loc[:i], part)}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _node_label(data: CommentedMap, seq_loc: Loc, index: int) -> str:
    """nodes[lb0] reads better than nodes[0]."""
    if seq_loc == ("nodes",):
        try:
            return str(data["nodes"][index]["name"])
        except (KeyError, IndexError, TypeError):
            pass
    return str(index)


def _suggest(loc: Loc) -> str:
    allowed = _fields_at(Blueprint, loc[:-1])
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; allowed here: {', '.join(sorted(allowed))}" if allowed else ""


def _fields_at(model: type, loc: Loc) -> list[str]:
    """The keys allowed at loc in the model (following lists and dicts of models)."""
    for part in loc:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
        if isinstance(part, int) or part not in model.model_fields:
            continue  # a list index or a dict key: stay on the item model found below
        model = _item_model(model.model_fields[part].annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _item_model(annotation: object) -> object:
    """The model inside Optional[M], list[M] or dict[str, M], else the annotation itself."""
    for arg in typing.get_args(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return annotation


# ---- --set KEY=VALUE ----------------------------------------------------------------------


def _apply(data: dict, item: str) -> Loc:
    """Set one dotted key of the full (defaults included) blueprint; returns its loc.

    Only keys the blueprint has can be set: lists are entered by entry name (nodes.lb0.page).
    """
    if not item.isprintable():
        raise LabgenError(
            f"--set {item!r}: a --set is one line of printable text; write a newline in a value as \\n"
            """ inside double quotes, e.g. --set 'title="a\\nb"'"""
        )
    key, sep, text = item.partition("=")
    if not sep or not key:
        raise LabgenError(f"--set {item}: use KEY=VALUE, e.g. --set keepalived.advert_int=2")
    *parents, last = key.split(".")
    loc: list[str | int] = []
    node: object = data
    for part in parents:
        index = _index_by_name(node, part, item) if isinstance(node, list) else part
        node = _child(node, index, item, key)
        loc.append(index)
    if not isinstance(node, dict) or last not in node:
        raise LabgenError(f"--set {item}: unknown key {key!r}{_close(last, node)}")
    node[last] = _yaml_value(text, item)
    return (*loc, last)


def _yaml_value(text: str, item: str) -> object:
    """The value of a --set, read as YAML (2 is a number, [a, b] a list); quote text that is not."""
    if not text:
        return ""
    try:
        return YAML(typ="safe").load(text)
    except YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise LabgenError(f"--set {item}: the value is not valid YAML ({problem}); quote it") from None
    except RecursionError:
        raise LabgenError(f"--set {item}: the value is nested too deeply; quote it") from None


def _child(node: object, part: str | int, item: str, key: str) -> object:
    if isinstance(node, dict) and part in node and node[part] is None:
        raise LabgenError(f"--set {item}: {part!r} is not used by this blueprint")
    if isinstance(node, list) or (isinstance(node, dict) and part in node):
        return node[part]  # type: ignore[index]
    raise LabgenError(f"--set {item}: unknown key {key!r}{_close(str(part), node)}")


def _close(part: str, node: object) -> str:
    keys = [str(k) for k in node] if isinstance(node, dict) else []
    close = difflib.get_close_matches(part, keys, n=1)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; keys here: {', '.join(keys)}" if keys else ""


def _index_by_name(items: list, name: str, item: str) -> int:
    for index, entry in enumerate(items):
        if isinstance(entry, dict) and entry.get("name") == name:
            return index
    names = ", ".join(str(e.get("name")) for e in items if isinstance(e, dict))
    raise LabgenError(f"--set {item}: no entry named {name!r}; there are: {names}")


def _check_folders(bp: Blueprint, source: Source, data: CommentedMap) -> None:
    """The templates and the tests a blueprint names exist inside its folder, and are text."""
    templates = source.folder / "templates"
    for i, file in enumerate(bp.files):
        if not (templates / file.template).is_file():
            where = _where(("files", i, "template"), data, source.file, {})
            raise LabgenError(f"{where}{file.template!r} not found in {templates}")
    check_texts(templates, "*")  # a template may include another the blueprint does not list
    if not (source.folder / bp.tests).is_dir():
        where = _where(("tests",), data, source.file, {})
        raise LabgenError(f"{where}{bp.tests!r}: no such folder in {source.folder} (the test suite)")
    check_texts(source.folder / bp.tests, "*.py")
    for i, claim in enumerate(bp.claims):
        for j, test in enumerate(claim.tests):
            if not _test_exists(source.folder / bp.tests, test):
                where = _where(("claims", i, "tests", j), data, source.file, {})
                raise LabgenError(f"{where}{test!r}: no such test function in the suite")


def _test_exists(folder: Path, test: str) -> bool:
    """test_x.py::test_y names a function defined at the top of that file of the suite, or one it
    imports from labgen's shared suites (labgen.testing.suites), by its own name or as test_y."""
    file, function = test.split("::")
    if not (folder / file).is_file():
        return False
    try:
        tree = ast.parse(read_text(folder / file))
    except (SyntaxError, RecursionError, MemoryError):  # the last two: nesting past the parser's stack
        return False
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == function:
            return True
        shared = isinstance(node, ast.ImportFrom) and (node.module or "").startswith("labgen.testing.suites.")
        if shared and any((alias.asname or alias.name) == function for alias in node.names):
            return True
    return False
