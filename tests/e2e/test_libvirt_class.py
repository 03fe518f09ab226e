"""A class of two on real VMs: each seat reaches its own VM lab through its account, breaks it,
and `labgen reset` brings both machines back as `up` left them (disk and memory): restored from
the saved lab the seats were restored from (test_libvirt_lab's fresh up saved it; alone, the first
seat's up saves it).

The isolation checks that do not depend on the provider (another seat's files, namespaces,
sudo) run on containers: tests/security/test_classroom.py."""

from __future__ import annotations

import json
import pwd
import re
import time

import pytest

from labgen import paths
from tests.labs import labgen, libvirt_marks, ok, the_hosts_class
from tests.security.seats import closed_installation, refused, seat_ok

pytestmark = libvirt_marks()
SEATS = ["vmseat01", "vmseat02"]


@pytest.fixture(scope="module")
def klass():
    with the_hosts_class():
        labgen("class", "down")  # leftovers of an interrupted run
        try:
            with closed_installation(SEATS):  # two cores: one lab of two TCG VMs at a time
                ok("class", "up", "keepalived-rr", "--seats", "2", "--prefix", "vmseat",
                   "--provider", "libvirt", "--parallel", "1", timeout=2400)
                yield json.loads(ok("class", "roster", "--json"))
        finally:
            labgen("class", "down", timeout=900)


def test_each_seat_has_its_own_vm_lab(klass) -> None:
    assert [row["seat"] for row in klass] == SEATS and all(row["state"] == "up" for row in klass), klass
    for seat in SEATS:
        report = json.loads(seat_ok(seat, "labgen status --json"))
        assert report["name"] == seat and report["provider"] == "libvirt", report
    refused("vmseat02", "labgen status vmseat01")


def test_a_seat_passes_its_quick_verify_on_vms(klass) -> None:
    out = seat_ok("vmseat01", "labgen verify --quick")
    assert " failed" not in out and "skipped" not in out.split("short test summary")[-1], out[-3000:]


def test_reset_reverts_a_broken_vm_lab(klass) -> None:
    seat_ok("vmseat02", "labgen exec lb0 -- sh -c 'echo broken > /etc/keepalived/keepalived.conf; "
                        "systemctl restart keepalived; touch /root/mine'")
    refused("vmseat02", "labgen verify --quick")
    out = seat_ok("vmseat02", "labgen reset")
    took = float(re.search(r"as new in ([\d.]+) s", out).group(1))
    refused("vmseat02", "labgen exec lb0 -- ls /root/mine")
    seat_ok("vmseat02", "labgen verify --quick")
    skew = float(seat_ok("vmseat02", "labgen exec lb0 -- date +%s.%N")) - time.time()
    assert abs(skew) < 5, f"the reverted VM's clock is {skew:.1f} s off"
    print(f"reset of two TCG VMs: {took:.1f} s")


def test_class_down_removes_the_vm_seats(klass) -> None:
    ok("class", "down", timeout=900)
    for seat in SEATS:
        with pytest.raises(KeyError):
            pwd.getpwnam(seat)
        assert not (paths.labs_dir() / seat).exists()
