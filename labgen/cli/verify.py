"""labgen verify: the blueprint's testinfra suite against a running lab, as a checklist."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from labgen.cli.options import LabName
from labgen.cli.output import console


def verify(
    lab: LabName,
    junit: Annotated[Path | None, typer.Option("--junit", help="Also write a JUnit XML report.")] = None,
    keyword: Annotated[str | None, typer.Option("-k", help="Only tests matching this expression.")] = None,
    claims: Annotated[
        list[str] | None, typer.Option("--claim", help="Only the tests of this claim (labgen show).")
    ] = None,
    exitfirst: Annotated[
        bool, typer.Option("--exitfirst", "-x", help="Stop at the first failing test.")
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="The whole pytest log as it runs, instead of the checklist."),
    ] = False,
    quick: Annotated[
        bool,
        typer.Option("--quick", help="Configuration and steady state only: no fault is injected, "
                     "nothing is broken (seconds on containers; for students checking their work)."),
    ] = False,
) -> None:
    """Run the lab's tests: configuration as the tutorial writes it, and failover behaviour. Each
    tutorial claim is shown as soon as its last test is done (with why, when it failed); the
    pytest log goes to the lab's logs/verify.log, or to the terminal with -v."""
    from labgen.labs import find_lab, running_provider
    from labgen.locks import lab_lock
    from labgen.verify.run import NOT_PROVEN, last_verdicts, run_suite

    found = find_lab(lab)
    running_provider(found)  # a lab whose machines died fails here, in one line
    for skip in found.spec.skipped:
        console.print(f"[yellow]skipped on this lab:[/] {skip.what}: {skip.reason}")
    options = []
    if junit:
        options += ["--junit-xml", str(junit.resolve())]
    if keyword:
        options += ["-k", keyword]
    if exitfirst:
        options.append("--exitfirst")
    if quick:
        options += ["-m", "not disruptive"]
    began = time.time()
    with lab_lock(lab, "verify"):
        if verbose:
            code = run_suite(found, claims or [], options).returncode
        else:
            code = _checklist(found, claims or [], options)
    # this run's verdicts only: a run that stopped before its summary leaves an older file
    verdicts = last_verdicts(found, since=began).values()
    if verbose and (unproven := [claim for claim in verdicts if claim["verdict"] == NOT_PROVEN]):
        reasons = sorted({why for claim in unproven for why in claim["not_proven_because"]})
        console.print(f"[yellow]not proven on this lab:[/] {len(unproven)} of {len(verdicts)} claims "
                      f"({', '.join(claim['id'] for claim in unproven)}): {'; '.join(reasons)}",
                      highlight=False)
    raise typer.Exit(code)


def _checklist(lab, claims: list[str], options: list[str]) -> int:
    """The suite run with its log in a file: a line per claim as it is judged, the test under way
    on a status line, then the counts; pytest's exit code."""
    from collections import Counter

    from rich.markup import escape

    from labgen.verify.run import NOT_PROVEN, stream_suite

    marks = {"passed": "[green]✓ passed[/]", "failed": "[red]✗ failed[/]",
             NOT_PROVEN: "[yellow]~ not proven[/]"}
    log = lab.logs_dir / "verify.log"
    tests, judged = Counter(), []
    began = time.monotonic()
    with console.status("collecting the tests") as status:

        def on_event(event: dict) -> None:
            if "tests" in event:
                tests["selected"] = event["tests"]
            elif "test" in event:
                name = event["test"].rpartition("/")[2]
                status.update(f"test {tests.total() - tests['selected'] + 1} of {tests['selected']}: {name}")
            elif "done" in event:
                tests[event["outcome"]] += 1
            elif "claim" in event:
                judged.append(event["verdict"])
                mark = marks.get(event["verdict"], f"[red]✗ {escape(event['verdict'])}[/]")
                console.print(f"{mark}  {escape(event['quote'])} [dim]({event['claim']})[/]", highlight=False)
                for why in event["why"]:
                    console.print(f"    [dim]why:[/] {escape(why)}", highlight=False)

        code = stream_suite(lab, claims, options, log, on_event)
    counts = Counter(judged)
    unjudged = len(lab.spec.claims) - len(judged) if not claims else len(claims) - len(judged)
    said = ", ".join(f"{n} {verdict}" for verdict, n in counts.most_common()) or "no claim judged"
    ran = ", ".join(f"{tests[o]} {o}" for o in ("passed", "failed", "skipped") if tests[o])
    console.print(
        f"claims: {said}" + (f", {unjudged} not run" if unjudged > 0 else "")
        + f"; tests: {ran or 'none ran'} in {time.monotonic() - began:.0f} s; the pytest log: {log} "
        "(-v shows it as it runs)",
        highlight=False,
    )
    return code
