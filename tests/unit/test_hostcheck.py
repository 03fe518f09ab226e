"""The leftover checks tell one lab's things from another's whose name starts the same."""

from tests.hostcheck import _names


def test_a_lab_name_is_matched_whole_not_as_the_start_of_another():
    assert _names("labgen-t-ex-pm.lb0", "labgen-t-ex-pm")
    assert _names("/var/lib/labgen/labs/t-ex-pm/state/lb0/merged", "/var/lib/labgen/labs/t-ex-pm")
    assert not _names("labgen-t-ex-pmh.lb0", "labgen-t-ex-pm")
    assert not _names("systemd-nspawn -M labgen-t-ex-pm-2.lb0 --boot", "labgen-t-ex-pm")
