"""Beyond the tutorials: with the nodes' own cluster traffic cut, both take the IP (split brain);
once they hear each other again, one gives it up."""

from labgen.verify.behaviour import split_brain_and_heal


def test_split_brain_is_shown_and_heals(provider, restore):
    split_brain_and_heal(provider)
