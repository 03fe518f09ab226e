"""Tutorial step 5: IP forwarding on, reverse path filtering off."""

import pytest


@pytest.mark.parametrize(
    ("key", "value"),
    [("net.ipv4.ip_forward", 1), ("net.ipv4.conf.all.rp_filter", 0), ("net.ipv4.conf.eth1.rp_filter", 0)],
)
def test_sysctl(host, key, value):
    assert host.sysctl(key) == value
