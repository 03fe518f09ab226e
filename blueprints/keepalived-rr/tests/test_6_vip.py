"""Tutorial: "We can now see our virtual IP Addresses at eth0 on VRRP Master. The address should
respond to ping, and the Apache Webserver is also available at this IP address." """

from labgen.observe import vip_holders


def test_vip_is_on_the_master_only(provider, spec):
    assert vip_holders(provider) == [spec.preferred.name]


def test_vip_answers_ping_from_the_client(provider, spec):
    done = provider.client_exec(["ping", "-n", "-c", "3", "-i", "0.2", "-W", "1", spec.vip], timeout=10)
    assert done.returncode == 0, f"ping {spec.vip} from the client seat: {done.stdout}{done.stderr}"


def test_apache_answers_on_the_vip(client, spec):
    """The page of a node, not any answer: without LVS the master's own; with LVS, round robin may
    pick either server for this client."""
    served = client.served_by()
    expected = {n.name for n in spec.nodes} if spec.features.get("ip_vs", True) else {spec.preferred.name}
    assert served in expected, f"the client got {client.get()!r} through the VIP"
