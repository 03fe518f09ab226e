"""labgen list: the blueprints, one line each."""

from __future__ import annotations

from typing import Annotated

import typer

from labgen.cli.output import console, print_json


def list_blueprints(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List the blueprints labgen knows."""
    from labgen.paths import blueprint_names, blueprints_dir

    rows = [(name, _title(blueprints_dir() / name / "blueprint.yaml")) for name in blueprint_names()]
    if as_json:
        print_json([{"name": name, "title": title} for name, title in rows])
        return
    for name, title in rows:
        console.print(f"[bold]{name:<18}[/] {title}", highlight=False, soft_wrap=True)


def _title(file) -> str:
    """The title line, read without parsing YAML (keeps `list` fast)."""
    for line in file.read_text().splitlines():
        if line.startswith("title:"):
            return line.partition(":")[2].strip()
    return ""
