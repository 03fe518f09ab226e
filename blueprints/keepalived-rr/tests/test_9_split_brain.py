"""Beyond the tutorial: when the nodes stop hearing each other's VRRP, both become MASTER (split
brain); when they hear each other again, the lower priority gives the VIP up."""

from labgen.testing.suites.split_brain import test_split_brain_is_shown_and_heals
