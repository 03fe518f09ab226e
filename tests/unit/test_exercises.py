"""Exercises are consistent data a teacher can trust: enough of them, each on a breakage of the
catalogue, mending only nodes the lab has; bad data is one line naming file, exercise and field;
the student's list never carries the answer. Each exercise runs for real in
tests/integration/test_exercises_*.py (tests/exercises.py)."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from labgen import paths
from labgen.errors import LabgenError
from labgen.exercises import describe
from labgen.model.exercises import load_exercises
from labgen.model.load import load_blueprint
from tests.conftest import BLUEPRINTS
from tests.labs import labgen


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_each_blueprint_has_eight_exercises_from_a_slip_to_a_failover_fault(blueprint):
    exercises = load_exercises(paths.blueprints_dir() / blueprint).exercises
    assert len(exercises) >= 8
    assert set(Counter(e.difficulty for e in exercises)) == {"easy", "medium", "hard"}


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_every_exercise_mends_only_nodes_the_lab_has(blueprint):
    nodes = {n.name for n in load_blueprint(blueprint)[0].nodes}
    for exercise in load_exercises(paths.blueprints_dir() / blueprint).exercises:
        assert set(exercise.solve) <= nodes, f"{exercise.id}: unknown nodes"


@pytest.mark.parametrize(("blueprint", "old", "new", "says"), [
    ("keepalived-rr", "breakage: priorities-swapped", "breakage: nothing",
     r"exercise backup-holds-the-address: no breakage 'nothing'"),
    ("heartbeat-nginx", "difficulty: easy", "difficulty: trivial",
     r"exercise security-review-heartbeat: difficulty: Input should be"),
])
def test_bad_exercise_data_is_one_line_naming_the_exercise(blueprint_copy, blueprint, old, new, says):
    folder = blueprint_copy(blueprint)
    file = folder / "exercises.yaml"
    file.write_text(file.read_text().replace(old, new, 1))
    with pytest.raises(LabgenError, match=says):
        load_exercises(folder)


def test_the_list_tells_stories_not_answers():
    listed = labgen("exercise", "list", "keepalived-rr", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert len(rows) >= 8
    assert all(set(row) == {"id", "title", "difficulty", "story", "hints"} for row in rows)


def test_an_unknown_exercise_is_one_line_naming_the_known_ones():
    exercises = load_exercises(paths.blueprints_dir() / "pacemaker-nginx")
    with pytest.raises(LabgenError, match="no exercise 'nope'; this blueprint's exercises: security-review-"):
        exercises.get("nope")


@pytest.mark.parametrize(("state", "solved_after", "words"), [
    ("mended", False, "mended"),
    ("mended", True, "mended (then solved by the teacher)"),  # the student's mending is not erased
    ("solved", False, "solved by the teacher"),
])
def test_a_teachers_solve_never_erases_a_students_mending(state, solved_after, words):
    summary = {"id": "two-masters", "state": state, "hints": 1, "minutes": 4.0, "solved_after": solved_after}
    assert describe(summary) == f"two-masters: {words}, 4 min, 1 hint"


def _stems(words: str) -> set[str]:
    return {word.lower().removesuffix("s") for word in re.findall(r"[A-Za-z0-9]+", words)}


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_an_exercise_id_tells_no_more_than_its_story(blueprint):
    """A student sees the id (`labgen exercise list`, status): a word it shares with its breakage's
    id (the cause) must be one the story already shows."""
    exercises = load_exercises(paths.blueprints_dir() / blueprint)
    for exercise in exercises.exercises:
        told = _stems(exercise.id) & _stems(exercise.breakage) - _stems(f"{exercise.title} {exercise.story}")
        assert not told, f"{exercise.id} names its cause ({', '.join(sorted(told))}): name the symptom"
