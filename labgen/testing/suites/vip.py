"""Tutorial: "You should now be able to ping the heartbeat IP (a.b.c.d) from both machines" and "By
default, the lb0 should be the preferred server. Only if this server is down lb1 should take over." """

from labgen.observe import quiet_time, settle_time, vip_holders
from labgen.poll import wait_for


def test_vip_is_on_lb0_only(provider, spec):
    """Held for a quiet period: a look at one instant would pass a lab about to move the IP."""
    wait_for(lambda: vip_holders(provider), lambda seen: seen == [spec.preferred.name],
             expected=f"the VIP on {spec.preferred.name} alone", timeout=settle_time(spec),
             hold=quiet_time(spec))


def test_vip_answers_ping_from_both_nodes_and_the_client(provider, spec):
    for node in spec.nodes:
        done = provider.exec(node.name, ["ping", "-n", "-c", "2", "-i", "0.2", "-W", "1", spec.vip])
        assert done.returncode == 0, f"{node.name} cannot ping the VIP: {done.stdout}"
    done = provider.client_exec(["ping", "-n", "-c", "2", "-i", "0.2", "-W", "1", spec.vip], timeout=10)
    assert done.returncode == 0, f"the client seat cannot ping the VIP: {done.stdout}"


def test_client_gets_lb0s_page(client, spec):
    assert client.served_by() == spec.preferred.name
