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
    quick: Annotated[
        bool,
        typer.Option("--quick", help="Configuration and steady state only: no fault is injected, "
                     "nothing is broken (seconds on containers; for students checking their work)."),
    ] = False,
) -> None:
    """Run the lab's tests: configuration as the tutorial writes it, and failover behaviour."""
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
        done = run_suite(found, claims or [], options)
    # this run's verdicts only: a run that stopped before its summary leaves an older file
    verdicts = last_verdicts(found, since=began).values()
    if unproven := [claim for claim in verdicts if claim["verdict"] == NOT_PROVEN]:
        reasons = sorted({why for claim in unproven for why in claim["not_proven_because"]})
        console.print(f"[yellow]not proven on this lab:[/] {len(unproven)} of {len(verdicts)} claims "
                      f"({', '.join(claim['id'] for claim in unproven)}): {'; '.join(reasons)}",
                      highlight=False)
    raise typer.Exit(done.returncode)
