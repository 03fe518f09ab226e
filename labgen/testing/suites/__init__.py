"""Tests more than one blueprint's suite runs, each module for one part of a tutorial.

A blueprint's test file imports the ones its tutorial claims, by name, so the test keeps the
file's id (`test_5_vip.py::test_vip_is_on_lb0_only`) that its claims and breakages name:

    from labgen.testing.suites.vip import test_vip_is_on_lb0_only

Each test takes the fixtures of labgen.verify.fixtures (host, node, spec, provider, client, ...).
"""
