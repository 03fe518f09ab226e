"""Tutorial: "We can now see our virtual IP address at eth0 on VRRP Master" and Apache answers on it."""

from labgen.observe import vip_holders


def test_vip_is_on_the_master_only(provider, spec):
    assert vip_holders(provider) == [spec.preferred.name]


def test_apache_answers_on_the_vip(client, spec):
    assert client.get() in spec.pages.values()
