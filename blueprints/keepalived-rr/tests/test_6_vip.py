from labgen.testing import quiet_time, settle_time, vip_holders, wait_for

"""Tutorial: "We can now see our virtual IP Addresses at eth0 on VRRP Master. The address should
respond to ping, and the Apache Webserver is also available at this IP address." """



def test_vip_is_on_the_master_only(provider, spec):
    """On the master alone, and staying there: a look at one instant would pass a lab whose backup
    is about to take the VIP (a higher priority, another router id), so the look is held for two
    quiet periods, longer than any election a (re)start begins."""
    wait_for(lambda: vip_holders(provider), lambda seen: seen == [spec.preferred.name],
             expected=f"the VIP on {spec.preferred.name} alone", timeout=settle_time(spec),
             hold=2 * quiet_time(spec))


def test_vip_answers_ping_from_the_client(provider, spec):
    done = provider.client_exec(["ping", "-n", "-c", "3", "-i", "0.2", "-W", "1", spec.vip], timeout=10)
    assert done.returncode == 0, f"ping {spec.vip} from the client seat: {done.stdout}{done.stderr}"


def test_apache_answers_on_the_vip(client, spec):
    """The page of a node, not any answer: without LVS the master's own; with LVS, round robin may
    pick either server for this client."""
    served = client.served_by()
    expected = {n.name for n in spec.nodes} if spec.features.get("ip_vs", True) else {spec.preferred.name}
    assert served in expected, f"the client got {client.get()!r} through the VIP"
