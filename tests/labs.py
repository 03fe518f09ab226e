"""Labs driven through the CLI exactly as a user types it, for the integration and e2e tests."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from labgen.boxes import rootfs
from labgen.labs import find_lab, provider_for
from labgen.observe import node_health
from labgen.poll import wait_for
from labgen.providers.base import Provider
from labgen.verify.failover import Report
from tests.hostcheck import leftovers, snapshot

# a module of real containers: skipped, with the reason, where the host cannot run them
NSPAWN = [
    pytest.mark.nspawn,
    pytest.mark.skipif(os.geteuid() != 0, reason="nspawn containers need root"),
    pytest.mark.skipif(shutil.which("systemd-nspawn") is None, reason="needs systemd-container"),
    pytest.mark.skipif(not rootfs.is_current(), reason="needs `labgen box build debian-12`"),
]


# A blueprint's suite on TCG VMs in CI, where each test costs three to ten times its container
# time: it leaves out the faults a VM shows no differently (freeze, reset, reboot:
# test_libvirt_lab.py proves the provider's own on VMs), the split brain, and the unmeasured stop
# and takeovers, whose moves the measured failovers make too. The suites run whole on containers
# on three releases (test_nspawn_*.py, test_releases_*.py); on VMs every configuration test, the
# VIP, the service, the measured failovers, the cut link (the VMs' own kernel) and the LVS claims
# still run.
VM_SELECTION = ("not freeze and not reset and not reboot and not split_brain and not stop_moves "
                "and not takes_over")


def libvirt_marks() -> list:
    """A module of real VMs: skipped, with the reason, where the host cannot run them (the box
    is built by the tests when missing)."""
    reason = None
    if os.geteuid() != 0:
        reason = "needs root (network namespaces, libvirtd)"
    else:
        from labgen.providers.libvirt.provider import LibvirtProvider

        missing = [piece for piece, _ in LibvirtProvider.missing() if "box" not in piece]
        reason = f"host lacks: {', '.join(missing)}" if missing else None
    return [pytest.mark.libvirt, pytest.mark.skipif(reason is not None, reason=reason or "")]


def labgen(*args: str, timeout: float = 600, input: str | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "labgen", *args], capture_output=True, text=True, timeout=timeout, input=input
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def ok(*args: str, timeout: float = 600, input: str | None = None) -> str:
    result = labgen(*args, timeout=timeout, input=input)
    assert result.returncode == 0, f"labgen {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result.stdout


def failover(lab: str, fault: str) -> Report:
    """`labgen failover --json`, read back into the report it printed."""
    return Report(**json.loads(ok("failover", lab, "--fault", fault, "--json")))


class RunningLab:
    """One lab brought up for a test module and taken down at its end, checked for leftovers."""

    def __init__(self, blueprint: str, name: str, provider: str, sets: list[str]):
        self.blueprint, self.name = blueprint, name
        self.before = snapshot()
        labgen("down", name)
        ok("up", blueprint, "--provider", provider, "--name", name, *(f"--set={s}" for s in sets))

    def exec(self, node: str, command: str) -> str:
        return ok("exec", self.name, node, "--", "sh", "-c", command)

    def verify(self, *args: str) -> subprocess.CompletedProcess[str]:
        return labgen("verify", self.name, *args, timeout=900)

    def failover(self, fault: str) -> Report:
        return failover(self.name, fault)

    def provider(self) -> Provider:
        return provider_for(find_lab(self.name))

    def down(self) -> None:
        ok("down", self.name)
        left = leftovers(self.before, [f"labgen-{self.name}"])
        assert left == {}, f"down left things behind: {left}"


class VipPoll:
    """When the VIP reached node, as a look of its own sees it, from a thread started now: the
    start of the last look that did not find it (the move came after) and the end of the first
    that did (it came before)."""

    def __init__(self, provider: Provider, node: str, timeout: float = 60):
        self.provider, self.node, self.timeout = provider, node, timeout
        self.seen: tuple[float, float] | None = None
        self.not_before = time.time()
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _poll(self) -> None:
        deadline = time.time() + self.timeout
        while time.time() < deadline:
            started = time.time()
            if node_health(self.provider, self.node, timeout=5)[0]:
                self.seen = (self.not_before, time.time())
                return
            self.not_before = started

    def result(self, timeout: float) -> tuple[float, float]:
        self.thread.join(timeout)
        assert self.seen is not None, f"the VIP did not reach {self.node} in {self.timeout:.0f} s"
        return self.seen


def lab_fixture(blueprint: str, name: str, provider: str = "nspawn", sets: list[str] = ()):
    """A module-scoped fixture: the lab up for the module's tests, down (and checked) after."""

    @pytest.fixture(scope="module")
    def running():
        lab = RunningLab(blueprint, name, provider, list(sets))
        yield lab
        lab.down()

    return running


@contextlib.contextmanager
def the_hosts_class(timeout: float = 2400) -> Iterator[None]:
    """A host has one class at a time (its sudo rule, its seat accounts, its record), and CI runs
    the class tests of several modules at once (containers, VMs, hosts): each holds this lock, a
    file of root's, for as long as its class stands; the others wait their turn."""
    with open("/run/labgen-tests-class.lock", "w") as lock:

        def taken() -> bool:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        wait_for(taken, bool, timeout=timeout, interval=2,
                 expected="the host's class free (another module's class test holds it)")
        yield
