"""The blueprint YAML reference, generated from the pydantic model so the docs cannot drift.

Walks labgen.model.blueprint.Blueprint: every model's keys with their types, defaults,
constraints and `Field(description=...)` (a key without one is an error); each model's docstring;
the rules its validators enforce and the cross-field checks of labgen/model/checks.py and of each
protocol (their error messages). docs/authoring.md carries the result between two markers, and
docs/blueprint.schema.json holds `Blueprint.model_json_schema()` for editors (yaml-language-server):

    python scripts/docs_reference.py            print the reference
    python scripts/docs_reference.py --write    rewrite the block in docs/authoring.md and the schema
    python scripts/docs_reference.py --check    exit 1 if either is out of date
"""

from __future__ import annotations

import ast
import inspect
import json
import sys
import textwrap
import typing
from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

from pydantic import AfterValidator, BaseModel
from pydantic.fields import FieldInfo
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from labgen import protocols
from labgen.model import checks
from labgen.model.blueprint import Blueprint

BEGIN = "<!-- reference:begin -->"
END = "<!-- reference:end -->"
DOCS = Path(__file__).resolve().parent.parent / "docs"
AUTHORING = DOCS / "authoring.md"
SCHEMA = DOCS / "blueprint.schema.json"

_SCALARS = {
    str: "text",
    int: "integer",
    float: "number",
    bool: "boolean",
    IPv4Address: "IPv4 address",
    IPv4Network: "IPv4 network (CIDR)",
}

# ---- the walk --------------------------------------------------------------------------------


def models(root: type[BaseModel] = Blueprint) -> list[tuple[type[BaseModel], list[str]]]:
    """Every model reachable from root, depth first in field order, with the key paths using it."""
    found: dict[type[BaseModel], list[str]] = {}

    def visit(model: type[BaseModel], path: str) -> None:
        first = model not in found
        found.setdefault(model, []).append(path)
        if not first:
            return
        for name, field in model.model_fields.items():
            for sub, suffix in _nested(field.annotation):
                visit(sub, f"{path}.{name}{suffix}" if path else f"{name}{suffix}")

    visit(root, "")
    return list(found.items())


def _nested(annotation: object, suffix: str = "") -> Iterator[tuple[type[BaseModel], str]]:
    """Models inside an annotation, with how the path reaches them (`[]` for list items...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation, suffix
        return
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is list:
        yield from _nested(args[0], suffix + "[]")
    elif origin is dict:
        yield from _nested(args[1], suffix + ".NAME")
    elif origin is typing.Annotated:
        yield from _nested(args[0], suffix)
    else:
        for arg in args:
            yield from _nested(arg, suffix)


# ---- one model -------------------------------------------------------------------------------


def _anchor(model: type[BaseModel]) -> str:
    return model.__name__.lower()


def type_text(annotation: object) -> str:
    """A reader's name for a type: `one of a, b`, `list of Node`, `map of text → integer`."""
    if annotation in _SCALARS:
        return _SCALARS[annotation]  # type: ignore[index]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{_anchor(annotation)})"
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return "one of " + ", ".join(f"`{_yaml(a)}`" for a in args)
    if origin is typing.Annotated:
        inner = [m for info in args[1:] for m in (info.metadata if isinstance(info, FieldInfo) else [info])]
        limits = constraints(inner)
        base = type_text(args[0])
        return f"{base} ({limits})" if limits else base
    if origin is list:
        return f"list of {type_text(args[0])}"
    if origin is dict:
        key = args[0]
        if typing.get_origin(key) is typing.Literal:
            keys = "/".join(f"`{_yaml(a)}`" for a in typing.get_args(key))
        else:
            keys = type_text(key)
        return f"map of {keys} → {type_text(args[1])}"
    if origin in (typing.Union, _UnionType):
        kept = [a for a in args if a is not type(None)]
        text = " or ".join(type_text(a) for a in kept)
        return f"{text}, optional" if len(kept) < len(args) else text
    return getattr(annotation, "__name__", str(annotation))


_UnionType = type(int | None)


_BOUNDS = (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<"))


def constraints(metadata: typing.Sequence[object]) -> str:
    """Field constraints in words: `≥ 1`, `≤ 254`, `matches ^eth[1-9]$`, `at most 2 items`."""
    parts = []
    for item in metadata:
        for attr, sign in _BOUNDS:
            if getattr(item, attr, None) is not None:
                parts.append(f"{sign} {getattr(item, attr)}")
        for attr, word in (("min_length", "at least"), ("max_length", "at most")):
            if (count := getattr(item, attr, None)) is not None:
                parts.append(f"{word} {count}")
        if getattr(item, "pattern", None):
            parts.append(f"matches `{item.pattern}`")  # type: ignore[attr-defined]
        if isinstance(item, AfterValidator) and item.func.__doc__:
            parts.append(item.func.__doc__.split(":")[0].strip().rstrip("."))  # labgen.grammar
    return ", ".join(parts)


def default_text(field: FieldInfo) -> str:
    if field.is_required():
        return "**required**"
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, BaseModel):
        return f"see [{type(value).__name__}](#{_anchor(type(value))})"
    return f"`{_yaml(value)}`"


def _yaml(value: object) -> str:
    """A value as it would be written in the blueprint (flow YAML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if value and value.strip() == value and not value[0].isdigit() else f'"{value}"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_yaml(k)}: {_yaml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    if isinstance(value, float) and value == int(value):
        return str(int(value)) if abs(value) >= 1 else str(value)
    return str(value)


def describe(model: type[BaseModel], name: str) -> str:
    """The field's description: every key of the blueprint must say what it is for."""
    description = model.model_fields[name].description
    if not description:
        raise ValueError(f"{model.__module__}.{model.__name__}.{name}: give it Field(description=...)")
    return description


def validator_rules(model: type[BaseModel]) -> list[str]:
    """What the model's validators enforce: their docstrings, else the messages they raise."""
    decorators = model.__pydantic_decorators__
    rules = []
    for group in (decorators.field_validators, decorators.model_validators):
        for decorator in group.values():
            func = inspect.unwrap(getattr(decorator.func, "__func__", decorator.func))
            fields = getattr(decorator.info, "fields", ())
            where = ", ".join(f"`{f}`" for f in fields)
            doc = inspect.getdoc(func)
            messages = [doc.splitlines()[0]] if doc else [_rule(m) for m in _raised_messages(func)]
            rules.extend(f"{where}: {m}" if where else m for m in messages)
    return rules


def _rule(message: str) -> str:
    """`… is not a duration: use ...` reads as `use ...`: drop a leading part about the input."""
    if message.startswith("…"):
        for separator in ("; ", ": "):
            if separator in message:
                return message.split(separator, 1)[1]
    return message


def cross_field_rules() -> list[str]:
    """The messages of labgen/model/checks.py and of each protocol's checks: the rules that span
    fields."""
    sources = [inspect.getsource(checks)]
    sources += [textwrap.dedent(inspect.getsource(type(p).checks)) for p in protocols.PROTOCOLS.values()]
    rules = []
    for source in sources:
        for node in sorted(ast.walk(ast.parse(source)), key=lambda n: getattr(n, "lineno", 0)):
            pair = isinstance(node, ast.Yield) and isinstance(node.value, ast.Tuple)
            text = _string_of(node.value.elts[1]) if pair and len(node.value.elts) == 2 else ""
            if text and text not in rules:
                rules.append(text)
    return rules


def _raised_messages(func: object) -> Iterator[str]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))  # type: ignore[arg-type]
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
            text = _string_of(node.exc.args[0])
            if text:
                yield text


def _string_of(node: ast.expr) -> str:
    """A literal or f-string message; the f-string's values become `…`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "…" for v in node.values).strip()
    return ""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def model_section(model: type[BaseModel], used_at: list[str]) -> list[str]:
    title = "Top level" if model is Blueprint else model.__name__
    lines = [f"### {title}", ""]
    if model is not Blueprint:
        lines += ["At " + ", ".join(f"`{p}`" for p in used_at) + ".", ""]
    doc = inspect.getdoc(model)
    if doc and doc != inspect.getdoc(model.__mro__[1]):
        lines += [doc, ""]
    lines += ["| key | type | default | constraints | what it is |", "|---|---|---|---|---|"]
    for name, field in model.model_fields.items():
        description = describe(model, name)
        row = [
            f"`{field.alias or name}`",
            type_text(field.annotation),
            default_text(field),
            constraints(field.metadata),
            description,
        ]
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    rules = validator_rules(model)
    if rules:
        lines += ["", "Rules:", ""] + [f"- {rule}" for rule in rules]
    lines.append("")
    return lines


def reference_markdown() -> str:
    """The whole reference, as Markdown (what sits between the markers in docs/authoring.md)."""
    config = Blueprint.model_config
    lines = [
        "<!-- generated by `python scripts/docs_reference.py --write` from labgen/model/blueprint.py;"
        " do not edit by hand -->",
        "",
    ]
    if config.get("extra") == "forbid":
        lines.append("Every mapping accepts only the keys listed: an unknown key is an error, with a hint.")
    if config.get("coerce_numbers_to_str"):
        lines.append('A number given where text is expected is read as text (`keepalive: 1` is `"1"`).')
    lines.append("")
    for model, used_at in models():
        lines += model_section(model, used_at)
    lines += ["### Checks across fields", "", "Then labgen/model/checks.py checks rules that span keys:", ""]
    lines += [f"- {rule}" for rule in cross_field_rules()]
    return "\n".join(lines).rstrip() + "\n"


# ---- the block in docs/authoring.md ----------------------------------------------------------


def current_block(text: str) -> str:
    """What docs/authoring.md holds between the markers (without them)."""
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        raise ValueError(f"{AUTHORING} must hold {BEGIN} and {END} once each")
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def _block_is_fresh() -> bool:
    return current_block(AUTHORING.read_text()) == reference_markdown()


def _schema_is_fresh() -> bool:
    return SCHEMA.exists() and SCHEMA.read_text() == json_schema()


def with_block(text: str, reference: str) -> str:
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    return f"{head}{BEGIN}\n{reference}{END}{tail}"


class _NumbersAsText(GenerateJsonSchema):
    """Strict models read a number given for text as text (`keepalive: 1`): so may the schema."""

    def str_schema(self, schema: core_schema.StringSchema) -> JsonSchemaValue:
        json_schema = super().str_schema(schema)
        json_schema["type"] = ["string", "number"]
        return json_schema


def json_schema() -> str:
    """The blueprint's JSON Schema, for editors that check YAML as it is typed."""
    generator = _NumbersAsText if Blueprint.model_config.get("coerce_numbers_to_str") else GenerateJsonSchema
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **Blueprint.model_json_schema(schema_generator=generator),
    }
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    if argv == ["--write"]:
        AUTHORING.write_text(with_block(AUTHORING.read_text(), reference_markdown()))
        SCHEMA.write_text(json_schema())
        print(f"wrote the blueprint reference into {AUTHORING} and its schema into {SCHEMA}")
        return 0
    if argv == ["--check"]:
        checks = ((AUTHORING, _block_is_fresh), (SCHEMA, _schema_is_fresh))
        stale = [path for path, fresh in checks if not fresh()]
        for path in stale:
            print(f"{path} is out of date: run python scripts/docs_reference.py --write", file=sys.stderr)
        return 1 if stale else 0
    if argv:
        print("usage: python scripts/docs_reference.py [--write | --check]", file=sys.stderr)
        return 2
    sys.stdout.write(reference_markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
