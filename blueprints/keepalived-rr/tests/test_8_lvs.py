"""Tutorial: LVS round robin over both Apache servers, health checked by page digest."""

import re

import pytest

from labgen.testing import new_client_addresses, real_servers_in, serving_bound, wait_for

pytestmark = pytest.mark.usefixtures("lvs")


def real_servers(host, spec) -> set[str]:
    return real_servers_in(host.check_output(f"ipvsadm -L -n -t {spec.vip}:{spec.http_port}"))


def test_both_real_servers_in_the_table(preferred, spec):
    assert real_servers(preferred, spec) == {n.addresses["vlan"] for n in spec.nodes}


def test_ipvsadm_shows_the_tutorials_virtual_server(preferred, spec):
    """`ipvsadm -l`: round robin, persistence 50 s, direct routing ("Route") to both servers."""
    table = preferred.check_output(f"ipvsadm -L -n -t {spec.vip}:{spec.http_port}")
    assert re.search(rf"TCP\s+{re.escape(spec.vip)}:{spec.http_port}\s+rr\s+persistent 50\b", table), table
    for node in spec.nodes:
        server = re.escape(node.addresses["vlan"])
        assert re.search(rf"->\s+{server}:{spec.http_port}\s+Route\s", table), table


def test_new_clients_are_spread_round_robin(provider, preferred, client, spec):
    """"Every new IP address is routed to a different host": two new clients, two servers."""
    every_server = {n.addresses["vlan"] for n in spec.nodes}
    wait_for(lambda: real_servers(preferred, spec), lambda seen: seen == every_server,
             expected="both real servers healthy in the pool", timeout=serving_bound(spec))
    newcomers = new_client_addresses(provider, 2)
    with client.extra_addresses(newcomers):
        first = [client.served_by(source) for source in newcomers]
    assert set(first) == {n.name for n in spec.nodes}, f"new clients {newcomers} served by {first}"


def test_persistence_keeps_each_client_on_its_server(provider, preferred, client, spec):
    """"A second connection (another IP address) can be set up on another web server", while each
    client stays on its own for persistence_timeout: several requests each, and LVS's own record."""
    newcomers = new_client_addresses(provider, 2)
    with client.extra_addresses(newcomers):
        seen = {source: [client.served_by(source) for _ in range(4)] for source in newcomers}
        table = preferred.check_output("ipvsadm -L -n -c")
    for source, servers in seen.items():
        assert len(set(servers)) == 1 and servers[0], f"{source} was served by {servers}: not persistent"
        # a persistence template: the client's address with port 0, then the virtual service
        assert re.search(rf"\s{re.escape(source)}:0\s+{re.escape(spec.vip)}:{spec.http_port}\s", table), (
            f"no persistence template for {source} in ipvsadm -L -n -c:\n{table}"
        )
    assert len({servers[0] for servers in seen.values()}) == 2, f"both clients on one server: {seen}"


@pytest.mark.disruptive  # breaks a real server and waits for the health check to see it
@pytest.mark.parametrize("breakage", ["page changed", "apache stopped"])
def test_unhealthy_server_leaves_the_pool_and_returns(preferred, backup, spec, breakage):
    address = next(n.addresses["vlan"] for n in spec.nodes if n.role == "backup")
    page = "/var/www/html/index.html"
    break_it, fix_it = {
        "page changed": (
            f"cp {page} /tmp/index.html && echo changed >> {page}",
            f"cp /tmp/index.html {page}",
        ),
        "apache stopped": ("systemctl stop apache2", "systemctl start apache2"),
    }[breakage]
    backup.check_output(break_it)
    try:
        wait_for(
            lambda: real_servers(preferred, spec),
            lambda seen: address not in seen,
            expected=f"{address} removed from the pool ({breakage})",
            timeout=serving_bound(spec),
        )
    finally:
        backup.check_output(fix_it)
    wait_for(
        lambda: real_servers(preferred, spec),
        lambda seen: address in seen,
        expected=f"{address} back in the pool once healthy",
        timeout=serving_bound(spec),
    )
