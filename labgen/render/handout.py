"""What a student takes home with a lab directory: README.md (what the lab is, the tutorial's steps,
how to bring it up with plain Vagrant or labgen, how to check it) and topology.svg (its picture).

Claims are shown only when the blueprint has them (`claims:` in blueprint.yaml): the README never
makes up what the blueprint does not say. The breakage catalogue is not shown: its entries name
the answers of the break-fix exercises to come.
"""

from __future__ import annotations

import re
from pathlib import Path

import jinja2

from labgen import graph
from labgen.lab import LabSpec
from labgen.model.blueprint import Blueprint
from labgen.providers.libvirt.provider import render_context


def write(folder: Path, env: jinja2.Environment, bp: Blueprint, spec: LabSpec) -> None:
    """README.md and topology.svg into the lab folder being rendered."""
    readme = env.get_template("README.md.j2").render(
        lab=spec,
        bp=bp,
        libvirt=render_context(spec),
        claims=getattr(bp, "claims", None) or [],
        md=markdown_text,
    )
    (folder / "README.md").write_text(readme)
    (folder / "topology.svg").write_bytes(graph.draw(spec, "svg"))


def markdown_text(value: object) -> str:
    """Blueprint text as Markdown prose: one line, no HTML (a title cannot add tags, comments or
    entities), and as written wherever it cannot (`&`, `->` stay readable in the raw file):
    backslash escapes, only before what would start a tag or an entity."""
    text = " ".join(str(value).split()).replace("\\", "\\\\")
    text = re.sub(r"&(?=#?\w+;)", r"\\&", text)
    return re.sub(r"<(?=[A-Za-z/!?])", r"\\<", text)
