"""Tutorial: install the cluster software and nginx. Corosync and pacemaker start at boot; nginx is
a cluster resource, so pacemaker, not the boot, starts it (see test_4_nginx.py)."""

import pytest

from labgen.verify.behaviour import assert_service_up


@pytest.mark.parametrize("package", ["pacemaker", "corosync", "crmsh", "nginx"])
def test_package_is_installed(host, package):
    assert host.package(package).is_installed


@pytest.mark.parametrize("service", ["corosync", "pacemaker"])
def test_service_is_enabled_and_running(host, service):
    assert_service_up(host, service)


def test_nginx_is_not_started_at_boot(host):
    assert not host.service("nginx").is_enabled, "nginx enabled at boot would run beside pacemaker's"
