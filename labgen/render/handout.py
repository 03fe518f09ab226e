"""What a student takes home with a lab directory: README.md (what the lab is, the tutorial's steps,
how to bring it up with plain Vagrant or labgen, how to check it) and topology.svg (its picture).

Claims and exercises are shown only when the blueprint has them (`claims:` in blueprint.yaml,
breakages.yaml beside it): the README never makes up what the blueprint does not say.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from ruamel.yaml import YAML

from labgen import graph
from labgen.lab import LabSpec
from labgen.model.blueprint import Blueprint
from labgen.model.load import Source


def write(folder: Path, env: jinja2.Environment, bp: Blueprint, source: Source, spec: LabSpec) -> None:
    """README.md and topology.svg into the lab folder being rendered."""
    from labgen.providers.libvirt import render_context

    readme = env.get_template("README.md.j2").render(
        lab=spec,
        bp=bp,
        libvirt=render_context(spec),
        claims=getattr(bp, "claims", None) or [],
        exercises=exercises(source),
        md=markdown_text,
    )
    (folder / "README.md").write_text(readme)
    (folder / "topology.svg").write_bytes(graph.draw(spec, "svg"))


def markdown_text(value: object) -> str:
    """Blueprint text as Markdown prose: one line, no HTML (a title cannot add tags or scripts)."""
    text = " ".join(str(value).split())
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def exercises(source: Source) -> list[dict]:
    """The blueprint's breakages (issue 11's breakages.yaml), or none."""
    path = source.folder / "breakages.yaml"
    if not path.is_file():
        return []
    data = YAML(typ="safe").load(path.read_text())
    return [item for item in data or [] if isinstance(item, dict) and "id" in item]
