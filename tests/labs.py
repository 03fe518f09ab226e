"""Labs driven through the CLI exactly as a user types it, for the integration and e2e tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from labgen.boxes import rootfs
from tests.hostcheck import leftovers, snapshot

# a module of real containers: skipped, with the reason, where the host cannot run them
NSPAWN = [
    pytest.mark.nspawn,
    pytest.mark.skipif(os.geteuid() != 0, reason="nspawn containers need root"),
    pytest.mark.skipif(shutil.which("systemd-nspawn") is None, reason="needs systemd-container"),
    pytest.mark.skipif(not rootfs.is_current(), reason="needs `labgen box build debian-12`"),
]


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

    def failover(self, fault: str) -> dict:
        return json.loads(ok("failover", self.name, "--fault", fault, "--json"))

    def down(self) -> None:
        ok("down", self.name)
        assert leftovers(self.before, [f"labgen-{self.name}"]) == {}, "down left things behind"


def lab_fixture(blueprint: str, name: str, provider: str = "nspawn", sets: list[str] = ()):
    """A module-scoped fixture: the lab up for the module's tests, down (and checked) after."""

    @pytest.fixture(scope="module")
    def running():
        lab = RunningLab(blueprint, name, provider, list(sets))
        yield lab
        lab.down()

    return running
