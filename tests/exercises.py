"""One exercise, run through the CLI as a teacher and a student type it: start, check (it must
fail on the breakage's claims, within the catalogue's bound), a hint, solve, check (it must pass),
then start again and reset (the very tests that caught it pass again, no exercise is left)."""

from __future__ import annotations

import json
import re
import time

from labgen.exercises import check_log
from labgen.labs import find_lab
from labgen.model.exercises import Exercise, ExerciseSet
from tests.labs import labgen, ok


def assert_exercise_graded(lab: str, exercises: ExerciseSet, exercise: Exercise) -> None:
    from tests.catalogue import bound

    breakage = exercises.breakage(exercise)
    started = ok("exercise", "start", lab, exercise.id)
    assert exercise.title in started, started
    assert " ".join(exercise.answer.split()[:4]) not in " ".join(started.split()), "start told the answer"
    try:
        began = time.monotonic()
        broken = labgen("exercise", "check", lab, timeout=1800)
        took = time.monotonic() - began
        record = exercise_record(lab)
        assert broken.returncode == 1, f"{exercise.id}: check passed a broken lab:\n{suite_said(lab)}"
        assert record["failing"] == breakage.fails, f"{exercise.id}: {broken.stdout}{suite_said(lab)}"
        assert "not mended yet" in broken.stdout, broken.stdout
        said = suite_said(lab)
        named = [t for t in record["caught_by"] if re.search(rf"::{re.escape(t)} (FAILED|ERROR)", said)]
        assert named == record["caught_by"], f"the check's log names the tests that failed: {said}"
        assert took <= bound(lab, breakage), f"{exercise.id}: check took {took:.0f} s to fail"
        hint = ok("exercise", "hint", lab)
        assert hint.startswith(f"hint 1 of {len(exercise.hints)}: "), hint
        solved = ok("exercise", "solve", lab, timeout=1800)
        assert " ".join(exercise.answer.split()[:4]) in " ".join(solved.split()), solved
    finally:
        if exercise_record(lab)["state"] in ("broken", "checked"):
            labgen("exercise", "reset", lab)
    mended = labgen("exercise", "check", lab, timeout=1800)
    assert mended.returncode == 0, f"{exercise.id} after solve:\n{mended.stdout}{suite_said(lab)}"
    assert "every claim holds again" in mended.stdout, mended.stdout
    assert_reset_mends(lab, exercise, breakage.fails, record["caught_by"])


def assert_reset_mends(lab: str, exercise: Exercise, claims: list[str], caught_by: list[str]) -> None:
    """Broken once more, then reset: the tests that caught the breakage pass, no exercise runs."""
    ok("exercise", "start", lab, exercise.id)
    ok("exercise", "reset", lab, timeout=900)
    assert exercise_record(lab)["state"] == "reset"
    assert json.loads(ok("status", lab, "--json"))["exercise"] is None
    selected = [arg for claim in claims for arg in ("--claim", claim)]
    again = labgen("verify", lab, *selected, "-k", " or ".join(caught_by), timeout=1800)
    assert again.returncode == 0, f"after reset from {exercise.id}:\n{again.stdout[-3000:]}"


def suite_said(lab: str) -> str:
    """What the suite printed in the last check: the failing test and its message."""
    return "\n" + check_log(find_lab(lab)).read_text()


def exercise_record(lab: str) -> dict:
    return json.loads((find_lab(lab).path / "exercise.json").read_text())
