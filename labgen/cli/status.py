"""labgen status: the labs on this host, their nodes, the daemons that serve, who holds the VIP."""

from __future__ import annotations

from typing import Annotated

import typer

from labgen.cli.options import Json, LabNameOrAll
from labgen.cli.output import console, print_json, print_table

DEGRADED = 1  # the exit code when a lab is not up; 2 stays a usage or input error


def status(
    name: LabNameOrAll = None,
    wide: Annotated[bool, typer.Option("--wide", "-w", help="More columns: VIP, box, directory.")] = False,
    as_json: Json = False,
) -> None:
    """Show the labs, one row each (or one lab in full): nodes, the HA daemon and the web server on
    each, and which node holds the VIP.

    Exit 1 when a lab shown is not up (degraded or broken): a node not running, its HA daemon or
    web server not active, no node or two holding the VIP, an up that did not finish, an
    unreadable lab.json; 0 when all are up."""
    from labgen.labs import all_labs, find_lab
    from labgen.status import lab_report

    labs = [find_lab(name)] if name else all_labs()
    reports = [lab_report(lab) for lab in labs]
    if as_json:
        print_json(reports if name is None else reports[0])
    elif name:
        _print_report(reports[0])
    elif not reports:
        console.print("no labs on this host; start one with `labgen up BLUEPRINT`")
    else:
        _print_table(reports, wide)
    if any(report["state"] != "up" for report in reports):
        raise typer.Exit(DEGRADED)


def print_lab(lab) -> None:
    from labgen.status import lab_report

    _print_report(lab_report(lab))


def _print_table(reports: list[dict], wide: bool) -> None:
    """A row per lab, then each lab's problems in full under the table."""
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    columns = ["LAB", "BLUEPRINT", "PROVIDER", "STATE", "VIP ON", "NODES", "EXERCISE"]
    columns += ["VIP", "BOX", "DIRECTORY"] if wide else []
    for column in columns:
        table.add_column(column, no_wrap=True)
    for report in reports:
        table.add_row(*_row(report, wide))
    print_table(table)
    for report in reports:
        broken = f"{report['name']} broken: " if report["state"] == "broken" else ""
        if report["problem"]:
            console.print(f"[red]{broken}{report['problem']}[/]", highlight=False)


def _row(report: dict, wide: bool) -> list[str]:
    from labgen.exercises import describe

    colour = {"up": "green", "degraded": "yellow"}.get(report["state"], "red")
    if report["state"] == "broken":
        return [report["name"], "-", "-", f"[{colour}]broken[/]", "-", "-", "-"] + ["-"] * 3 * wide
    row = [
        report["name"],
        report["blueprint"],
        report["provider"],
        f"[{colour}]{report['state']}[/]",
        ", ".join(report["vip_holders"]) or "nobody",
        "  ".join(f"{node} {_node_word(report, node)}" for node in report["nodes"]),
        describe(report["exercise"]) or "-",
    ]
    return row + ([report["vip"], report["box"], report["path"]] if wide else [])


def _node_word(report: dict, node: str) -> str:
    """ok, or the first thing wrong with the node: its machine's state, or a unit not active."""
    if report["nodes"][node] != "running":
        return f"[yellow]{report['nodes'][node]}[/]"
    down = [
        f"{unit} {state}"
        for unit, state in report["units"].get(node, {}).items()
        if state != "active" and unit in report["wanted"].get(node, [])
    ]
    return f"[yellow]{down[0]}[/]" if down else "[green]ok[/]"


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
        units = "  ".join(
            _unit_word(report, node, unit, unit_state)
            for unit, unit_state in report["units"].get(node, {}).items()
        )
        console.print(f"  {node:<6} [{colour}]{state}[/]  {units}".rstrip(), highlight=False)
    for skip in report["skipped"]:
        console.print(f"  [yellow]skipped:[/] {skip['what']}")
    if report["exercise"]:
        from labgen.exercises import describe

        console.print(f"  exercise {describe(report['exercise'])}", highlight=False)
    if report["problem"]:
        console.print(f"  [red]{report['problem']}[/]", highlight=False)


def _unit_word(report: dict, node: str, unit: str, state: str) -> str:
    """`keepalived active`; a unit not running is yellow only where it should run."""
    colour = "green" if state == "active" else "yellow" if unit in report["wanted"].get(node, []) else "dim"
    return f"{unit} [{colour}]{state}[/]"
