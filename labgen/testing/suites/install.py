"""Tutorial (every blueprint): install the packages; the services run and start at boot. Which
ones is the blueprint's own data (its `packages:` and `services:`), so a suite only imports these."""

from labgen.verify.behaviour import assert_service_up


def test_package_is_installed(host, package):
    """Installed, and its programs and libraries as the package shipped them (`dpkg --verify`; its
    configuration files are the tutorial's to change). The box has every package, so installed
    alone could not fail: a program deleted or overwritten since can."""
    assert host.package(package).is_installed, f"{package} is not installed"
    verified = host.run(f"dpkg --verify {package}")
    changed = [line for line in verified.stdout.splitlines() if line[10:11] != "c"]
    assert verified.rc == 0 and not changed, f"{package}'s files differ from the package's: {changed}"


def test_service_is_enabled_and_running(host, service):
    assert_service_up(host, service)
