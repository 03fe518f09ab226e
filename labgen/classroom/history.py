"""What each `class up` took on this host, kept to tell the next one how long it will take.

A line of JSON per class up in LABGEN_HOME/history/class-up.jsonl (root's): the blueprint, the
provider, how many seats at once, how long the whole took. An estimate is measured, never guessed:
it scales the last class of the same blueprint on the same provider and as many seats at once by
its rounds of seats, else the last one of any size of round by its seats, and says which class it
comes from (a rough guide in the second case); with none, it says so.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

from labgen import paths

KEEP = 50  # the last classes kept


def _file() -> Path:
    return paths.home() / "history" / "class-up.jsonl"


def record(blueprint: str, provider: str, seats: int, parallel: int, seconds: float, failed: int) -> None:
    """Append this class up's figures (the oldest beyond KEEP dropped)."""
    path = _file()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    entry = {"at": time.time(), "blueprint": blueprint, "provider": provider, "seats": seats,
             "parallel": parallel, "seconds": round(seconds, 1), "failed": failed}
    kept = [*_entries()[-(KEEP - 1):], entry]
    draft = path.with_suffix(".new")
    draft.write_text("".join(json.dumps(e) + "\n" for e in kept))
    draft.chmod(0o600)
    draft.rename(path)


def _entries() -> list[dict]:
    try:
        lines = _file().read_text().splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return found


def latest() -> list[dict]:
    """The last class up of each blueprint on each provider, as measured here (labgen doctor)."""
    last = {(e.get("blueprint"), e.get("provider")): e for e in _entries()}
    return sorted(last.values(), key=lambda e: (e.get("provider", ""), e.get("blueprint", "")))


@dataclass(frozen=True)
class Estimate:
    seconds: float
    basis: dict  # the class up it scales

    parallel: int

    def __str__(self) -> str:
        b = self.basis
        when = time.strftime("%Y-%m-%d", time.localtime(b["at"]))
        said = (f"about {self.seconds:.0f} s, scaled from the class up of {b['seats']} {b['blueprint']} "
                f"seats on {b['provider']}, {b['parallel']} at a time, that took {b['seconds']:.0f} s here "
                f"on {when}")
        if b["parallel"] != self.parallel:  # rounds of another size: the host shares its cores otherwise
            said += f" (measured {b['parallel']} at a time, not {self.parallel}: a rough guide)"
        return said


def estimate(blueprint: str, provider: str, seats: int, parallel: int) -> Estimate | None:
    """How long class up of `seats`, `parallel` at a time, should take, from the last one alike."""
    alike = [e for e in _entries() if (e.get("blueprint"), e.get("provider")) == (blueprint, provider)
             and not e.get("failed") and e.get("seats", 0) > 0 and e.get("parallel", 0) > 0]
    if not alike:
        return None
    same = [e for e in alike if e["parallel"] == parallel]
    if same:  # rounds of the same size: scaled by their number
        last = same[-1]
        per_round = last["seconds"] / math.ceil(last["seats"] / last["parallel"])
        return Estimate(per_round * math.ceil(seats / parallel), last, parallel)
    last = alike[-1]  # another size of round: the host's seats per second, as measured
    return Estimate(last["seconds"] / last["seats"] * seats, last, parallel)
