"""A blueprint's break-fix exercises: a breakage of its catalogue, told as a story a student can
act on, with graded hints, the claims that grade it and the fix.

The data sits beside the blueprint (exercises.yaml) and names its breakage by id, so what is
broken, and which claims must fail while it is, is written once (breakages.yaml) and proven by the
catalogue's tests. Neither file is for students' eyes: `labgen class up` makes both readable by
their owner only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError

from labgen.errors import LabgenError
from labgen.grammar import Strict
from labgen.model.breakages import Breakage, load_breakages
from labgen.model.files import read_entries

FILE = "exercises.yaml"


class Exercise(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]{0,39}$", description="what `exercise start` is given")
    title: str = Field(min_length=1, max_length=70, description="one line for lists and the class table")
    difficulty: Literal["easy", "medium", "hard"] = Field(
        description="easy: a one-line slip; medium: needs the logs; hard: shows only in a failover"
    )
    story: str = Field(min_length=1, description="what the student reads: the symptom, never the cause")
    breakage: str = Field(description="the id of the breakage (breakages.yaml) that start applies")
    hints: list[str] = Field(min_length=2, description="revealed one at a time, vaguest first")
    answer: str = Field(min_length=1, description="the cause and the fix in words, shown by solve")
    solve: dict[str, str] = Field(
        default_factory=dict,
        description="node -> shell that mends it as a student would; unset: the breakage's undo",
    )
    solve_in_turn: bool = Field(
        False,
        description="wait for steady daemons after each node's fix before the next (a restart on one"
        " node while the other still takes over); unset: one right after the other, as a shared key"
        " or a shared file must be, since the nodes disagree in between",
    )


class ExerciseSet:
    """A blueprint's exercises, each joined to its breakage."""

    def __init__(self, exercises: list[Exercise], breakages: dict[str, Breakage]):
        self.exercises = exercises
        self.breakages = breakages

    def get(self, exercise_id: str) -> Exercise:
        for exercise in self.exercises:
            if exercise.id == exercise_id:
                return exercise
        known = ", ".join(e.id for e in self.exercises) or "none"
        raise LabgenError(f"no exercise {exercise_id!r}; this blueprint's exercises: {known}"
                          " (see `labgen exercise list`)")

    def breakage(self, exercise: Exercise) -> Breakage:
        return self.breakages[exercise.breakage]


def load_exercises(folder: Path) -> ExerciseSet:
    """The exercises beside a blueprint (none when it has none); errors name file and entry."""
    path = folder / FILE
    breakages = {b.id: b for b in load_breakages(folder)}
    if not path.is_file():
        return ExerciseSet([], breakages)
    data = read_entries(path, "exercise")
    exercises = []
    for number, entry in enumerate(data, 1):
        try:
            exercises.append(Exercise.model_validate(entry))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "the entry"
            name = entry.get("id", f"number {number}") if isinstance(entry, dict) else f"number {number}"
            raise LabgenError(f"{path}: exercise {name}: {where}: {first['msg']}") from None
    _check_references(path, exercises, breakages)
    return ExerciseSet(exercises, breakages)


def _check_references(path: Path, exercises: list[Exercise], breakages: dict[str, Breakage]) -> None:
    seen = set()
    for exercise in exercises:
        if exercise.id in seen:
            raise LabgenError(f"{path}: exercise {exercise.id} is there twice; give each its own id")
        seen.add(exercise.id)
        if exercise.breakage not in breakages:
            raise LabgenError(f"{path}: exercise {exercise.id}: no breakage {exercise.breakage!r} in "
                              f"breakages.yaml; its breakages: {', '.join(breakages)}")
