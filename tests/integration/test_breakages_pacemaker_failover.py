"""pacemaker-nginx's breakages that show only in a failover (tests/catalogue.py FAILOVER_ONLY), each
minutes long: a module apart from test_breakages_pacemaker.py, so that the two run side by side."""

from tests.catalogue import catalogue_on_nspawn
from tests.labs import NSPAWN

pytestmark = NSPAWN
lab, test_breakage_is_caught_by_its_claims = catalogue_on_nspawn(
    "pacemaker-nginx", "t-brk-pmf", failover_only=True)
