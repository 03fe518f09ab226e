"""labgen capture: tcpdump in a node, as text on the terminal or a pcap file for Wireshark."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from labgen.cli.options import LabName, NodeName
from labgen.errors import LabgenError


def capture(
    lab: LabName,
    node: NodeName,
    expression: Annotated[
        list[str] | None, typer.Argument(help="A tcpdump filter, e.g. vrrp, or host 10.0.0.12 and port 694.")
    ] = None,
    where: Annotated[
        str, typer.Option("--on", help="A lab network (vlan, public, ...), an interface of the node, or any.")
    ] = "any",
    write: Annotated[
        Path | None, typer.Option("--write", "-w", help="Write a pcap file (Wireshark reads it).")
    ] = None,
    count: Annotated[
        int | None, typer.Option("--count", "-c", min=1, help="Stop after this many packets.")
    ] = None,
    seconds: Annotated[
        float | None, typer.Option("--for", min=0.1, help="Stop after this many seconds.")
    ] = None,
) -> None:
    """Capture the packets NODE sees on a lab network, e.g. the master's VRRP adverts:
    `labgen capture keepalived-rr lb1 --on public -c 3 vrrp`. Text as it comes, or -w FILE.

    The packets stream from the node to your terminal or file: none is held in labgen."""
    from labgen.labs import find_lab, running_provider

    if dashed := [word for word in expression or [] if word.startswith("-")]:
        raise LabgenError(f"{dashed[0]!r} is not a tcpdump filter word; labgen's own options go before it")
    found = find_lab(lab)
    spec = found.spec
    spec.node(node, client=False)  # tcpdump runs in a node; the client seat is the host's
    interface = spec.networks[where].interface if where in spec.networks else where
    argv = ["tcpdump", "-i", interface, "-n", *(["-c", str(count)] if count else [])]
    argv += ["-U", "-w", "-"] if write else ["-l"]
    argv = [*(["timeout", "--signal=INT", f"{seconds:g}"] if seconds else []), *argv, *(expression or [])]
    provider = running_provider(found)
    sys.stdout.flush()
    if write is None:
        code = provider.stream(node, argv)
    else:
        with write.open("wb") as pcap:
            code = provider.stream(node, argv, stdout=pcap)
    # timeout's own 124 is the --for that ended it, as asked
    raise typer.Exit(0 if seconds and code == 124 else code)
