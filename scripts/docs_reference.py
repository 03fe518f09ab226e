"""The blueprint YAML reference, generated from the pydantic model so the docs cannot drift.

Walks labgen.model.blueprint.Blueprint: every model's keys with their types, defaults and
constraints, described by the field's description, else the comment on its line in the model's
source, else its entry in NOTES below; each model's docstring; the rules its validators enforce
and the cross-field checks of labgen/model/checks.py (their error messages).
docs/authoring.md carries the result between two markers:

    python scripts/docs_reference.py            print the reference
    python scripts/docs_reference.py --write    rewrite the block in docs/authoring.md
    python scripts/docs_reference.py --check    exit 1 if that block is out of date
"""

from __future__ import annotations

import ast
import inspect
import io
import sys
import textwrap
import tokenize
import typing
from collections.abc import Iterator
from functools import cache
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

from pydantic import AfterValidator, BaseModel
from pydantic.fields import FieldInfo

from labgen import protocols
from labgen.model import checks
from labgen.model.blueprint import Blueprint

BEGIN = "<!-- reference:begin -->"
END = "<!-- reference:end -->"
AUTHORING = Path(__file__).resolve().parent.parent / "docs" / "authoring.md"

_SCALARS = {
    str: "text",
    int: "integer",
    float: "number",
    bool: "boolean",
    IPv4Address: "IPv4 address",
    IPv4Network: "IPv4 network (CIDR)",
}

# What a key is for, where the model says nothing yet (no Field description, no comment on its
# line). A note for a key the model no longer has, or one the model now describes itself, is an
# error: move these into Field(description=...) and delete them here.
NOTES = {
    "Blueprint.name": "the blueprint's name, and the default lab name at `labgen up`",
    "Blueprint.title": "one line, shown by `labgen list`",
    "Blueprint.source": "the tutorial this blueprint reproduces",
    "Blueprint.box": "the box every node boots from (`labgen box build`)",
    "Blueprint.networks": "the lab networks by name; each is a bridge inside the lab's namespace",
    "Blueprint.vip": "the floating IP: a host address of `vip_network`",
    "Blueprint.vip_network": "the network of the VIP and of the client seat",
    "Blueprint.client": "the client seat's addresses on `vip_network` (the tutorial's own computer)",
    "Blueprint.nodes": "exactly two: one `preferred`, one `backup`",
    "Blueprint.keepalived": "set exactly one of `keepalived`, `heartbeat` and `pacemaker`",
    "Blueprint.heartbeat": "set exactly one of `keepalived`, `heartbeat` and `pacemaker`",
    "Blueprint.pacemaker": "set exactly one of `keepalived`, `heartbeat` and `pacemaker`",
    "Blueprint.web": "the web server (package and systemd unit)",
    "Blueprint.web_root": "the folder of the served `index.html`",
    "Blueprint.packages": "Debian packages the provisioner installs if the box lacks them",
    "Blueprint.files": "config files the provisioner writes, in this order",
    "Blueprint.sysctl": "kernel settings, written to /etc/sysctl.d/60-labgen.conf and applied",
    "Blueprint.services": "systemd units enabled and restarted, in this order, as the last step",
    "Blueprint.tests": "the blueprint's folder holding its testinfra suite",
    "Blueprint.departures": "where the lab departs from the tutorial, and why (`labgen show`)",
    "Source.publisher": "shown by `labgen show`",
    "Source.title": "shown by `labgen show`",
    "Network.cidr": "the network's addresses",
    "Network.purpose": "shown by `labgen show` and as a comment in the provisioner",
    "Node.name": "the node's name in commands (`labgen exec LAB lb0 -- ...`)",
    "Node.role": "the `preferred` node holds the VIP when both run",
    "Node.addresses": "one host address per network, by network name",
    "Keepalived.vrrp_version": "3 allows a sub-second `advert_int` and has no authentication",
    "Keepalived.virtual_router_id": "the VRRP router id, the same on both nodes",
    "Keepalived.advert_int": "seconds between VRRP adverts; a crash fails over after about 3 of them",
    "Keepalived.priorities": "VRRP priority by role; the higher one holds the VIP and takes it back",
    "Keepalived.auth_type": "`PASS` (VRRPv2) or `none`",
    "Keepalived.router_ids": "global_defs router_id by role",
    "Keepalived.lvs": "the LVS virtual server on the VIP",
    "Keepalived.health_check": "the HTTP_GET check of each real server",
    "Heartbeat.keepalive": "how often a heartbeat is sent",
    "Heartbeat.warntime": "a late heartbeat is logged after this",
    "Heartbeat.deadtime": "the peer is declared dead after this: the crash failover time",
    "Heartbeat.initdead": "at start, how long to wait for the peer",
    "Heartbeat.udpport": "the UDP port of the heartbeats",
    "Heartbeat.auto_failback": "the preferred node takes the VIP back when it returns",
    "Heartbeat.vip_network": "the network whose NIC gets the VIP",
    "Heartbeat.resource_agent": "`IPaddr` (needs net-tools) or `IPaddr2` (uses ip)",
    "Heartbeat.auth": "the authkeys method",
    "File.path": "where the file goes on the node",
    "File.template": "a Jinja2 file in the blueprint's templates/",
    "File.mode": "octal file mode",
    "Departure.what": "what the lab does differently",
    "Departure.why": "why",
    "LVS.delay_loop": "seconds between health checks",
    "LVS.lb_algo": "the LVS scheduler (rr: round robin)",
    "LVS.lb_kind": "forwarding method (DR: the real servers answer clients directly)",
    "LVS.persistence_timeout": "seconds one client address sticks to one real server",
    "LVS.protocol": "the virtual server's protocol",
    "HealthCheck.url": "the path fetched and digested",
    "HealthCheck.connect_timeout": "seconds",
    "HealthCheck.delay_before_retry": "seconds",
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
            parts.append(item.func.__doc__.split(":")[0].strip().rstrip("."))  # labgen.model.grammar
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


@cache
def field_comments(model: type[BaseModel]) -> dict[str, str]:
    """The comment at the end of each field's line in the model's source: `name: str  # this`."""
    source = textwrap.dedent(inspect.getsource(model))
    comments: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.string.lstrip("#").strip()
    found = {}
    for node in ast.parse(source).body[0].body:  # type: ignore[attr-defined]
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            lines = range(node.lineno, (node.end_lineno or node.lineno) + 1)
            text = " ".join(comments[n] for n in lines if n in comments)
            if text:
                found[node.target.id] = text
    return found


def describe(model: type[BaseModel], name: str) -> str:
    """The field's description, else the comment on its line, else its entry in NOTES."""
    field = model.model_fields[name]
    own = field.description or field_comments(model).get(name)
    return own or NOTES.get(f"{model.__name__}.{name}", "")


def stale_notes() -> list[str]:
    """NOTES entries for keys the model no longer has, or now describes itself."""
    by_name = {model.__name__: model for model, _ in models()}
    stale = []
    for key in NOTES:
        model_name, _, field = key.partition(".")
        model = by_name.get(model_name)
        if model is None or field not in model.model_fields:
            stale.append(f"{key}: no such key in the model")
        elif model.model_fields[field].description or field_comments(model).get(field):
            stale.append(f"{key}: the model describes it now")
    return stale


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
    stale = stale_notes()
    if stale:
        raise ValueError("labgen/docs_reference.py NOTES: " + "; ".join(stale))
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


def with_block(text: str, reference: str) -> str:
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    return f"{head}{BEGIN}\n{reference}{END}{tail}"


def main(argv: list[str]) -> int:
    if argv == ["--write"]:
        text = AUTHORING.read_text()
        AUTHORING.write_text(with_block(text, reference_markdown()))
        print(f"wrote the blueprint reference into {AUTHORING}")
        return 0
    if argv == ["--check"]:
        if current_block(AUTHORING.read_text()) != reference_markdown():
            fix = "run python scripts/docs_reference.py --write"
            print(f"{AUTHORING} is out of date: {fix}", file=sys.stderr)
            return 1
        return 0
    if argv:
        print("usage: python scripts/docs_reference.py [--write | --check]", file=sys.stderr)
        return 2
    sys.stdout.write(reference_markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
