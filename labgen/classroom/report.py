"""The teacher's view of the class: a row per seat, from each lab's own records."""

from __future__ import annotations

import json
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rich.table import Table
from rich.text import Text

from labgen.errors import LabgenError
from labgen.exercises import describe
from labgen.lab import Lab
from labgen.labs import find_lab
from labgen.status import lab_report

COLUMNS = ("seat", "lab", "vip_holder", "exercise", "last_verify", "last_activity")


def activity_log(lab: Lab) -> Path:
    """Where the seat's helper writes each command the student runs (labgen.classroom.seat)."""
    return lab.path / "logs" / "activity.log"


def seat_rows(state: dict) -> list[dict]:
    """A row per seat, asked of the seats' nodes eight at a time (each asks systemd on every node)."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda item: _row(*item), state["seats"].items()))


def table(rows: list[dict]) -> Table:
    """The rows as a table; with a host column when the class spans hosts."""
    columns = COLUMNS if {row.get("host", "local") for row in rows} <= {"local"} else ("host", *COLUMNS)
    view = Table(*columns, title=f"class: {len(rows)} seats, {time.strftime('%H:%M:%S')}")
    for row in rows:
        view.add_row(*cells(row, columns))
    return view


def cells(row: dict, columns: tuple[str, ...]) -> list[Text]:
    """A row's cells as plain text (what a lab or another host said is never read as markup)."""
    return [Text(str(row.get(key) or "-")) for key in columns]


def _row(name: str, seat: dict) -> dict:
    row = {"seat": name, "lab": seat["state"], "vip_holder": None, "exercise": None, "last_verify": None,
           "last_activity": None}
    if seat["state"] != "up":
        return row
    try:
        lab = find_lab(seat["lab"])
        report = lab_report(lab)
    except LabgenError as exc:
        return {**row, "lab": f"broken: {exc}"}
    row["lab"] = report["state"]
    row["vip_holder"] = ", ".join(report["vip_holders"]) or "nobody"
    row["exercise"] = describe(report["exercise"])
    row["exercise_detail"] = report["exercise"]
    row["last_verify"] = _last_verify(lab.claims_record)
    row["last_activity"] = _last_activity(activity_log(lab))
    return row


def last_claims(record: Path) -> tuple[list[dict], float] | None:
    """The claims of the lab's last verify (id and verdict each), and how many seconds ago it ran."""
    try:
        return json.loads(record.read_text()), time.time() - record.stat().st_mtime
    except (OSError, ValueError):
        return None


def last_activity(log: Path) -> tuple[str, float] | None:
    """The student's last labgen command on the seat, and how many seconds ago it ran."""
    try:
        stamp, verb = log.read_text().splitlines()[-1].split(maxsplit=1)
        return verb, time.time() - float(stamp)
    except (OSError, IndexError, ValueError):
        return None


def _last_verify(record: Path) -> str | None:
    """`12 passed, 1 failed (3 min ago)` from the claims of the lab's last verify."""
    if (seen := last_claims(record)) is None:
        return None
    claims, age = seen
    counts = Counter(claim["verdict"] for claim in claims)
    return f"{', '.join(f'{n} {verdict}' for verdict, n in sorted(counts.items()))} ({_ago(age)})"


def _last_activity(log: Path) -> str | None:
    if (seen := last_activity(log)) is None:
        return None
    verb, age = seen
    return f"{verb} ({_ago(age)})"


def _ago(seconds: float) -> str:
    return f"{seconds:.0f} s ago" if seconds < 120 else f"{seconds / 60:.0f} min ago"
