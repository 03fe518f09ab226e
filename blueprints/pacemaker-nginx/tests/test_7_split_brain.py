"""Beyond the tutorial: with corosync's traffic on the VLAN cut, each node is alone; with two_node
and no fencing, both keep quorum and both start the group (split brain). Once they hear each
other again, pacemaker finds the group active on both, stops it and starts it on lb0."""

from labgen.testing.suites.split_brain import test_split_brain_is_shown_and_heals
