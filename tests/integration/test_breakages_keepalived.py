"""The verifier verified on containers: every breakage in keepalived-rr's catalogue, applied to a running
lab, makes `labgen verify --claim` fail on the claims it names within the protocol's bound, and
passes again once undone (tests/catalogue.py); those an exercise is built on are proven
through it, in test_exercises_keepalived.py. Those needing ip_vs run on VMs (tests/e2e)."""

from tests.catalogue import catalogue_on_nspawn
from tests.labs import NSPAWN

pytestmark = NSPAWN
lab, test_breakage_is_caught_by_its_claims = catalogue_on_nspawn("keepalived-rr", "t-brk-ka")
