"""Beyond the tutorial: with the VLAN's heartbeats cut, both nodes take the IP (split brain);
heartbeat recovers when they hear each other again."""

from labgen.testing.suites.split_brain import test_split_brain_is_shown_and_heals
