"""Tutorial: stop heartbeat on lb0 and the IP shows up on lb1; start it again and after a few
seconds it migrates back. Also for a crash and a hung (frozen) lb0."""

import pytest

from labgen.verify.behaviour import failover_and_back


@pytest.mark.parametrize("fault", ["stop", "crash", "freeze"])
def test_lb1_takes_over_and_lb0_takes_back(provider, client, macs, restore, fault):
    failover_and_back(provider, client, macs, fault)
