"""Every release other than the default has its row for every blueprint: pacemaker-nginx's rows
are split over two modules (one worker each), which must not lose a release that is added."""

from tests.integration import (
    test_releases_heartbeat,
    test_releases_keepalived,
    test_releases_pacemaker_debian11,
    test_releases_pacemaker_debian13,
)
from tests.releases import OTHER_DEBIAN


def _boxes(*modules) -> list[str]:
    return sorted(box for module in modules for mark in module.test_whole_suite_on_release.pytestmark
                  if mark.name == "parametrize" for box in mark.args[1])


def test_every_other_release_has_a_row_for_every_blueprint() -> None:
    assert _boxes(test_releases_pacemaker_debian11, test_releases_pacemaker_debian13) == sorted(OTHER_DEBIAN)
    assert _boxes(test_releases_heartbeat) == _boxes(test_releases_keepalived) == sorted(OTHER_DEBIAN)
