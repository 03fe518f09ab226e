"""Tutorial step 1: install Apache, keepalived and ipvsadm; both services run and start at boot."""

import pytest


@pytest.mark.parametrize("package", ["apache2", "keepalived", "ipvsadm", "iptables"])
def test_package_is_installed(host, package):
    assert host.package(package).is_installed


@pytest.mark.parametrize("service", ["apache2", "keepalived"])
def test_service_is_enabled_and_running(host, service):
    assert host.service(service).is_enabled, f"{service} would not start at boot"
    assert host.service(service).is_running
