"""What the teacher's page may start on a lab: `labgen reset LAB`, `labgen exercise start LAB X`.

Each runs as the same labgen command the teacher would type (its own lock, progress and one-line
errors), at most one per lab at a time; its output is read line by line as it comes and only the
last LINES kept, so a command that prints without end costs the server nothing.
"""

from __future__ import annotations

import subprocess
import threading
from collections import deque
from dataclasses import dataclass, field

from labgen.errors import LabgenError
from labgen.exercises import exercises_of
from labgen.host import labgen_argv
from labgen.labs import find_lab

LINES = 12


@dataclass
class Job:
    what: str
    process: subprocess.Popen
    lines: deque[str] = field(default_factory=lambda: deque(maxlen=LINES))
    exit: int | None = None

    def view(self) -> dict:
        return {"what": self.what, "running": self.exit is None, "exit": self.exit, "lines": list(self.lines)}


class Jobs:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def reset(self, lab: str) -> Job:
        find_lab(lab)
        return self._start(lab, "reset", ["reset", lab])

    def exercise(self, lab: str, exercise: str) -> Job:
        """Start exercise on lab; its name must be one of the lab's blueprint's exercises."""
        known = [e.id for e in exercises_of(find_lab(lab)).exercises]
        if exercise not in known:
            raise LabgenError(f"lab {lab} has no exercise {exercise!r}; its exercises: {', '.join(known)}")
        return self._start(lab, f"exercise {exercise}", ["exercise", "start", lab, exercise])

    def exercises(self, lab: str) -> list[dict]:
        return [{"id": e.id, "title": e.title, "difficulty": e.difficulty}
                for e in exercises_of(find_lab(lab)).exercises]

    def view(self, lab: str) -> dict | None:
        job = self._jobs.get(lab)
        return job.view() if job else None

    def _start(self, lab: str, what: str, args: list[str]) -> Job:
        with self._lock:
            if (running := self._jobs.get(lab)) and running.exit is None:
                raise LabgenError(f"{running.what} is under way on lab {lab}: wait for it")
            process = subprocess.Popen(
                labgen_argv(args), cwd="/",
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                errors="replace",
            )
            job = self._jobs[lab] = Job(what, process)
        threading.Thread(target=self._follow, args=(job,), daemon=True).start()
        return job

    @staticmethod
    def _follow(job: Job) -> None:
        for line in job.process.stdout:
            job.lines.append(line.rstrip())
        job.exit = job.process.wait()

    def close(self) -> None:
        """Wait for the commands under way (each ends by itself; a killed reset is `down`'s to clean)."""
        for job in list(self._jobs.values()):
            if job.exit is None:
                job.process.wait()
