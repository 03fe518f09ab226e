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
