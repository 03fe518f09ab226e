"""labgen impair: delay, jitter, loss or a rate limit on what a node sends on a lab network."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from labgen.cli.options import LabName, NodeName
from labgen.cli.output import console
from labgen.errors import LabgenError

TIME = re.compile(r"\d+(\.\d+)?(us|ms|s)")
PERCENT = re.compile(r"\d+(\.\d+)?%")
RATE = re.compile(r"\d+(\.\d+)?(bit|kbit|mbit|gbit)")


def impair(
    lab: LabName,
    node: NodeName,
    network: Annotated[str, typer.Argument(help="A lab network, e.g. vlan or public.")],
    delay: Annotated[str | None, typer.Option(help="Added to every packet, e.g. 100ms.")] = None,
    jitter: Annotated[str | None, typer.Option(help="Random variation of the delay, e.g. 20ms.")] = None,
    loss: Annotated[str | None, typer.Option(help="Packets dropped at random, e.g. 10%.")] = None,
    rate: Annotated[str | None, typer.Option(help="Bandwidth limit, e.g. 1mbit.")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Take every impairment off this link.")] = False,
) -> None:
    """Impair what NODE sends on NETWORK (tc netem on its NIC, inside the node), e.g. lose the
    master's adverts: `labgen impair keepalived-rr lb0 public --loss 100%`; `--clear` ends it.

    netem runs in the kernel of the node: a VM's own, or for containers the host's (doctor says
    whether it has it)."""
    from labgen.labs import find_lab, running_provider

    netem = _netem(delay, jitter, loss, rate)
    if not netem and not clear:
        raise LabgenError("say how to impair the link (--delay, --jitter, --loss, --rate) or --clear it")
    if netem and clear:
        raise LabgenError("--clear takes the impairment off: give it alone")
    found = find_lab(lab)
    spec = found.spec
    spec.node(node, client=False)
    if network not in spec.networks:
        raise LabgenError(f"no network {network!r} in lab {lab}; its networks: {', '.join(spec.networks)}")
    interface = spec.networks[network].interface
    argv = ["tc", "qdisc", "del" if clear else "replace", "dev", interface, "root"]
    argv += [] if clear else ["netem", *netem]
    done = running_provider(found).exec(node, argv, timeout=30)
    said = (done.stderr or done.stdout).strip().rstrip(".")
    if clear and done.returncode != 0 and ("No such file" in said or "Cannot delete qdisc" in said):
        console.print(f"{node} {network} ({interface}) had no impairment")
        return
    if done.returncode != 0:
        hint = (
            "; the kernel the node runs on has no netem (sch_netem): containers share the host's, "
            "VMs have their own"
            if "qdisc kind is unknown" in said
            else ""
        )
        raise LabgenError(f"tc on {node} failed: {said}{hint}")
    console.print(
        f"{node} {network} ({interface}): " + ("no impairment" if clear else " ".join(netem)), highlight=False
    )


def _netem(delay: str | None, jitter: str | None, loss: str | None, rate: str | None) -> list[str]:
    """netem's arguments, each checked here: nothing but a number and a unit reaches tc."""
    for name, value, form, example in (
        ("--delay", delay, TIME, "100ms"),
        ("--jitter", jitter, TIME, "20ms"),
        ("--loss", loss, PERCENT, "10%"),
        ("--rate", rate, RATE, "1mbit"),
    ):
        if value is not None and not form.fullmatch(value):
            raise LabgenError(f"{name} {value!r}: give a number and a unit, e.g. {example}")
    if jitter and not delay:
        raise LabgenError("--jitter varies a --delay: give both")
    words = ["delay", delay, *([jitter] if jitter else [])] if delay else []
    words += ["loss", loss] if loss else []
    words += ["rate", rate] if rate else []
    return words
