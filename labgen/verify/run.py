"""Running a lab's suite: the pytest command line `labgen verify` and `labgen exercise check`
share, and the verdicts it leaves in LAB/logs/claims.json."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from labgen.lab import Lab

EVENTS_FD = "LABGEN_EVENTS_FD"  # the pipe a run tells `labgen verify` its progress on (labgen.verify.claims)
NOT_PROVEN = "not proven"  # the verdict of a claim one of whose tests was skipped (labgen.verify.claims)
# seconds one test of a lab's suite may take, fixtures included: a backstop behind each test's own
# bounded polls, so a hung node can never hang `verify`
TEST_TIMEOUT = 600


def suite_argv(lab: Lab, claims: list[str], options: list[str]) -> list[str]:
    """pytest over the lab's suite (or the tests of the given claims), with pytest options."""
    return [
        sys.executable, "-m", "pytest", "-v", "-rs", "--tb=short", "-p", "no:cacheprovider",
        f"--timeout={TEST_TIMEOUT:g}", "--rootdir", str(lab.path), *selection(lab, claims), *options,
    ]


def run_suite(lab: Lab, claims: list[str], options: list[str], *, capture: bool = False
              ) -> subprocess.CompletedProcess[str]:
    """The suite in the lab's folder; its output shown, or captured for a summary of its own."""
    return subprocess.run(suite_argv(lab, claims, options), cwd=lab.path, check=False,
                          capture_output=capture, text=True)


def stream_suite(lab: Lab, claims: list[str], options: list[str], log: Path,
                 on_event: Callable[[dict], None]) -> int:
    """The suite with its pytest log written to log as it comes, and each test and claim passed to
    on_event as the run reaches it (a JSON line each, on a pipe of its own); pytest's exit code."""
    read, write = os.pipe()
    with open(log, "w") as written:
        process = subprocess.Popen(suite_argv(lab, claims, options), cwd=lab.path, stdout=written,
                                   stderr=subprocess.STDOUT, pass_fds=(write,),
                                   env={**os.environ, EVENTS_FD: str(write)})
    os.close(write)
    try:
        with open(read) as events:
            for line in events:
                with contextlib.suppress(ValueError):  # a line cut short: the next ones still count
                    on_event(json.loads(line))
    finally:
        code = process.wait()
    return code


def selection(lab: Lab, claims: list[str]) -> list[str]:
    """What pytest runs: the whole suite, or the tests of the given claims (validated first), in
    the suite's file order (pytest runs node ids as given): configuration before behaviour, so
    --exitfirst stops at a wrong setting before waiting out a failover."""
    if not claims:
        return [str(lab.path / "tests")]
    tests = dict.fromkeys(test for claim in claims for test in lab.spec.claim(claim).tests)
    in_suite_order = sorted(tests, key=lambda test: test.split("::")[0])
    return [str(lab.path / "tests" / test) for test in in_suite_order]


def last_verdicts(lab: Lab, since: float = 0) -> dict[str, dict]:
    """The claims of the lab's last suite run by id: verdict, tests, and those that failed; none if
    that run ended before `since` (a run that stopped before its summary leaves an older file)."""
    try:
        if lab.claims_record.stat().st_mtime < since:
            return {}
        record = json.loads(lab.claims_record.read_text())
    except (OSError, ValueError):
        return {}
    return {claim["id"]: claim for claim in record}
