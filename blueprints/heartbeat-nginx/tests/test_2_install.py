"""Tutorial: install Heartbeat and nginx; both run and start at boot."""

import pytest

from labgen.verify.behaviour import assert_service_up


@pytest.mark.parametrize("package", ["heartbeat", "nginx", "net-tools"])
def test_package_is_installed(host, package):
    assert host.package(package).is_installed


@pytest.mark.parametrize("service", ["heartbeat", "nginx"])
def test_service_is_enabled_and_running(host, service):
    assert_service_up(host, service)
