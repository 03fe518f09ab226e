"""One blueprint on several releases in turn: up, the whole suite, measured failovers, down; one row
per release. Each step is the labgen command a user would type, run as a child process, so a
release that breaks the lab breaks only its own row; its output goes to a log per release."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from labgen import paths
from labgen.errors import LabgenError
from labgen.lab import check_lab_name, is_lab_dir
from labgen.labs import find_lab, lab_dir
from labgen.progress import Progress

_SUMMARY = re.compile(r"(\d+) (passed|failed|skipped|errors?)\b")


@dataclass(frozen=True)
class Plan:
    """What the matrix runs on each release."""

    blueprint: str
    packages: list[str]  # the blueprint's, whose versions each row reports
    provider: str
    faults: list[str]


@dataclass
class Failover:
    fault: str
    vip_moved_ms: float | None
    expected_ms: float | None
    rule: str
    failback_ms: float | None


@dataclass
class Row:
    """What one release did with the lab."""

    box: str
    lab: str
    versions: dict[str, str] = field(default_factory=dict)
    up_s: float | None = None
    tests: dict[str, int] = field(default_factory=dict)
    claims: dict[str, str] = field(default_factory=dict)
    failovers: list[Failover] = field(default_factory=list)
    error: str | None = None
    log: str = ""

    @property
    def passed(self) -> bool:
        failed = self.tests.get("failed", 0) + self.tests.get("error", 0) + self.tests.get("errors", 0)
        return self.error is None and failed == 0 and bool(self.tests.get("passed"))

    def as_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}

    @classmethod
    def from_dict(cls, data: dict) -> Row:
        """A row as as_dict wrote it (`labgen matrix --from`)."""
        fields = {k: v for k, v in data.items() if k != "passed"}
        return cls(**{**fields, "failovers": [Failover(**f) for f in fields.get("failovers", [])]})


def lab_name(blueprint: str, box: str) -> str:
    """mx-<the blueprint's initials>-<box>: keepalived-rr on debian-13 is mx-kr-debian-13."""
    initials = "".join(part[0] for part in blueprint.split("-") if part)
    return check_lab_name(f"mx-{initials}-{box.replace('.', '')}"[:20].rstrip("-"))


def run_release(plan: Plan, box: str, progress: Progress) -> Row:
    """Up, verify, failover for each fault, down: every step runs even when verify fails, and down
    always does (the lab is the matrix's own, named for it)."""
    row = Row(box=box, lab=lab_name(plan.blueprint, box))
    if is_lab_dir(lab_dir(row.lab)):
        raise LabgenError(f"lab {row.lab} exists already: `labgen down {row.lab}`, then run the matrix again")
    log = paths.home() / "matrix" / plan.blueprint / f"{box}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(f"labgen matrix {plan.blueprint} on {box} ({plan.provider}) at {time.ctime()}\n")
    row.log = str(log)
    try:
        _steps(plan, row, progress, log)
    except _StepFailed as failed:
        row.error = str(failed)
    finally:
        with progress.step(f"{box}: down"):
            _labgen(log, "down", row.lab, check=False)
    return row


def _steps(plan: Plan, row: Row, progress: Progress, log: Path) -> None:
    box = row.box
    with progress.step(f"{box}: up {plan.blueprint}"):
        _labgen(log, "up", plan.blueprint, "--name", row.lab, "--provider", plan.provider, "--box", box)
    lab = find_lab(row.lab)
    row.up_s = json.loads(lab.up_record.read_text())["total_s"]
    row.versions = _installed_versions(row.lab, plan.packages, log)
    with progress.step(f"{box}: verify (the whole suite)"):
        verify = _labgen(log, "verify", row.lab, check=False)
    row.tests = _counts(verify.stdout)
    if lab.claims_record.is_file():
        row.claims = {c["id"]: c["verdict"] for c in json.loads(lab.claims_record.read_text())}
    for fault in plan.faults:
        with progress.step(f"{box}: failover --fault {fault}"):
            report = json.loads(_labgen(log, "failover", row.lab, "--fault", fault, "--json").stdout)
        row.failovers.append(
            Failover(fault, report["vip_moved_ms"], report["expected_ms"], report["expected_rule"],
                     report["failback_ms"])
        )


def _installed_versions(lab: str, packages: list[str], log: Path) -> dict[str, str]:
    """The versions dpkg reports on the preferred node: of the blueprint's packages, and systemd."""
    node = find_lab(lab).spec.preferred.name
    query = ["dpkg-query", "-W", "-f", "${Package} ${Version}\\n", *packages, "systemd"]
    done = _labgen(log, "exec", lab, node, "--", *query, check=False)
    return dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)


def _counts(output: str) -> dict[str, int]:
    """pytest's last summary line ("12 passed, 1 failed in 40s") as numbers."""
    lines = [line for line in output.splitlines() if _SUMMARY.search(line)]
    return {word: int(n) for n, word in _SUMMARY.findall(lines[-1])} if lines else {}


class _StepFailed(Exception):
    pass


def _labgen(log: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "labgen", *args]
    done = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
    with log.open("a") as out:
        out.write(f"\n$ labgen {' '.join(args)}  (exit {done.returncode})\n{done.stdout}{done.stderr}")
    if check and done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip() or f"exit {done.returncode}").splitlines()[-1]
        raise _StepFailed(f"labgen {args[0]} failed: {last}")
    return done
