"""A lab brought up with plain `vagrant up` (a student's laptop), seen by the lab's test suite.

labgen is only a library here: it starts and stops nothing. The nodes are reached with ssh over
`vagrant ssh-config` (as `vagrant`, with sudo for root), the machine-level faults go to virsh on the
libvirt the Vagrantfile used (LABGEN_LIBVIRT_URI, else the system libvirt), and the client seat is
this computer itself: the Vagrantfile gave it the first client address on the VIP's network.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path
from typing import ClassVar

from labgen.errors import LabgenError
from labgen.lab import Lab
from labgen.progress import Progress
from labgen.providers.libvirt.provider import LibvirtProvider, plain_prefix

DEFAULT_URI = "qemu:///system"


def is_plain(lab: Lab) -> bool:
    """A libvirt lab that plain vagrant brought up: vagrant's machine state, no labgen ssh_config."""
    return (
        lab.spec.provider == "libvirt"
        and not lab.ssh_config.exists()
        and (lab.path / ".vagrant" / "machines").is_dir()
    )


class PlainVagrantProvider(LibvirtProvider):
    """The libvirt provider's faults and exec, over what plain vagrant made."""

    sudo: ClassVar[bool] = True  # vagrant logs in as `vagrant`; root is one sudo away

    def __init__(self, lab: Lab):
        super().__init__(lab)
        self.uri = os.environ.get("LABGEN_LIBVIRT_URI", DEFAULT_URI)
        self._client_device: str | None = None

    @property
    def client_interface(self) -> str:
        """The bridge on which this computer holds the first client address (vagrant-libvirt's)."""
        if self._client_device is None:
            shown = self.client_exec(["ip", "-o", "-4", "addr", "show"], timeout=10).stdout
            address = self.lab.spec.client[0]
            for line in shown.splitlines():
                fields = line.split()  # N: DEV inet ADDR/PREFIX ...
                if len(fields) > 3 and fields[3].split("/")[0] == address:
                    self._client_device = fields[1]
                    break
            else:
                raise LabgenError(f"this computer has no interface with {address}: is the lab up?")
        return self._client_device

    @property
    def name_prefix(self) -> str:
        return plain_prefix(self.lab.spec)

    def up(self, progress: Progress, *, fresh: bool = False) -> None:
        raise LabgenError(f"{self.lab.path} was brought up with plain vagrant: use `vagrant up` there")

    def down(self) -> None:
        raise LabgenError(f"{self.lab.path} was brought up with plain vagrant: use `vagrant destroy -f`")

    def status(self) -> dict[str, str]:
        return {node.name: self._domstate(node.name) for node in self.lab.spec.nodes}

    def exec(self, node: str, argv: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
        return super().exec(node, ["sudo", "-n", *argv], **kwargs)

    def client_argv(self, argv: list[str]) -> list[str]:
        """This computer is the client: the command runs right here."""
        return argv

    def ssh_config(self) -> Path:
        """`vagrant ssh-config`, once, plus a ControlMaster per node (a TCG handshake costs 1-2 s)."""
        path = self.lab.path / ".vagrant" / "labgen-ssh-config"
        if not path.exists():
            done = subprocess.run(
                ["vagrant", "ssh-config"], cwd=self.lab.path, capture_output=True, text=True,
                timeout=120, check=False,
            )
            if done.returncode != 0:
                raise LabgenError(f"vagrant ssh-config failed in {self.lab.path}: {done.stderr.strip()}")
            path.write_text(_with_masters(done.stdout, self.lab.path))
        return path

    def _virsh_run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        argv = ["virsh", "-q", "-c", self.uri, *args]
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


def _with_masters(raw: str, lab_path: Path) -> str:
    """A ControlMaster socket per node under /tmp (short: a unix socket path has 108 bytes)."""
    tag = hashlib.sha1(str(lab_path).encode()).hexdigest()[:10]
    extra = [
        "  ControlMaster auto",
        f"  ControlPath /tmp/labgen-{tag}-%r@%n",
        "  ControlPersist 5m",
        "  ServerAliveInterval 5",
    ]
    out = []
    for line in raw.splitlines():
        out.append(line)
        if line.startswith("Host "):
            out.extend(extra)
    return "\n".join(out) + "\n"
