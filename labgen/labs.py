"""The labs on this host: each one a rendered directory under paths.labs_dir(), found by name.

A lab is named, never given as a path: the name is validated before any folder is looked at, so
`labgen down ""`, `down ..` or `down /tmp/x` can never reach outside LABGEN_HOME/labs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from labgen import paths
from labgen.errors import LabgenError
from labgen.grammar import NODE_NAME
from labgen.lab import LAB_NAME, Lab, LabSpec, NodeSpec, check_lab_name, is_lab_dir
from labgen.providers import PROVIDERS, provider_class
from labgen.providers.base import Provider


def lab_dir(name: str) -> Path:
    """Where the lab called name lives (it may not exist); the only way a name becomes a path."""
    return paths.labs_dir() / check_lab_name(name)


@dataclass(frozen=True)
class BrokenLab:
    """A lab folder whose lab.json cannot be read: shown by status, removed by down."""

    path: Path
    reason: str

    @property
    def name(self) -> str:
        return self.path.name


def all_labs() -> list[Lab | BrokenLab]:
    folder = paths.labs_dir()
    if not folder.is_dir():
        return []
    found: list[Lab | BrokenLab] = []
    for path in sorted(folder.iterdir()):
        if LAB_NAME.fullmatch(path.name) and is_lab_dir(path):
            try:
                found.append(_lab_at(path))
            except LabgenError as exc:
                found.append(BrokenLab(path, str(exc)))
    return found


def find_lab(name: str) -> Lab:
    path = lab_dir(name)
    if not is_lab_dir(path):
        known = ", ".join(lab.name for lab in all_labs()) or "none"
        raise LabgenError(f"no lab named {name!r}; labs on this host: {known}")
    return _lab_at(path)


def _lab_at(path: Path) -> Lab:
    """The lab in LABGEN_HOME/labs/NAME, whose lab.json must be NAME's: down of one lab never takes
    another's namespace or machines, whatever its lab.json says."""
    lab = Lab(path)
    if (lab.name, lab.spec.namespace) != (path.name, f"labgen-{path.name}"):
        raise LabgenError(f"{path / 'lab.json'} describes lab {lab.name!r} in {lab.spec.namespace!r}, not "
                          f"this one; `labgen down {path.name}` removes the lab")
    return lab


def provider_for(lab: Lab) -> Provider:
    return provider_class(lab.spec.provider)(lab)


def health(lab: Lab, nodes: dict[str, str]) -> str | None:
    """What is wrong with a lab whose machines are not all running, in one line; None if nothing."""
    problem = nodes_problem(lab, nodes)
    return f"lab {lab.name}: {problem}" if problem else None


def nodes_problem(lab: Lab, nodes: dict[str, str]) -> str | None:
    """Any state but running (stopped, frozen, orphaned, absent, ...) is a node the lab lacks."""
    down = [f"{node} is {state}" for node, state in nodes.items() if state != "running"]
    if not down:
        return None
    return f"{', '.join(down)} (`labgen down {lab.name}` then `labgen up` makes it anew)"


def running_provider(lab: Lab) -> Provider:
    """The lab's provider, once every node is known to run: a dead lab fails here in one line."""
    provider = provider_for(lab)
    if problem := health(lab, provider.status()):
        raise LabgenError(problem)
    return provider


def teardown_providers(path: Path) -> list[Provider]:
    """The providers that can take down the lab at path: its own, or (lab.json unreadable) every
    provider, each given what can still be known from the folder: the name and the nodes."""
    try:
        return [provider_for(_lab_at(path))]
    except LabgenError:
        pass
    # names that reach cgroup paths and machine names: only what a blueprint could have named
    nodes = sorted(p.stem for p in (path / "provision").glob("*.sh") if re.fullmatch(NODE_NAME, p.stem))
    providers = []
    for name in PROVIDERS:
        lab = Lab.__new__(Lab)
        lab.path = path
        lab.spec = LabSpec.model_construct(
            name=path.name,
            provider=name,
            namespace=f"labgen-{path.name}",
            nodes=[NodeSpec.model_construct(name=node) for node in nodes],
            networks={},
        )
        providers.append(provider_class(name)(lab))
    return providers
