"""The class dashboard of `labgen serve`: a row per lab on this host, read while a page shows it.

Each row is what `labgen status` says of the lab (nodes, daemons, VIP holders, problems) with what
`class status` adds for a seat: the last verify claim by claim, the exercise under way, the
student's last command. Reading every lab asks systemd on every node, so one reader refreshes the
board every EVERY seconds, eight labs at a time, for all the pages showing it, and only while one
does.
"""

from __future__ import annotations

import contextlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from labgen.classroom import seats
from labgen.classroom.report import activity_log, last_activity, last_claims
from labgen.errors import LabgenError
from labgen.exercises import describe
from labgen.lab import Lab
from labgen.labs import BrokenLab, all_labs
from labgen.status import lab_report

EVERY = 2.0
IDLE_STOP = 30.0  # the reader stops once no page has asked for this long


class Board:
    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.read_at = 0.0
        self._asked_at = 0.0
        self._reader: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def latest(self) -> dict:
        """The board as last read (a reader started if none runs): rows and when they were read."""
        with self._lock:
            self._asked_at = time.monotonic()
            if self._reader is None or not self._reader.is_alive():
                self._reader = threading.Thread(target=self._read_loop, daemon=True)
                self._reader.start()
        return {"rows": self.rows, "read_at": self.read_at}

    def _read_loop(self) -> None:
        while not self._stop.is_set() and time.monotonic() - self._asked_at < IDLE_STOP:
            self.rows = read_rows()
            self.read_at = time.time()
            self._stop.wait(EVERY)

    def close(self) -> None:
        self._stop.set()


def read_rows() -> list[dict]:
    labs = all_labs()
    seat_of = _seats_by_lab()
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda lab: _row(lab, seat_of.get(lab.name)), labs))


def _seats_by_lab() -> dict[str, str]:
    with contextlib.suppress(LabgenError, OSError, ValueError):
        return {seat["lab"]: name for name, seat in seats.load()["seats"].items()}
    return {}


def _row(lab: Lab | BrokenLab, seat: str | None) -> dict:
    try:
        report = lab_report(lab)
    except LabgenError as exc:  # a lab going down while read
        report = {"name": lab.name, "state": "broken", "problems": [str(exc)], "nodes": {}}
    row = {
        "lab": lab.name,
        "seat": seat,
        "state": report["state"],
        "problems": report["problems"],
        "blueprint": report.get("blueprint"),
        "provider": report.get("provider"),
        "vip_holders": report.get("vip_holders", []),
        "nodes": [
            {"name": node, "machine": machine, "units": report.get("units", {}).get(node, {})}
            for node, machine in report["nodes"].items()
        ],
        "exercise": describe(report.get("exercise")),
        "claims": [],
        "verified_ago": None,
        "last_command": None,
        "idle": None,
    }
    if isinstance(lab, Lab):
        if seen := last_claims(lab.claims_record):
            claims, row["verified_ago"] = seen
            row["claims"] = [_claim(lab, claim) for claim in claims]
        if seen := last_activity(activity_log(lab)):
            row["last_command"], row["idle"] = seen
    return row


def _claim(lab: Lab, claim: dict) -> dict:
    why = claim.get("failed_because") or claim.get("not_proven_because") or []
    try:
        quote = lab.spec.claim(claim["id"]).quote
    except LabgenError:
        quote = claim["id"]
    return {"id": claim["id"], "verdict": claim["verdict"], "quote": quote, "why": why[:3]}
