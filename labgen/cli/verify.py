"""labgen verify: the blueprint's testinfra suite against a running lab, as a checklist."""

from __future__ import annotations

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
    from labgen.verify.run import run_suite

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
    with lab_lock(lab, "verify"):
        done = run_suite(found, claims or [], options)
    raise typer.Exit(done.returncode)
