"""Tutorial: "By default, lb0 should be the preferred server" and the page answers on the VIP."""

from labgen.observe import vip_holders


def test_vip_is_on_lb0_only(provider, spec):
    assert vip_holders(provider) == [spec.preferred.name]


def test_client_gets_lb0s_page(client, spec):
    assert client.served_by() == spec.preferred.name
