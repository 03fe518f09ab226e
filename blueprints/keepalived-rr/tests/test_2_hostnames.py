"""Tutorial step 2: unique hostnames (vrrpmaster, vrrpslave), resolvable on the private network."""


def test_hostname_is_the_tutorials(host, spec, node):
    assert host.check_output("hostname") == spec.node(node).hostname


def test_nodes_resolve_each_other_by_name(host, spec):
    for other in spec.nodes:
        addresses = host.addr(other.hostname).ip_addresses
        assert other.addresses["vlan"] in addresses, f"{other.hostname} resolves to {addresses}"
