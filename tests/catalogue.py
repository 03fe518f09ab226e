"""Applying one breakage of a blueprint's catalogue to a running lab and checking the suite catches
it, through the CLI a user types; shared by the container and the VM tests. One module of
container tests per blueprint (`catalogue_on_nspawn`), so that a parallel run gives each
blueprint's lab its own worker.

A breakage an exercise is built on is proven through the exercise (tests/exercises.py,
`exercises_on_nspawn`): its start, check, solve and reset make the same assertions and more."""

from __future__ import annotations

import time
from typing import get_args

import pytest

from labgen import paths
from labgen.exercises import mend
from labgen.labs import find_lab, provider_for
from labgen.model.breakages import Breakage
from labgen.model.exercises import Exercise, load_exercises
from labgen.observe import serving_bound, settle_time
from labgen.verify.run import last_verdicts
from tests.exercises import assert_exercise_graded
from tests.labs import RunningLab, labgen, ok

# Breakages that show only in a failover, each minutes long: a module of their own (a worker of
# their own in scripts/test's later phase), so that a blueprint's catalogue is not one long module
FAILOVER_ONLY = {"pacemaker-nginx": {"two-node-off", "stonith-without-a-device", "token-differs-on-lb0"}}


def catalogue_on_nspawn(blueprint: str, lab_name: str, *, failover_only: bool | None = None):
    """A module's lab fixture and its test: every breakage of the blueprint's catalogue that no
    exercise is built on (those of FAILOVER_ONLY alone, or all but those, or all), on one shared
    container lab (taken down, and checked for leftovers, after the last)."""
    exercises = load_exercises(paths.blueprints_dir() / blueprint)
    used = {exercise.breakage for exercise in exercises.exercises}
    slow = FAILOVER_ONLY.get(blueprint, set())
    alone = [b for b in exercises.breakages.values() if b.id not in used
             and (failover_only is None or (b.id in slow) == failover_only)]

    @pytest.mark.parametrize("breakage", alone, ids=[b.id for b in alone])
    def test_breakage_is_caught_by_its_claims(lab, breakage):
        assert_caught(lab.name, breakage)

    return shared_lab(blueprint, lab_name), test_breakage_is_caught_by_its_claims


ALL_DIFFICULTIES = get_args(Exercise.model_fields["difficulty"].annotation)


def exercises_on_nspawn(blueprint: str, lab_name: str, difficulties: tuple[str, ...] = ALL_DIFFICULTIES):
    """A module's lab fixture and its test: the blueprint's exercises of these difficulties on one
    shared container lab (a module apart from the catalogue's, so that the two run in parallel
    workers; the hard ones wait out failovers, so a blueprint may give them a module of their own)."""
    exercises = load_exercises(paths.blueprints_dir() / blueprint)
    chosen = [e for e in exercises.exercises if e.difficulty in difficulties]

    @pytest.mark.parametrize("exercise", chosen, ids=[e.id for e in chosen])
    def test_exercise_is_graded_solved_and_reset(lab, exercise):
        assert_exercise_graded(lab.name, exercises, exercise)

    return shared_lab(blueprint, lab_name), test_exercise_is_graded_solved_and_reset


def shared_lab(blueprint: str, lab_name: str):
    @pytest.fixture(scope="module")
    def lab():
        running = RunningLab(blueprint, lab_name, "nspawn", [])
        yield running
        running.down()

    return lab


def assert_caught(lab: str, breakage: Breakage) -> None:
    """Apply it; each claim it names must fail (its first failing test is proof enough), within the
    bound; undo it; then the tests that failed must pass again."""
    spec = find_lab(lab).spec
    missing = [need for need in breakage.needs if not spec.features.get(need, True)]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}, which this lab lacks")
    for node, command in breakage.apply.items():
        ok("exec", lab, node, "--", "sh", "-c", command)
    seen, caught_by, shown = {}, [], ""
    try:
        started = time.monotonic()
        for claim in breakage.fails:
            broken = labgen("verify", lab, "--claim", claim, "--exitfirst", timeout=900)
            record = claims_record(lab)[claim] if broken.returncode != 0 else {"verdict": "passed"}
            seen[claim] = record["verdict"]
            caught_by += record.get("failed", [])
            shown += broken.stdout[-1500:]
        took = time.monotonic() - started
    finally:
        undo(lab, breakage)
    uncaught = {claim: verdict for claim, verdict in seen.items() if verdict != "failed"}
    assert not uncaught, f"{breakage.id}: these claims did not fail: {uncaught}\n{shown}"
    assert took <= bound(lab, breakage), f"{breakage.id} was caught only after {took:.0f} s"
    # the control: the very tests that caught it pass once it is undone, so they failed for it
    claims = [arg for claim in breakage.fails for arg in ("--claim", claim)]
    mended = labgen("verify", lab, *claims, "-k", " or ".join(caught_by), timeout=900)
    assert mended.returncode == 0, f"after undoing {breakage.id}:\n{mended.stdout[-3000:]}"


def claims_record(lab: str) -> dict[str, dict]:
    """LAB/logs/claims.json by claim id: its verdict and the tests that failed."""
    return last_verdicts(find_lab(lab))


def bound(lab: str, breakage: Breakage) -> float:
    """How long verify may take to fail: the breakage's own figure, else one settle bound of the
    protocol per claim (a behaviour test waits that long at most before it fails) plus a minute of
    overhead."""
    if breakage.within:
        return breakage.within
    spec = find_lab(lab).spec
    return len(breakage.fails) * (settle_time(spec) + serving_bound(spec)) + 60


def undo(lab: str, breakage: Breakage) -> None:
    """The breakage's own undo, else each node it touched provisioned again (labgen.exercises.mend)."""
    mend(provider_for(find_lab(lab)), breakage, breakage.undo)
