"""pacemaker-nginx's easy and medium exercises on containers, as a teacher and a student run them:
each started, checked (failing on its breakage's claims within the catalogue's bound), hinted,
solved, checked again, broken once more and reset (tests/exercises.py). The hard ones, which wait
out failovers (5 min each), are in test_exercises_pacemaker_hard.py, so that both halves run side
by side. LVS ones would run on VMs (tests/e2e); none is."""

from tests.catalogue import exercises_on_nspawn
from tests.labs import NSPAWN

pytestmark = NSPAWN
lab, test_exercise_is_graded_solved_and_reset = exercises_on_nspawn(
    "pacemaker-nginx", "t-ex-pm", ("easy", "medium")
)
