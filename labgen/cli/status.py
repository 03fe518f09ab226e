"""labgen status: the labs on this host, their nodes and who holds the VIP."""

from __future__ import annotations

from typing import Annotated

import typer

from labgen.cli.options import Json
from labgen.cli.output import console, print_json

DEGRADED = 1  # the exit code when a lab is not up; 2 stays a usage or input error


def status(
    name: Annotated[str | None, typer.Argument(help="One lab; all labs when omitted.")] = None,
    as_json: Json = False,
) -> None:
    """Show each lab's nodes (running, frozen, stopped) and which node holds the VIP.

    Exit 1 when a lab shown is not up (degraded or broken): a node not running, no node or two
    holding the VIP, an up that did not finish, an unreadable lab.json; 0 when all are up."""
    from labgen.labs import all_labs, find_lab
    from labgen.status import lab_report

    labs = [find_lab(name)] if name else all_labs()
    reports = [lab_report(lab) for lab in labs]
    if as_json:
        print_json(reports if name is None else reports[0])
    else:
        _print_reports(reports)
    if any(report["state"] != "up" for report in reports):
        raise typer.Exit(DEGRADED)


def _print_reports(reports: list[dict]) -> None:
    if not reports:
        console.print("no labs on this host; start one with `labgen up BLUEPRINT`")
    for report in reports:
        _print_report(report)


def print_lab(lab) -> None:
    from labgen.status import lab_report

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
    if report["exercise"]:
        from labgen.exercises import describe

        console.print(f"  exercise {describe(report['exercise'])}", highlight=False)
    if report["problem"]:
        console.print(f"  [red]{report['problem']}[/]", highlight=False)
