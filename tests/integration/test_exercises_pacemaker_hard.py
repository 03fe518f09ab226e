"""pacemaker-nginx's hard exercises on containers: each shows only in a failover (test_exercises_pacemaker.py
has the others and says how each is run)."""

from tests.catalogue import exercises_on_nspawn
from tests.labs import NSPAWN

pytestmark = NSPAWN
lab, test_exercise_is_graded_solved_and_reset = exercises_on_nspawn("pacemaker-nginx", "t-ex-pmh", ("hard",))
