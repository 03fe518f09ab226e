"""Tutorial: install Heartbeat and nginx; both run and start at boot."""

import pytest


@pytest.mark.parametrize("package", ["heartbeat", "nginx", "net-tools"])
def test_package_is_installed(host, package):
    assert host.package(package).is_installed


@pytest.mark.parametrize("service", ["heartbeat", "nginx"])
def test_service_is_enabled_and_running(host, service):
    assert host.service(service).is_enabled, f"{service} would not start at boot"
    assert host.service(service).is_running
