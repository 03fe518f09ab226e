"""Tutorial: "make sure the two servers can communicate with each other using hostnames", for the
daemons (heartbeat, corosync) that name a node by `uname -n`."""


def test_hostname_is_the_node_name(host, node):
    assert host.check_output("uname -n") == node, "the cluster names its nodes by uname -n"


def test_nodes_resolve_each_other_on_the_vlan(host, spec):
    for other in spec.nodes:
        addresses = host.addr(other.name).ip_addresses
        assert other.addresses["vlan"] in addresses, f"{other.name} resolves to {addresses}"


def test_no_loopback_line_for_the_own_name(host):
    hosts_file = host.file("/etc/hosts").content_string
    assert "127.0.1.1" not in hosts_file, "the tutorial removes the 127.0.1.1 line"


def test_nodes_ping_each_other_by_name(host, spec, node):
    """The tutorial: run ping lb1 from lb0 and ping lb0 from lb1."""
    for other in spec.nodes:
        if other.name != node:
            assert host.run(f"ping -c1 -W2 {other.name}").rc == 0, f"{node} cannot ping {other.name}"
