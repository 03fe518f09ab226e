"""Tutorial (every blueprint): install the packages; the services run and start at boot. Which
ones is the blueprint's own data (its `packages:` and `services:`), so a suite only imports these."""

from labgen.verify.behaviour import assert_service_up


def test_package_is_installed(host, package):
    assert host.package(package).is_installed, f"{package} is not installed"


def test_service_is_enabled_and_running(host, service):
    assert_service_up(host, service)
