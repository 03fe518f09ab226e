"""End to end, the student's way: a rendered lab directory brought up with plain `vagrant up`, no
labgen involved, proven with plain `pytest` on its own suite, removed with `vagrant destroy -f`.

The "system libvirt" is a libvirtd this test starts inside a network namespace of its own (the
network rule: no lab address or bridge in the host namespace). Every vagrant and pytest command runs
in that namespace with the daemon's run directory bound over /run/libvirt, so to them it IS the
system libvirt at qemu:///system, exactly as on a laptop. The box comes the student's way too:
`labgen box export`, then `vagrant box add` into a fresh VAGRANT_HOME.

The lab is heartbeat-nginx, so that every blueprint's suite runs on VMs in CI: keepalived-rr's
through `labgen verify` in test_libvirt_lab.py, pacemaker-nginx's in test_libvirt_pacemaker.py,
heartbeat-nginx's here (all but what containers show: see test_plain_pytest_on_the_lab_suite).
One TCG boot of two VMs (~1 min) plus the suite; the tests run in file order.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from labgen import netns
from labgen.providers.libvirt import libvirtd, vagrant_box
from labgen.providers.libvirt.provider import MEMORY_MIB
from tests.hostcheck import leftovers, snapshot
from tests.labs import VM_SELECTION, ok

pytestmark = pytest.mark.libvirt

BLUEPRINT = "heartbeat-nginx"
LAB_NAME = "e2e-plain"
NAMESPACE = "labgen-e2e-plain-host"  # plays the student's computer: its libvirt, its bridges

if os.geteuid() != 0 or shutil.which("vagrant") is None or not vagrant_box.is_current():
    pytestmark = [pytest.mark.libvirt, pytest.mark.skip(reason="needs root, vagrant and the built box")]

_AS_ON_A_LAPTOP = 'mount --bind "$LIBVIRT_RUN" /run/libvirt && exec "$@"'


class Laptop:
    """The student's computer: a namespace with the system libvirt, a folder, a VAGRANT_HOME."""

    def __init__(self, lab: Path, vagrant_home: Path):
        self.lab, self.vagrant_home = lab, vagrant_home
        self.daemon = libvirtd.Daemon(NAMESPACE)

    def run(self, *argv: str, timeout: float = 600, cwd: Path | None = None) -> subprocess.CompletedProcess:
        """argv on the laptop: in its namespace, qemu:///system is its libvirt; no LABGEN_* set but
        the one a student whose /dev/kvm fails would set (as on this host: platform.md), as the
        handout's README says."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("LABGEN_")}
        if not libvirtd.kvm_works():
            env["LABGEN_LIBVIRT_DRIVER"] = "qemu"
        env.update(VAGRANT_HOME=str(self.vagrant_home), LIBVIRT_RUN=str(self.daemon.root / "run"),
                   VAGRANT_CHECKPOINT_DISABLE="1", VAGRANT_BOX_UPDATE_CHECK_DISABLE="1")
        command = ["ip", "netns", "exec", NAMESPACE, "sh", "-c", _AS_ON_A_LAPTOP, "sh", *argv]
        return subprocess.run(command, cwd=cwd or self.lab, env=env, capture_output=True, text=True,
                              timeout=timeout, check=False)

    def ok(self, *argv: str, timeout: float = 600) -> str:
        done = self.run(*argv, timeout=timeout)
        assert done.returncode == 0, f"{' '.join(argv)}:\n{done.stdout[-4000:]}{done.stderr[-4000:]}"
        return done.stdout

    def virsh(self, *args: str) -> str:
        return self.ok("virsh", "-q", "-c", "qemu:///system", *args, timeout=60)


@pytest.fixture(scope="module")
def laptop() -> Iterator[Laptop]:
    before = snapshot()
    work = Path(tempfile.mkdtemp(prefix="labgen-e2e-plain-", dir="/var/tmp"))
    work.chmod(0o755)  # qemu runs as libvirt-qemu and reads the box's kernel from VAGRANT_HOME
    lab, home = work / "lab", work / "vagrant.d"
    ok("render", BLUEPRINT, "--name", LAB_NAME, "-o", str(lab))
    ok("box", "export", "-o", str(work / "debian-12.box"), timeout=300)
    box = Laptop(lab, home)
    try:
        subprocess.run(["ip", "netns", "add", NAMESPACE], check=True)
        netns.run_in(NAMESPACE, ["ip", "link", "set", "lo", "up"])
        libvirtd.start(NAMESPACE, work / "libvirt-logs", machines=2, machine_mib=MEMORY_MIB)
        box.ok("vagrant", "box", "add", "--name", vagrant_box.box_name(), str(work / "debian-12.box"))
        (work / "debian-12.box").unlink()
        yield box
    finally:
        box.run("vagrant", "destroy", "-f", timeout=300)
        libvirtd.stop(NAMESPACE)
        libvirtd.stop_namespace_processes(NAMESPACE)
        netns.delete_netns(NAMESPACE)
        shutil.rmtree(work, ignore_errors=True)
        assert leftovers(before, [NAMESPACE, LAB_NAME, str(work)]) == {}, "the test left things behind"


def test_vagrant_validate_passes_on_the_fresh_directory(laptop: Laptop) -> None:
    assert "Vagrantfile validated successfully" in laptop.ok("vagrant", "validate")


def test_plain_vagrant_up(laptop: Laptop) -> None:
    begun = time.monotonic()
    laptop.ok("vagrant", "up", timeout=1200)
    print(f"\nplain vagrant up: {time.monotonic() - begun:.1f} s")
    assert set(laptop.virsh("list", "--name").split()) == {f"{LAB_NAME}-lb0", f"{LAB_NAME}-lb1"}
    # the laptop plays the client: vagrant-libvirt gave it the first client address, no NAT anywhere
    addrs = laptop.ok("ip", "-4", "-o", "addr", "show")
    assert " 198.51.100.100/24 " in addrs, addrs
    for network in ("vagrant-libvirt", f"{LAB_NAME}-vlan", f"{LAB_NAME}-public"):
        assert "<forward" not in laptop.virsh("net-dumpxml", network), f"{network} forwards traffic"


def test_plain_pytest_on_the_lab_suite(laptop: Laptop) -> None:
    begun = time.monotonic()
    # What containers show is left to them (tests.labs.VM_SELECTION): whole, the suite took 11 min
    # in CI beside the container tests (2026-12-03). Its split brain heals on containers, but on TCG
    # VMs heartbeat did not give lb0 the IP back within the settle bound in both runs of 2026-12-02
    # (130 s, lb1 holding it): an open question.
    done = laptop.run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests",
                      "-k", VM_SELECTION, "-rA", timeout=1800)
    print(f"\nplain pytest: {time.monotonic() - begun:.1f} s\n{done.stdout[-600:]}")
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and " failed" not in done.stdout
    for must_run in ("follow_heartbeat[stop]", "follow_heartbeat[crash]"):
        assert must_run in done.stdout, f"{must_run}: the measured failovers must run on VMs"


def test_vagrant_destroy_leaves_nothing(laptop: Laptop) -> None:
    laptop.ok("vagrant", "destroy", "-f", timeout=300)
    assert laptop.virsh("list", "--all", "--name").split() == []
    assert laptop.virsh("net-list", "--all", "--name").split() == []
    volumes = laptop.virsh("vol-list", "default").split("\n")
    assert all("_vagrant_box_image_" in row for row in volumes if row.strip()), volumes  # the box only
    links = laptop.ok("ip", "-br", "link").split("\n")
    assert [row.split()[0] for row in links if row.strip()] == ["lo"], links
