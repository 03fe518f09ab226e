"""Tutorial: LVS round robin over both Apache servers, health checked by page digest."""

import re

import pytest

from labgen.verify.poll import wait_for

pytestmark = pytest.mark.usefixtures("lvs")


REAL_SERVER = re.compile(r"^\s*->\s+(\d+\.\d+\.\d+\.\d+):\d+\s", re.MULTILINE)


def real_servers(host, spec) -> set[str]:
    """The real servers in the director's table (the "-> RemoteAddress:Port" heading is not one)."""
    return set(REAL_SERVER.findall(host.check_output(f"ipvsadm -L -n -t {spec.vip}:{spec.http_port}")))


def test_both_real_servers_in_the_table(preferred, spec):
    assert real_servers(preferred, spec) == {n.addresses["vlan"] for n in spec.nodes}


def test_two_clients_are_spread_over_both_servers(client, spec):
    served = wait_for(
        lambda: {client.served_by(source) for source in spec.client},
        lambda seen: seen == {n.name for n in spec.nodes},
        expected="the two client addresses served by different servers",
        timeout=spec.params["lvs"]["persistence_timeout"] + 10,
    )
    assert served == {n.name for n in spec.nodes}


def _health_bound(spec) -> float:
    hc = spec.params["health_check"]
    return (
        spec.params["lvs"]["delay_loop"]
        + (hc["retry"] + 1) * (hc["connect_timeout"] + hc["delay_before_retry"])
        + 10
    )


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
            timeout=_health_bound(spec),
        )
    finally:
        backup.check_output(fix_it)
    wait_for(
        lambda: real_servers(preferred, spec),
        lambda seen: address in seen,
        expected=f"{address} back in the pool once healthy",
        timeout=_health_bound(spec),
    )
