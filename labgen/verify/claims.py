"""The tutorial's claims, judged by the lab's suite: each passed, failed, not proven or not run.

A claim passes only where every test of it that ran passed: a test skipped (LVS on a kernel without
ip_vs, a lab that did not settle) leaves its claim "not proven", with the skip's reason, even when
the claim's other tests passed.

A pytest plugin (loaded by LAB/tests/conftest.py): it gathers each test's outcome and, at the end,
prints one line per claim and writes LAB/logs/claims.json, which `labgen verify` and the
breakage catalogue read. Run by `labgen verify`, it also tells it each claim as soon as its last
test is done, for the checklist shown as the run goes. The mapping is the blueprint's `claims:`
data, nothing else.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from labgen.lab import Lab, LabSpec
from labgen.verify.fixtures import suite_lab_dir
from labgen.verify.run import EVENTS_FD, NOT_PROVEN

RANK = {"passed": 0, "skipped": 1, "failed": 2}  # a test's worst phase decides its outcome
_EXCEPTION_NAME = re.compile(r"^(?:[\w.]+\.)?\w*(?:Error|Exception|Timeout|Failed): ")
MAX_REASON = 300


def function_id(nodeid: str) -> str:
    """tests/test_6_vip.py::test_x[lb0] -> test_6_vip.py::test_x, as claims name their tests."""
    path, _, name = nodeid.partition("::")
    return f"{Path(path).name}::{name.split('[')[0]}"


def verdicts(spec: LabSpec, outcomes: dict[str, str]) -> dict[str, str]:
    """claim id -> failed if any of its tests failed, else not proven if any was skipped, else
    passed (or `not run` when none of its tests was selected)."""
    found = {}
    for claim in spec.claims:
        seen = [outcome for nodeid, outcome in outcomes.items() if function_id(nodeid) in claim.tests]
        worst = max(seen, key=RANK.__getitem__) if seen else "not run"
        found[claim.id] = NOT_PROVEN if worst == "skipped" else worst
    return found


def skip_reason(report: pytest.TestReport) -> str:
    """What pytest.skip said, without its "Skipped: " prefix."""
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    return reason.removeprefix("Skipped: ")


def failure_reason(report: pytest.TestReport) -> str:
    """The first line of what a failed test said (its assertion's message: what was expected and
    what the lab does), without the exception's name: what a student is shown."""
    crash = getattr(report.longrepr, "reprcrash", None)
    message = crash.message if crash else str(report.longrepr)
    first = message.strip().splitlines()[0] if message.strip() else "failed"
    return _EXCEPTION_NAME.sub("", first)[:MAX_REASON]


class ClaimReport:
    def __init__(self, lab: Lab):
        self.lab = lab
        self.outcomes: dict[str, str] = {}
        self.said: dict[str, str] = {}  # nodeid -> what its skip or failure said, in one line
        self.waiting: dict[str, set[str]] = {}  # claim id -> its selected tests not yet finished
        self.events = _event_stream()

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for claim in self.lab.spec.claims:
            self.waiting[claim.id] = {i.nodeid for i in session.items if function_id(i.nodeid) in claim.tests}
        self._send(tests=len(session.items))

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self._send(test=nodeid)

    def _finished(self, nodeid: str) -> None:
        """After a test's teardown: each claim whose last selected test it was, judged now."""
        outcome = self.outcomes.get(nodeid, "passed")
        self._send(done=nodeid, outcome=outcome)
        for claim in self.lab.spec.claims:
            tests = self.waiting.get(claim.id)
            if tests and nodeid in tests:
                tests.discard(nodeid)
                if not tests:
                    self._send_claim(claim.id)

    def _send_claim(self, claim_id: str) -> None:
        claim = self.lab.spec.claim(claim_id)
        verdict = verdicts(self.lab.spec, self.outcomes)[claim_id]
        why = self.why(claim.tests, "failed" if verdict == "failed" else "skipped")
        self._send(claim=claim_id, verdict=verdict, quote=claim.quote, why=why if verdict != "passed" else [])

    def _send(self, **event) -> None:
        if self.events:
            self.events.write(json.dumps(event) + "\n")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome = "skipped" if report.skipped else report.outcome
        if report.skipped:
            self.said[report.nodeid] = skip_reason(report)
        elif report.failed and report.nodeid not in self.said:
            self.said[report.nodeid] = failure_reason(report)
        if report.when == "call" or outcome != "passed":
            before = self.outcomes.get(report.nodeid, "passed")
            self.outcomes[report.nodeid] = max(before, outcome, key=RANK.__getitem__)
        if report.when == "teardown":
            self._finished(report.nodeid)

    def failed(self, tests: list[str]) -> list[str]:
        """The claim's tests that failed, as pytest names them (test_x[lb0]): what to run again."""
        return [
            nodeid.partition("::")[2]
            for nodeid, outcome in self.outcomes.items()
            if outcome == "failed" and function_id(nodeid) in tests
        ]

    def why(self, tests: list[str], outcome: str) -> list[str]:
        """What its tests of this outcome (skipped, failed) said, each once."""
        return sorted({self.said[nodeid] for nodeid, seen in self.outcomes.items()
                       if seen == outcome and nodeid in self.said and function_id(nodeid) in tests})

    def pytest_terminal_summary(self, terminalreporter) -> None:
        spec = self.lab.spec
        if not spec.claims:
            return
        found = verdicts(spec, self.outcomes)
        terminalreporter.section("the tutorial's claims")
        width = max(len(verdict) for verdict in found.values())
        for claim in spec.claims:
            terminalreporter.write_line(f"{found[claim.id]:>{width}}  {claim.id}: \"{claim.quote}\"")
            if found[claim.id] == NOT_PROVEN:
                why = "; ".join(self.why(claim.tests, "skipped"))
                terminalreporter.write_line(f"{'':>{width}}  (here: {why})")
        record = [
            {"id": c.id, "verdict": found[c.id], "tests": c.tests, "failed": self.failed(c.tests),
             "not_proven_because": self.why(c.tests, "skipped") if found[c.id] == NOT_PROVEN else [],
             "failed_because": self.why(c.tests, "failed")}
            for c in spec.claims
        ]
        self.lab.claims_record.parent.mkdir(exist_ok=True)
        self.lab.claims_record.write_text(json.dumps(record, indent=2) + "\n")


def _event_stream():
    """Where `labgen verify` reads the run as it goes (LABGEN_EVENTS_FD, a pipe it passed): a JSON
    line per test started and finished and per claim judged; None when run by hand."""
    fd = os.environ.pop(EVENTS_FD, None)
    if not (fd and fd.isdigit()):
        return None
    os.set_inheritable(int(fd), False)  # a test's own child holding it would keep verify waiting
    return open(int(fd), "w", buffering=1)


def pytest_configure(config: pytest.Config) -> None:
    lab = Lab(suite_lab_dir(Path(str(config.rootpath))))
    config.pluginmanager.register(ClaimReport(lab), "labgen-claims")
