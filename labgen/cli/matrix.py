"""labgen matrix: one blueprint on each release in turn, one table at the end."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labgen.cli.options import Blueprint, Json, Provider
from labgen.cli.output import console, print_json, print_table

Boxes = Annotated[
    str | None, typer.Option("--boxes", help="Comma-separated releases (default: every Debian one).")
]
Faults = Annotated[str, typer.Option("--faults", help="Comma-separated faults to measure on each release.")]
Markdown = Annotated[bool, typer.Option("--markdown", help="The table as Markdown (for docs/platforms.md).")]
From = Annotated[
    Path | None,
    typer.Option("--from", help="Show the rows of an earlier run's --json output instead of running."),
]


def matrix(
    blueprint: Blueprint,
    boxes: Boxes = None,
    provider: Provider = "nspawn",
    faults: Faults = "stop,link-down",
    as_json: Json = False,
    markdown: Markdown = False,
    from_: From = None,
) -> None:
    """Up, verify (the whole suite) and measured failovers on each release, then down; exit 1 if
    any release failed."""
    from labgen.boxes.releases import releases, unknown
    from labgen.errors import LabgenError
    from labgen.matrix import Plan, run_release
    from labgen.model.load import load_blueprint
    from labgen.progress import Progress
    from labgen.providers import provider_class
    from labgen.verify.faults import check_fault

    bp, _ = load_blueprint(blueprint)
    chosen = boxes.split(",") if boxes else [r.name for r in releases().values() if r.distro == "debian"]
    for box in chosen:
        if problem := unknown(box):
            raise LabgenError(f"--boxes: {problem}")
    for fault in faults.split(","):
        check_fault(fault)
    missing = provider_class(provider).missing(chosen) if from_ is None else []
    if missing:
        raise LabgenError(f"this host lacks {missing[0][0]} for {provider}; run: {missing[0][1]}")
    if from_ is not None:
        rows = rows_from(from_)
    else:
        plan = Plan(blueprint, bp.packages, provider, faults.split(","))
        progress = Progress(console=console if not (as_json or markdown) else None)
        rows = [run_release(plan, box, progress) for box in chosen]
    if as_json:
        print_json([row.as_dict() for row in rows])
    elif markdown:
        console.print(markdown_table(bp.name, rows), highlight=False, markup=False)
    else:
        _print_table(rows)
    if not all(row.passed for row in rows):
        raise typer.Exit(1)


def rows_from(path: Path) -> list:
    """The rows of an earlier `labgen matrix --json`; one line if the file is not one."""
    import json

    from labgen.errors import LabgenError
    from labgen.matrix import Row

    try:
        return [Row.from_dict(item) for item in json.loads(path.read_text())]
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise LabgenError(f"--from {path}: not the output of `labgen matrix --json` ({exc})") from None


def columns(rows) -> list[tuple[str, list[str]]]:
    """(heading, one cell per row): the same columns for people and for Markdown."""
    from labgen.cli.box import upstream

    faults = [f.fault for f in rows[0].failovers] if rows and rows[0].failovers else []
    cols = [
        ("release", [row.box for row in rows]),
        ("daemons", [", ".join(f"{p} {upstream(v)}" for p, v in row.versions.items()) for row in rows]),
        ("up", [f"{row.up_s:.1f} s" if row.up_s is not None else "—" for row in rows]),
        ("tests", [_tests(row) for row in rows]),
        ("claims", [_claims(row) for row in rows]),
    ]
    for i, fault in enumerate(faults):
        cols.append((f"{fault}: VIP moved (formula)", [_failover(row, i) for row in rows]))
    cols.append(("result", ["passed" if row.passed else (row.error or "failed") for row in rows]))
    return cols


def markdown_table(blueprint: str, rows) -> str:
    cols = columns(rows)
    lines = [f"**{blueprint}**", "", "| " + " | ".join(h for h, _ in cols) + " |", "|" + "---|" * len(cols)]
    for i in range(len(rows)):
        lines.append("| " + " | ".join(cells[i].replace("|", "\\|") for _, cells in cols) + " |")
    return "\n".join(lines)


def _print_table(rows) -> None:
    from rich.table import Table

    cols = [(heading, cells) for heading, cells in columns(rows) if heading != "daemons"]
    table = Table(*(h for h, _ in cols))
    for i in range(len(rows)):
        table.add_row(*(cells[i] for _, cells in cols))
    print_table(table)
    daemons = dict(columns(rows))["daemons"]
    for row, versions in zip(rows, daemons, strict=True):
        console.print(f"{row.box}: {versions}\n  [dim]log: {row.log}[/]", highlight=False)


def _tests(row) -> str:
    return ", ".join(f"{n} {word}" for word, n in row.tests.items()) or "—"


def _claims(row) -> str:
    from labgen.verify.run import NOT_PROVEN

    if not row.claims:
        return "—"
    passed = sum(verdict == "passed" for verdict in row.claims.values())
    unproven = sum(verdict == NOT_PROVEN for verdict in row.claims.values())
    failed = [claim for claim, verdict in row.claims.items() if verdict == "failed"]
    notes = [f"{unproven} not proven"] if unproven else []
    notes += [f"failed: {', '.join(failed)}"] if failed else []
    return f"{passed}/{len(row.claims)}" + (f" ({'; '.join(notes)})" if notes else "")


def _failover(row, i: int) -> str:
    if i >= len(row.failovers):
        return "—"
    f = row.failovers[i]
    moved = f"{f.vip_moved_ms / 1000:.2f} s" if f.vip_moved_ms is not None else "never"
    formula = f" ({f.expected_ms / 1000:.2f} s)" if f.expected_ms else ""
    return moved + formula
