"""Exercises in a running lab: a breakage applied, graded by its claims, hinted, solved, reset.

The lab's exercise record (LAB/exercise.json, root's like the rest of the lab) says which exercise
runs, since when, how many hints were shown and what the last check found: `class status` shows
it. The student sees the story and the hints, never the breakage or the answer.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import NamedTuple

from labgen.errors import LabgenError
from labgen.lab import Lab
from labgen.model.breakages import Breakage
from labgen.model.exercises import Exercise, ExerciseSet, load_exercises
from labgen.model.load import find_blueprint
from labgen.observe import wait_settled, wait_steady
from labgen.providers.base import Provider
from labgen.verify.run import NOT_PROVEN, last_verdicts, run_suite

UNDER_WAY = ("broken", "checked")  # states of an exercise not yet mended
SCRIPT_FROM_STDIN = ["sh", "-s"]  # a breakage or its fix: the command line shows no answer


def exercises_of(lab: Lab) -> ExerciseSet:
    return load_exercises(find_blueprint(lab.spec.blueprint).folder)


def record(lab: Lab) -> dict | None:
    """The lab's exercise record, or None when no exercise was started since up or reset."""
    try:
        return json.loads(_record_path(lab).read_text())
    except (OSError, ValueError):
        return None


def summary(lab: Lab) -> dict | None:
    """What status shows of the lab's exercise: never its breakage or its answer."""
    found = record(lab)
    if not found or found["state"] == "reset":
        return None
    minutes = ((found["ended"] or time.time()) - found["started"]) / 60
    return {"id": found["id"], "title": found["title"], "state": found["state"], "hints": found["hints"],
            "checks": found["checks"], "minutes": round(minutes, 1),
            "solved_after": found.get("solved_after", False)}


def describe(summary: dict | None) -> str | None:
    """`vip-on-the-backup: mended in 4 min, 2 hints`, for people."""
    if not summary:
        return None
    state = {"broken": "not checked yet", "checked": "still broken", "mended": "mended",
             "solved": "solved by the teacher"}[summary["state"]]
    if summary.get("solved_after"):
        state += " (then solved by the teacher)"
    hints = f", {summary['hints']} hint{'s' * (summary['hints'] != 1)}"
    return f"{summary['id']}: {state}, {summary['minutes']:.0f} min{hints}"


def start(lab: Lab, provider: Provider, exercises: ExerciseSet, exercise_id: str) -> Exercise:
    """Apply the exercise's breakage to a lab with no exercise under way; record the start."""
    exercise = exercises.get(exercise_id)
    breakage = exercises.breakage(exercise)
    missing = [need for need in breakage.needs if not lab.spec.features.get(need, True)]
    if missing:
        raise LabgenError(f"exercise {exercise.id} needs {', '.join(missing)}, which lab {lab.name} "
                          "lacks on this host (labgen show lists its features)")
    ongoing = record(lab)
    if ongoing and ongoing["state"] in UNDER_WAY:
        raise LabgenError(f"lab {lab.name} has exercise {ongoing['id']} under way; "
                          f"`labgen exercise reset {lab.name}` first")
    apply_breakage(provider, breakage)
    _save(lab, {"id": exercise.id, "title": exercise.title, "started": time.time(), "hints": 0,
                "checks": 0, "state": "broken", "failing": breakage.fails, "ended": None})
    return exercise


def ongoing(lab: Lab, exercises: ExerciseSet) -> tuple[dict, Exercise]:
    """The exercise started on the lab (under way or not), or one line saying there is none."""
    found = record(lab)
    if not found or found["state"] == "reset":
        raise LabgenError(f"lab {lab.name} has no exercise started; `labgen exercise start "
                          f"{lab.name} NAME` (labgen exercise list {lab.spec.blueprint})")
    return found, exercises.get(found["id"])


class Verdict(NamedTuple):
    verdict: str
    why: list[str]  # what its failing tests said: expected, and what the lab does (no breakage named)


def check(lab: Lab, exercises: ExerciseSet) -> dict[str, Verdict]:
    """Run the exercise's claims, each up to its first failing test (a failover test that fails
    waits out its bound: one is proof enough); claim id -> verdict. Mended when all hold."""
    found, exercise = ongoing(lab, exercises)
    verdicts, caught_by, outputs = {}, [], []
    for claim in exercises.breakage(exercise).fails:
        outputs.append(run_suite(lab, [claim], ["--exitfirst"], capture=True).stdout)
        seen = last_verdicts(lab).get(claim, {})
        verdicts[claim] = Verdict(seen.get("verdict", "not run"), seen.get("failed_because", []))
        caught_by += seen.get("failed", [])
    failing = [claim for claim, seen in verdicts.items() if not holds(seen.verdict)]
    # the suite's own words stay for the teacher (the lab's folder is root's: a seat cannot read them)
    check_log(lab).write_text("".join(outputs))
    found.update(checks=found["checks"] + 1, failing=failing, checked=time.time())
    found["caught_by"] = sorted(set(found.get("caught_by", [])) | set(caught_by))
    if found["state"] in UNDER_WAY:
        found.update(state="checked" if failing else "mended", ended=None if failing else time.time())
    _save(lab, found)
    return verdicts


def holds(verdict: str) -> bool:
    """Mended as far as the lab can show: a claim whose tests passed, or passed up to a part this
    lab cannot prove (LVS without ip_vs: the exercises that need it are refused at start)."""
    return verdict in ("passed", NOT_PROVEN)


def check_log(lab: Lab) -> Path:
    """What the suite printed in the last `exercise check`: which test failed, and why."""
    return lab.logs_dir / "exercise-check.log"


def next_hint(lab: Lab, exercises: ExerciseSet) -> tuple[int, Exercise]:
    """Reveal one more hint (the last stays shown); the number of hints seen so far."""
    found, exercise = ongoing(lab, exercises)
    found["hints"] = min(found["hints"] + 1, len(exercise.hints))
    _save(lab, found)
    return found["hints"], exercise


def solve(lab: Lab, provider: Provider, exercises: ExerciseSet) -> Exercise:
    """The teacher's fix: the exercise's own, else its breakage's undo; the lab settled after."""
    found, exercise = ongoing(lab, exercises)
    breakage = exercises.breakage(exercise)
    mend(provider, breakage, exercise.solve or breakage.undo, in_turn=exercise.solve_in_turn)
    if found["state"] == "mended":  # the student's own mending stands; the teacher's is noted
        found["solved_after"] = True
    else:
        found.update(state="solved", ended=time.time())
    _save(lab, found)
    return exercise


def closed_by_reset(lab: Lab) -> None:
    """After `labgen reset`: whatever exercise ran is gone with what was done in the nodes."""
    if found := record(lab):
        found.update(state="reset", ended=found["ended"] or time.time())
        _save(lab, found)


def apply_breakage(provider: Provider, breakage: Breakage) -> None:
    """Each node's breakage, given to the node's sh on its standard input: an argument would show
    the answer in `ps`, to the student in the node and to every account on the host."""
    for node, command in breakage.apply.items():
        done = provider.exec(node, SCRIPT_FROM_STDIN, input=command)
        if done.returncode != 0:
            raise LabgenError(f"breakage {breakage.id} did not apply on {node} (exit {done.returncode}): "
                              f"{(done.stderr or done.stdout).strip()[-300:]}; `labgen reset` mends the lab")


def mend(provider: Provider, breakage: Breakage, commands: dict[str, str], *, in_turn: bool = False) -> None:
    """Run the mending commands one right after the other (the nodes disagree in between: a key or
    a file they share), or `in_turn`, with steady daemons in between (heartbeat restarted on lb0
    while lb1 still takes over its resources stays "in transition" for good); none given, provision
    each node the breakage touched again, in turn. Then wait for a settled lab with the VIP on the
    preferred node."""
    lab = provider.lab
    for step, (node, command) in enumerate(commands.items()):
        if step and in_turn:
            wait_steady(provider)
        _run(provider, node, SCRIPT_FROM_STDIN, command, f"the fix of {breakage.id}")
    if not commands:
        for node in breakage.apply:
            script = (lab.path / "provision" / f"{node}.sh").read_text()
            _run(provider, node, ["bash", "-s"], script, f"provisioning {node} again")
            wait_steady(provider)
    wait_settled(provider, on=lab.spec.preferred.name)


def _run(provider: Provider, node: str, argv: list[str], script: str | None, what: str) -> None:
    done = provider.exec(node, argv, input=script, timeout=900)
    if done.returncode != 0:
        raise LabgenError(f"{what} failed on {node} (exit {done.returncode}): "
                          f"{(done.stderr or done.stdout).strip()[-300:]}")


def _record_path(lab: Lab) -> Path:
    return lab.path / "exercise.json"


def _save(lab: Lab, found: dict) -> None:
    path = _record_path(lab)
    path.with_suffix(".tmp").write_text(json.dumps(found, indent=2) + "\n")
    path.with_suffix(".tmp").replace(path)
