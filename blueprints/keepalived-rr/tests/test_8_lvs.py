"""Tutorial: LVS round robin over both Apache servers, health checked by page digest."""

import ipaddress
import itertools

import pytest

from labgen.observe import real_servers_in, serving_bound
from labgen.verify.poll import wait_for

pytestmark = pytest.mark.usefixtures("lvs")


def real_servers(host, spec) -> set[str]:
    return real_servers_in(host.check_output(f"ipvsadm -L -n -t {spec.vip}:{spec.http_port}"))


def test_both_real_servers_in_the_table(preferred, spec):
    assert real_servers(preferred, spec) == {n.addresses["vlan"] for n in spec.nodes}


def unused_addresses(spec, director, count: int) -> list[str]:
    """Public addresses no node, VIP, client or LVS connection entry uses: clients LVS never saw."""
    network = ipaddress.ip_network(spec.networks[spec.vip_network].cidr)
    known = director.check_output("ipvsadm -L -n -c")
    taken = {spec.vip, *spec.client, *(n.addresses[spec.vip_network] for n in spec.nodes)}
    free = (str(a) for a in reversed(list(network.hosts())) if str(a) not in taken and f" {a}:" not in known)
    return list(itertools.islice(free, count))


def test_new_clients_are_spread_round_robin_and_each_stays_on_its_server(preferred, client, spec):
    """Round robin over the pool for each new client; persistence keeps a client on its server.
    (The seat's own two addresses may already be pinned by earlier tests, so two new ones ask.)"""
    every_server = {n.addresses["vlan"] for n in spec.nodes}
    wait_for(lambda: real_servers(preferred, spec), lambda seen: seen == every_server,
             expected="both real servers healthy in the pool", timeout=serving_bound(spec))
    newcomers = unused_addresses(spec, preferred, 2)
    with client.extra_addresses(newcomers):
        first = [client.served_by(source) for source in newcomers]
        again = [client.served_by(source) for source in newcomers]
    assert set(first) == {n.name for n in spec.nodes}, f"new clients {newcomers} served by {first}"
    assert again == first, f"persistence: the same clients were then served by {again}, first by {first}"


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
