"""Tutorial: install the cluster software and nginx. Corosync and pacemaker start at boot; nginx is
a cluster resource, so pacemaker, not the boot, starts it (see test_4_nginx.py)."""

from labgen.testing.suites.install import test_package_is_installed, test_service_is_enabled_and_running


def test_nginx_is_not_started_at_boot(host):
    assert not host.service("nginx").is_enabled, "nginx enabled at boot would run beside pacemaker's"
