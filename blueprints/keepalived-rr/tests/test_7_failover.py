"""Tutorial: "If the VRRP Master fails, the VRRP Slave will take over the IP address" and, started
again, the master takes it back (higher priority). Also for a crash and a hung (frozen) master."""

import pytest

from labgen.verify.behaviour import failover_and_back


@pytest.mark.parametrize("fault", ["stop", "crash", "freeze"])
def test_backup_takes_over_and_master_takes_back(provider, client, macs, restore, fault):
    failover_and_back(provider, client, macs, fault)
