"""pacemaker-nginx's whole suite on Debian 13, on containers (Debian 12 has its own modules, 11 the
previous one): its rows take 7.5 min each, too long to run one after the other in one worker."""

from tests.labs import NSPAWN
from tests.releases import matrix_on_nspawn

pytestmark = NSPAWN
test_whole_suite_on_release = matrix_on_nspawn("pacemaker-nginx", ["debian-13"])
