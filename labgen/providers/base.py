"""The provider interface: everything a lab needs from the machines it runs on.

Each provider is one module in this package (libvirt.py, nspawn.py) defining one subclass of
Provider. Service-level faults (stop, crash) are provider-neutral and run through exec();
the machine-level ones (freeze, link down, power) are the provider's; a clean reboot is asked
from inside the node, as its administrator would.
"""

from __future__ import annotations

import subprocess
from abc import ABC, abstractmethod
from collections.abc import Iterable
from pathlib import Path
from typing import IO, ClassVar

from labgen.boxes.releases import DEFAULT as DEFAULT_BOX
from labgen.lab import Lab, LabSpec
from labgen.poll import wait_for
from labgen.progress import Progress

# seconds a command labgen runs on a node may take; past it the node counts as stuck. Only a
# person's own `labgen exec` runs without a bound (timeout=None): they can stop it themselves.
EXEC_TIMEOUT = 120.0
BOOT_TIMEOUT = 300.0  # a VM's reboot under TCG takes 30-60 s; a container's 1-2 s
# what changes with every boot: the kernel's boot id (a VM), the start time of PID 1 (a container)
BOOT_MARK = ["sh", "-c", "cat /proc/sys/kernel/random/boot_id; cut -d' ' -f22 /proc/1/stat"]


def stdin_from(given: str | None) -> dict:
    """subprocess arguments that feed `given` to the command, or nothing at all: a command on a node
    must never read the caller's own stdin by accident."""
    return {"input": given} if given is not None else {"stdin": subprocess.DEVNULL}


class Provider(ABC):
    name: ClassVar[str]
    sudo: ClassVar[bool] = False  # True where ssh logs in as a user who needs sudo for root
    client_interface: str = "eth0"  # the client seat's NIC on the VIP's network
    # what one node costs the host after `up` (memory it touches, disk it writes): how many seats
    # and labs fit (classroom.limits, `labgen doctor`)
    node_memory_mb: ClassVar[int]
    node_disk_mb: ClassVar[int]
    box_kind: ClassVar[str]  # what `labgen box list` calls the box its nodes boot from
    # its nodes run on the host's kernel, so they count against its inotify and PID limits
    shares_host_kernel: ClassVar[bool] = False

    def __init__(self, lab: Lab):
        self.lab = lab

    @classmethod
    @abstractmethod
    def features(cls) -> dict[str, bool]:
        """What this provider offers on this host, probed (e.g. {"ip_vs": False})."""

    @classmethod
    @abstractmethod
    def missing(cls, boxes: Iterable[str] = (DEFAULT_BOX,)) -> list[tuple[str, str]]:
        """What this host lacks for this provider and these boxes: (missing piece, command that
        installs it)."""

    @classmethod
    def emulates(cls, spec: LabSpec) -> bool:
        """Whether the lab's nodes run on an emulated CPU (a resource agent's shell runs slower)."""
        return False

    @classmethod
    def prepare_host(cls) -> None:
        """Probes worth their cost only before a real `up` (e.g. does KVM work?), cached for render."""
        return None

    def restorable_secret(self) -> str | None:
        """The shared secret of a saved lab this lab can be restored from, instead of booting and
        provisioning its nodes: rendered with it, `up` restores. None: `up` boots fresh."""
        return None

    def restored_from(self) -> str | None:
        """The saved lab this lab's machines were restored from (None: booted and provisioned)."""
        return None

    @abstractmethod
    def up(self, progress: Progress, *, fresh: bool = False) -> None:
        """Bring every node up and provisioned; write lab.ssh_config. Safe to call after a failure.
        fresh: boot and provision even where a saved lab could be restored."""

    @abstractmethod
    def status(self) -> dict[str, str]:
        """node -> "running" | "stopped" | "frozen" | "absent"."""

    @abstractmethod
    def exec(
        self, node: str, argv: list[str], *, timeout: float | None = EXEC_TIMEOUT, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run argv as root on node, capture text output; never raises on a non-zero exit. A command
        still running after `timeout` seconds is killed and reported as exit 124."""

    @abstractmethod
    def node_argv(self, node: str, argv: list[str]) -> list[str]:
        """The host command that runs argv as root on node."""

    def stream(
        self, node: str | None, argv: list[str], *, stdin: bool = False, stdout: IO | None = None
    ) -> int:
        """Run argv on node (None: the client seat) on the caller's own stdout (or the file given)
        and stderr, and its stdin if asked; the exit code. Nothing passes through labgen's memory
        whatever its size: a seat's `labgen exec` runs labgen as root, and must not make it hold
        what the seat sends."""
        full = self.client_argv(argv) if node is None else self.node_argv(node, argv)
        stdin_from = None if stdin else subprocess.DEVNULL
        return subprocess.run(full, stdin=stdin_from, stdout=stdout, check=False).returncode

    @abstractmethod
    def freeze(self, node: str, frozen: bool) -> None:
        """Freeze (or thaw) every process of the node, as a hung machine."""

    @abstractmethod
    def mac(self, node: str, network: str) -> str:
        """The MAC of the node's NIC on a lab network, known on the host even while the node is down."""

    @abstractmethod
    def set_link(self, node: str, network: str, up: bool) -> None:
        """Cut (or restore) the node's link to a lab network."""

    @abstractmethod
    def power(self, node: str, on: bool) -> None:
        """Pull the node's plug (no shutdown: as a power cut), or switch it on again (it boots).
        Switching on a running node, or off one that is off, does nothing."""

    def reboot(self, node: str) -> None:
        """`systemctl reboot` in the node: its services stop in order, so an HA daemon hands its
        resources over first. Returns once the old system has stopped answering."""
        before = self.boot_mark(node)
        self.exec(node, ["systemctl", "--no-block", "reboot"], timeout=30)
        wait_for(lambda: self.boot_mark(node), lambda seen: seen != before,
                 expected=f"{node} to go down for its reboot", timeout=BOOT_TIMEOUT)

    def boot_mark(self, node: str) -> str:
        """Tells one boot of the node from the next; empty while it does not answer."""
        done = self.exec(node, BOOT_MARK, timeout=10)
        return done.stdout if done.returncode == 0 else ""

    def wait_booted(self, node: str) -> None:
        """Until the node answers and its systemd has finished booting."""
        wait_for(lambda: self.exec(node, ["systemctl", "is-system-running"], timeout=10).stdout.strip(),
                 lambda seen: seen in ("running", "degraded"), expected=f"{node} booted and answering",
                 timeout=BOOT_TIMEOUT, interval=0.5)

    @abstractmethod
    def reset(self, progress: Progress) -> None:
        """Back to the lab as `up` left it, networks and secrets unchanged (labgen reset)."""

    @abstractmethod
    def down(self) -> None:
        """Remove every trace of the lab's machines and networks; idempotent."""

    def client_argv(self, argv: list[str]) -> list[str]:
        """argv made to run in the client seat (the tutorial's "your local computer")."""
        return ["ip", "netns", "exec", self.lab.spec.client_namespace, *argv]

    def client_exec(
        self, argv: list[str], *, timeout: float | None = EXEC_TIMEOUT, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run argv in the client seat; past its timeout, exit 124 like a node's exec (a probe that
        did not finish is a probe that failed: on a loaded host a 1 s curl once took over 6 s)."""
        argv = self.client_argv(argv)
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False,
                                  **stdin_from(input))
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
            return subprocess.CompletedProcess(argv, 124, out, f"timed out after {timeout} s")

    def ssh_config(self) -> Path:
        return self.lab.ssh_config
