"""What `labgen up` checks of the host before it makes anything (labgen/classroom/limits.py).

The limits are read from this host's /proc for real; a short one is made by reading a lower value
than the kernel's, since lowering the kernel's own would break whatever else runs here."""

from __future__ import annotations

from pathlib import Path

import pytest

from labgen.classroom import limits
from labgen.errors import LabgenError


def test_a_lab_fits_on_this_host(tmp_path: Path) -> None:
    for provider in ("nspawn", "libvirt"):
        limits.check_lab(2, provider, tmp_path)


def test_short_inotify_instances_are_refused_with_the_numbers_and_the_fix(tmp_path, monkeypatch) -> None:
    real = limits.read
    monkeypatch.setattr(limits, "read", lambda key: 1 if key == limits.INOTIFY else real(key))
    with pytest.raises(LabgenError) as refused:
        limits.check_lab(2, "nspawn", tmp_path)
    line = str(refused.value)
    assert f"{limits.INOTIFY} of at least" in line and "it is 1" in line, line
    assert f"sysctl -w {limits.INOTIFY}=" in line and "\n" not in line, line


def test_vms_are_not_held_to_the_containers_inotify_limit(tmp_path, monkeypatch) -> None:
    real = limits.read
    monkeypatch.setattr(limits, "read", lambda key: 1 if key == limits.INOTIFY else real(key))
    limits.check_lab(2, "libvirt", tmp_path)


def test_more_memory_than_the_host_has_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LabgenError, match=r"this lab needs about \d+ MB of memory and this host has"):
        limits.check_lab(10**6, "libvirt", tmp_path)


@pytest.fixture
def sysctls(tmp_path, monkeypatch):
    """/proc/sys as files of the test's own: class down's logic is the point, and the host's own
    values must not change under whatever else runs here."""
    monkeypatch.setattr(limits, "_path", lambda key: tmp_path / key)
    return tmp_path


def test_class_down_puts_back_what_class_up_raised(sysctls: Path) -> None:
    (sysctls / "fs.inotify.max_user_instances").write_text("128\n")
    raised = limits.raise_limits([limits.Limit("fs.inotify.max_user_instances", needed=300, have=128)])
    assert raised == {"fs.inotify.max_user_instances": [128, 300]}
    assert limits.read("fs.inotify.max_user_instances") == 300
    limits.restore(raised)
    assert limits.read("fs.inotify.max_user_instances") == 128


def test_a_value_someone_set_since_is_left_alone(sysctls: Path) -> None:
    """A teacher (or a test run) raised it further for labs of their own: lowering it to the
    class's old value would make their next `up` refuse."""
    (sysctls / "fs.inotify.max_user_instances").write_text("128\n")
    raised = limits.raise_limits([limits.Limit("fs.inotify.max_user_instances", needed=300, have=128)])
    limits.write("fs.inotify.max_user_instances", 1024)
    limits.restore(raised)
    assert limits.read("fs.inotify.max_user_instances") == 1024


def test_a_record_of_an_older_labgen_puts_back_the_old_value_unless_higher(sysctls: Path) -> None:
    (sysctls / "kernel.pid_max").write_text("65536\n")
    limits.restore({"kernel.pid_max": 32768})
    assert limits.read("kernel.pid_max") == 32768
