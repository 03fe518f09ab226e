"""A provider is a plug-in: shared modules ask the provider's class (what a node costs, whether it
emulates, whether it shares the host's kernel) and never compare provider names; a protocol is a
complete ABC. Adding a provider touches providers/NAME/ and the registry, nothing else."""

import ast
from pathlib import Path

import pytest

import labgen
from labgen.protocols import PROTOCOLS
from labgen.providers import PROVIDERS, provider_class

PACKAGE = Path(labgen.__file__).parent
# the CLI's option types and defaults list the registered names for --help
OUTSIDE = ("providers", "cli")


def _provider_names_compared(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Compare | ast.Dict | ast.Subscript):
            names = [c.value for c in ast.walk(node) if isinstance(c, ast.Constant) and c.value in PROVIDERS]
            if names:
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {ast.unparse(node)[:80]}")
    return found


def test_no_shared_module_compares_provider_names():
    shared = [p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] not in OUTSIDE]
    found = [line for path in sorted(shared) for line in _provider_names_compared(path)]
    assert found == [], "ask the provider's class instead:\n" + "\n".join(found)


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_a_provider_says_what_its_nodes_cost(name):
    cls = provider_class(name)
    assert cls.name == name
    assert cls.node_memory_mb > 0 and cls.node_disk_mb > 0
    assert not cls.__abstractmethods__, f"{name} leaves {sorted(cls.__abstractmethods__)} unwritten"


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_a_protocol_fills_every_method(name):
    assert not type(PROTOCOLS[name]).__abstractmethods__
