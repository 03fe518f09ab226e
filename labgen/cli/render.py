"""labgen render: the lab directory, nothing started."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labgen.cli.options import Blueprint, Box, Provider, Sets, with_box
from labgen.cli.output import console


def render(
    blueprint: Blueprint,
    output: Annotated[Path, typer.Option("--output", "-o", help="The lab directory to write.")],
    set_: Sets = None,
    name: Annotated[str | None, typer.Option(help="The lab's name.")] = None,
    provider: Provider = "libvirt",
    force: Annotated[bool, typer.Option(help="Replace a non-empty output directory.")] = False,
    box: Box = None,
) -> None:
    """Write the lab directory: Vagrantfile, provisioners, configs, tests, lab.json."""
    from labgen import paths
    from labgen.errors import LabgenError
    from labgen.render import render_lab
    from labgen.render.lab_dir import resolved

    labs = paths.labs_dir().resolve()
    if resolved(output) == labs or labs in resolved(output).parents:
        raise LabgenError(f"-o {output}: {labs} holds the labs `labgen up` runs; render somewhere else")
    lab = render_lab(blueprint, output, name=name, provider=provider, sets=with_box(set_, box), force=force)
    console.print(f"rendered lab [bold]{lab.name}[/] ({lab.spec.blueprint}) into {lab.path}")
    for skip in lab.spec.skipped:
        console.print(f"[yellow]skipped:[/] {skip.what}: {skip.reason}")
