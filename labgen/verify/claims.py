"""The tutorial's claims, judged by the lab's suite: each passed, failed, skipped or not run.

A pytest plugin (loaded by LAB/tests/conftest.py): it gathers each test's outcome and, at the end,
prints one line per claim and writes LAB/logs/claims.json, which `labgen verify` and the
breakage catalogue read. The mapping is the blueprint's `claims:` data, nothing else.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labgen.lab import Lab, LabSpec
from labgen.verify.fixtures import suite_lab_dir

RANK = {"passed": 0, "skipped": 1, "failed": 2}  # a test's worst phase decides its outcome


def function_id(nodeid: str) -> str:
    """tests/test_6_vip.py::test_x[lb0] -> test_6_vip.py::test_x, as claims name their tests."""
    path, _, name = nodeid.partition("::")
    return f"{Path(path).name}::{name.split('[')[0]}"


def verdicts(spec: LabSpec, outcomes: dict[str, str]) -> dict[str, str]:
    """claim id -> failed if any of its tests failed, else passed if any passed, else skipped
    (or `not run` when none of its tests was selected)."""
    found = {}
    for claim in spec.claims:
        seen = [outcome for nodeid, outcome in outcomes.items() if function_id(nodeid) in claim.tests]
        found[claim.id] = max(seen, key=RANK.__getitem__) if seen else "not run"
        if seen and found[claim.id] == "skipped" and "passed" in seen:
            found[claim.id] = "passed"
    return found


class ClaimReport:
    def __init__(self, lab: Lab):
        self.lab = lab
        self.outcomes: dict[str, str] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome = "skipped" if report.skipped else report.outcome
        if report.when == "call" or outcome != "passed":
            before = self.outcomes.get(report.nodeid, "passed")
            self.outcomes[report.nodeid] = max(before, outcome, key=RANK.__getitem__)

    def failed(self, tests: list[str]) -> list[str]:
        """The claim's tests that failed, as pytest names them (test_x[lb0]): what to run again."""
        return [
            nodeid.partition("::")[2]
            for nodeid, outcome in self.outcomes.items()
            if outcome == "failed" and function_id(nodeid) in tests
        ]

    def pytest_terminal_summary(self, terminalreporter) -> None:
        spec = self.lab.spec
        if not spec.claims:
            return
        found = verdicts(spec, self.outcomes)
        terminalreporter.section("the tutorial's claims")
        for claim in spec.claims:
            terminalreporter.write_line(f"{found[claim.id]:>8}  {claim.id}: \"{claim.quote}\"")
        record = [
            {"id": c.id, "verdict": found[c.id], "tests": c.tests, "failed": self.failed(c.tests)}
            for c in spec.claims
        ]
        self.lab.claims_record.parent.mkdir(exist_ok=True)
        self.lab.claims_record.write_text(json.dumps(record, indent=2) + "\n")


def pytest_configure(config: pytest.Config) -> None:
    lab = Lab(suite_lab_dir(Path(str(config.rootpath))))
    config.pluginmanager.register(ClaimReport(lab), "labgen-claims")
