"""keepalived-rr's whole suite on Debian 11 and 13 (Debian 12 has its own modules), on containers."""

from tests.labs import NSPAWN
from tests.releases import matrix_on_nspawn

pytestmark = NSPAWN
test_whole_suite_on_release = matrix_on_nspawn("keepalived-rr")
