"""Tutorial step 1: install Apache, keepalived and ipvsadm; both services run and start at boot."""

import pytest

from labgen.verify.behaviour import assert_service_up


@pytest.mark.parametrize("package", ["apache2", "keepalived", "ipvsadm", "iptables"])
def test_package_is_installed(host, package):
    assert host.package(package).is_installed


@pytest.mark.parametrize("service", ["apache2", "keepalived"])
def test_service_is_enabled_and_running(host, service):
    assert_service_up(host, service)
