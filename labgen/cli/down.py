"""labgen down: remove every trace of a lab; idempotent."""

from __future__ import annotations

from labgen.cli.options import LabName
from labgen.cli.output import console


def down(lab: LabName) -> None:
    """Stop and delete the lab's machines, networks, namespaces and its directory.

    Only a folder labgen made (LABGEN_HOME/labs/NAME with its marker or lab.json) is deleted; a
    lab whose lab.json is unreadable is still taken down, by what its folder tells."""
    import shutil

    from labgen import host
    from labgen.errors import LabgenError
    from labgen.lab import is_lab_dir
    from labgen.labs import lab_dir, teardown_providers
    from labgen.locks import lab_lock

    folder = lab_dir(lab)
    with lab_lock(lab, "down"):
        if not folder.exists():
            console.print(f"no lab named {lab}; nothing to do")
            return
        if not is_lab_dir(folder):
            raise LabgenError(f"{folder} is not a lab labgen made (no lab.json); labgen leaves it alone")
        for provider in teardown_providers(folder):
            provider.down()
        host.stop(host.holding_sockets_under(folder))  # an ssh master that outlived its `-O exit`
        try:
            shutil.rmtree(folder)
        except OSError as error:
            raise LabgenError(f"lab {lab}: its machines are gone but {error.filename} cannot be removed "
                              f"({error.strerror}); see `lsattr -d` and the mounts there, then run labgen "
                              f"down {lab} again") from None
    console.print(f"lab {lab} is down; nothing of it is left")
