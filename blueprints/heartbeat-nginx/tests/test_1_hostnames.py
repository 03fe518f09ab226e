"""Tutorial: "make sure the two servers can communicate with each other using hostnames"."""

from labgen.testing.suites.hostnames import (
    test_hostname_is_the_node_name,
    test_no_loopback_line_for_the_own_name,
    test_nodes_ping_each_other_by_name,
    test_nodes_resolve_each_other_on_the_vlan,
)
