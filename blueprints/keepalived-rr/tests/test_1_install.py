"""Tutorial step 1: install Apache, keepalived and ipvsadm; both services run and start at boot."""

from labgen.testing.suites.install import test_package_is_installed, test_service_is_enabled_and_running
