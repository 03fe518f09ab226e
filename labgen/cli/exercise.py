"""labgen exercise: break-fix exercises on a running lab, graded by the blueprint's own claims."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.markup import escape

from labgen.cli.options import Blueprint, Json, LabName
from labgen.cli.output import console, print_json

app = typer.Typer(help="Break-fix exercises: a lab broken on purpose, mended by the student.",
                  no_args_is_help=True)

ExerciseName = Annotated[str, typer.Argument(help="An exercise of the lab's blueprint (exercise list).")]


@app.command("list")
def list_exercises(blueprint: Blueprint, json_: Json = False) -> None:
    """The blueprint's exercises: name, difficulty, title (stories with --json)."""
    from labgen.model.exercises import load_exercises
    from labgen.model.load import find_blueprint

    exercises = load_exercises(find_blueprint(blueprint).folder).exercises
    if json_:
        print_json([{"id": e.id, "title": e.title, "difficulty": e.difficulty, "story": e.story,
                     "hints": len(e.hints)} for e in exercises])
        return
    for e in exercises:
        console.print(f"[bold]{e.id:<30}[/] {e.difficulty:<7} {escape(e.title)}", highlight=False)


@app.command("start")
def start(lab: LabName, name: ExerciseName) -> None:
    """Break the lab as the exercise says (what is broken stays hidden) and tell its story."""
    from labgen import exercises
    from labgen.labs import find_lab, running_provider
    from labgen.locks import lab_lock

    found = find_lab(lab)
    with lab_lock(lab, "exercise start"):
        exercise = exercises.start(found, running_provider(found), exercises.exercises_of(found), name)
    console.print(f"[bold]{escape(exercise.title)}[/] ({exercise.difficulty})\n", highlight=False)
    console.print(exercise.story.strip(), highlight=False, markup=False)
    console.print(f"\nwhen you think it is mended: labgen exercise check {lab}; "
                  f"stuck: labgen exercise hint {lab}", highlight=False)


@app.command("check")
def check(lab: LabName) -> None:
    """Grade the exercise: its claims as a checklist; exit 0 only when every one holds again."""
    from labgen import exercises
    from labgen.labs import find_lab, running_provider
    from labgen.locks import lab_lock

    found = find_lab(lab)
    running_provider(found)
    catalogue = exercises.exercises_of(found)
    began = time.monotonic()
    with lab_lock(lab, "exercise check"), console.status("checking the tutorial's claims"):
        verdicts = exercises.check(found, catalogue)
    marks = {"passed": "[green]✓ holds[/]", "not proven": "[yellow]✓ holds as far as this lab shows[/]"}
    for claim, seen in verdicts.items():
        mark = marks.get(seen.verdict, f"[red]✗ {seen.verdict}[/]")
        console.print(f"{mark}  {escape(found.spec.claim(claim).quote)}", highlight=False)
        for why in seen.why:  # what the test expected and what the lab does, never the breakage
            console.print(f"    [dim]why:[/] {escape(why)}", highlight=False)
    failing = [claim for claim, seen in verdicts.items() if not exercises.holds(seen.verdict)]
    took = f"checked in {time.monotonic() - began:.0f} s"
    if failing:
        console.print(f"not mended yet: {len(failing)} of {len(verdicts)} still fail ({took}); "
                      f"stuck? labgen exercise hint {lab}", highlight=False)
        raise typer.Exit(1)
    console.print(f"[green]mended[/]: every claim holds again ({took})", highlight=False)


@app.command("hint")
def hint(lab: LabName) -> None:
    """The next hint (they go from vague to precise); the ones seen before are shown again."""
    from labgen import exercises
    from labgen.labs import find_lab
    from labgen.locks import lab_lock

    found = find_lab(lab)
    with lab_lock(lab, "exercise hint"):
        shown, exercise = exercises.next_hint(found, exercises.exercises_of(found))
    for number, text in enumerate(exercise.hints[:shown], 1):
        console.print(f"hint {number} of {len(exercise.hints)}: {text}", highlight=False, markup=False)
    if shown == len(exercise.hints):
        console.print("that was the last hint", highlight=False)


@app.command("solve")
def solve(lab: LabName) -> None:
    """For the teacher: mend the lab the way the exercise's answer says, and show the answer."""
    from labgen import exercises
    from labgen.labs import find_lab, running_provider
    from labgen.locks import lab_lock

    found = find_lab(lab)
    with lab_lock(lab, "exercise solve"), console.status("mending the lab"):
        exercise = exercises.solve(found, running_provider(found), exercises.exercises_of(found))
    console.print(f"[bold]{escape(exercise.title)}[/]: {escape(exercise.answer.strip())}", highlight=False)
    console.print(f"mended; `labgen exercise check {lab}` shows it", highlight=False)


@app.command("reset")
def reset(lab: LabName) -> None:
    """The lab as `up` left it, whatever the exercise and the student did (labgen reset)."""
    from labgen.cli.reset import reset as reset_lab

    reset_lab(lab)
