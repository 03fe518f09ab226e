"""This lab's testinfra suite: labgen's fixtures (lab, hosts, client, restore, ...)."""

pytest_plugins = ["labgen.verify.fixtures", "labgen.verify.claims"]
