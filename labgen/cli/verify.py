"""labgen verify: the blueprint's testinfra suite against a running lab, as a checklist."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labgen.cli.options import LabName
from labgen.cli.output import console

# seconds one test of a lab's suite may take, fixtures included: a backstop behind each test's own
# bounded polls, so a hung node can never hang `verify`
TEST_TIMEOUT = 600


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
    import subprocess
    import sys

    from labgen.labs import find_lab, running_provider
    from labgen.locks import lab_lock

    found = find_lab(lab)
    running_provider(found)  # a lab whose machines died fails here, in one line
    for skip in found.spec.skipped:
        console.print(f"[yellow]skipped on this lab:[/] {skip.what}: {skip.reason}")
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "-v",
        "-rs",
        "--tb=short",
        "-p",
        "no:cacheprovider",
        f"--timeout={TEST_TIMEOUT:g}",
        "--rootdir",
        str(found.path),
        *_selection(found, claims or []),
    ]
    if junit:
        argv += ["--junit-xml", str(junit.resolve())]
    if keyword:
        argv += ["-k", keyword]
    if exitfirst:
        argv.append("--exitfirst")
    if quick:
        argv += ["-m", "not disruptive"]
    with lab_lock(lab, "verify"):
        done = subprocess.run(argv, cwd=found.path, check=False)
    raise typer.Exit(done.returncode)


def _selection(lab, claims: list[str]) -> list[str]:
    """What pytest runs: the whole suite, or the tests of the given claims (validated first), in
    the suite's file order (pytest runs node ids as given): configuration before behaviour, so
    --exitfirst stops at a wrong setting before waiting out a failover."""
    if not claims:
        return [str(lab.path / "tests")]
    tests = dict.fromkeys(test for claim in claims for test in lab.spec.claim(claim).tests)
    in_suite_order = sorted(tests, key=lambda test: test.split("::")[0])
    return [str(lab.path / "tests" / test) for test in in_suite_order]
