"""labgen ssh: an interactive shell on a node, through the lab's ssh config."""

from __future__ import annotations

import os

from labgen.cli.options import LabName, NodeOrClient


def ssh(lab: LabName, node: NodeOrClient) -> None:
    """Open ssh to NODE (the same config `ssh -F LAB/ssh_config NODE` and testinfra use); `client`
    is a shell in the client seat (the tutorial's "your local computer"), in its own namespace."""
    from labgen.labs import find_lab, provider_for

    found = find_lab(lab)
    if node == "client":
        argv = provider_for(found).client_argv(["bash", "-l"])
        os.execvp(argv[0], argv)
    found.spec.node(node)
    # a seat's ssh runs as root on the host: no escape sequences (~C would open port forwards there)
    seat = ["-e", "none", "-o", "ClearAllForwardings=yes"] if os.environ.get("LABGEN_SEAT") else []
    os.execvp("ssh", ["ssh", "-F", str(found.ssh_config), *seat, node])
