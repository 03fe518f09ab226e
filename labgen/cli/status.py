"""labgen status: the labs on this host, their nodes and who holds the VIP."""

from __future__ import annotations

from typing import Annotated

import typer

from labgen.cli.options import Json
from labgen.cli.output import console, print_json


def status(
    name: Annotated[str | None, typer.Argument(help="One lab; all labs when omitted.")] = None,
    as_json: Json = False,
) -> None:
    """Show each lab's nodes (running, frozen, stopped) and which node holds the VIP."""
    from labgen.labs import all_labs, find_lab

    labs = [find_lab(name)] if name else all_labs()
    reports = [lab_report(lab) for lab in labs]
    if as_json:
        print_json(reports if name is None else reports[0])
        return
    if not reports:
        console.print("no labs on this host; start one with `labgen up BLUEPRINT`")
    for report in reports:
        _print_report(report)


def lab_report(lab) -> dict:
    from labgen.labs import BrokenLab, health, provider_for
    from labgen.observe import vip_holders

    if isinstance(lab, BrokenLab):
        return {"name": lab.name, "path": str(lab.path), "state": "broken", "problem": lab.reason,
                "nodes": {}, "vip_holders": [], "skipped": []}
    provider = provider_for(lab)
    nodes = provider.status()
    problem = health(lab, nodes)
    return {
        "name": lab.name,
        "state": "degraded" if problem else "up",
        "problem": problem,
        "blueprint": lab.spec.blueprint,
        "provider": lab.spec.provider,
        "path": str(lab.path),
        "vip": lab.spec.vip,
        "nodes": nodes,
        "vip_holders": [] if problem else vip_holders(provider),
        "skipped": [s.model_dump() for s in lab.spec.skipped],
        "up_timing": _up_timing(lab),
    }


def _up_timing(lab) -> dict | None:
    """What the last `up` of this lab recorded (labgen.cli.up), without its per-step list."""
    import json

    try:
        timing = json.loads(lab.up_record.read_text())
    except (OSError, ValueError):
        return None
    timing.pop("steps", None)
    return timing


def print_lab(lab) -> None:
    _print_report(lab_report(lab))


def _print_report(report: dict) -> None:
    if report["state"] == "broken":
        console.print(f"[bold]{report['name']}[/] [red]broken[/]: {report['problem']}", highlight=False)
        return
    holders = ", ".join(report["vip_holders"]) or "nobody"
    console.print(
        f"[bold]{report['name']}[/] ({report['blueprint']}, {report['provider']}): "
        f"VIP {report['vip']} on {holders}",
        highlight=False,
    )
    for node, state in report["nodes"].items():
        colour = "green" if state == "running" else "yellow"
        console.print(f"  {node:<6} [{colour}]{state}[/]")
    for skip in report["skipped"]:
        console.print(f"  [yellow]skipped:[/] {skip['what']}")
    if report["problem"]:
        console.print(f"  [red]{report['problem']}[/]", highlight=False)
