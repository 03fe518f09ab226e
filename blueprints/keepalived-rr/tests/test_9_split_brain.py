"""Beyond the tutorial: when the nodes stop hearing each other's VRRP, both become MASTER (split
brain); when they hear each other again, the lower priority gives the VIP up."""

from labgen.verify.behaviour import split_brain_and_heal


def test_split_brain_is_shown_and_heals(provider, restore):
    split_brain_and_heal(provider)
