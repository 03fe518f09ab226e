"""This lab's testinfra suite: labgen's fixtures (lab, hosts, client, restore, ...)."""

import pytest

# the shared tests the suite imports (labgen.testing.suites) report their failed asserts in full,
# as the suite's own do
pytest.register_assert_rewrite("labgen.testing.suites")

pytest_plugins = ["labgen.verify.fixtures", "labgen.verify.claims"]
