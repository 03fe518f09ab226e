"""labgen down: remove every trace of a lab; idempotent."""

from __future__ import annotations

from labgen.cli.options import LabName
from labgen.cli.output import console


def down(lab: LabName) -> None:
    """Stop and delete the lab's machines, networks, namespaces and its directory."""
    import shutil

    from labgen import paths
    from labgen.lab import Lab
    from labgen.labs import provider_for

    folder = paths.labs_dir() / lab
    if not (folder / "lab.json").is_file():
        if folder.exists():
            shutil.rmtree(folder)
        console.print(f"no lab named {lab}; nothing to do")
        return
    found = Lab(folder)
    provider_for(found).down()
    shutil.rmtree(folder)
    console.print(f"lab {lab} is down; nothing of it is left")
