"""The verifier verified on containers: every breakage in pacemaker-nginx's catalogue, applied to a
running lab, makes `labgen verify --claim` fail on the claims it names within the protocol's bound,
and passes again once undone (tests/catalogue.py); those an exercise is built on are proven
through it, in test_exercises_pacemaker.py. Those that show only in a failover run in
test_breakages_pacemaker_failover.py, beside this module."""

from tests.catalogue import catalogue_on_nspawn
from tests.labs import NSPAWN

pytestmark = NSPAWN
lab, test_breakage_is_caught_by_its_claims = catalogue_on_nspawn(
    "pacemaker-nginx", "t-brk-pm", failover_only=False)
