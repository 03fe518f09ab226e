"""Other hosts on this one machine, for the multi-host tests: each a network namespace of the test's
with its own sshd on its loopback, in a mount namespace of its own whose LABGEN_HOME is a tmpfs
(the controller's view of that folder stays empty), reached by the controller over ssh alone.

The controller gets to a host's sshd through `ip netns exec NS socat` as its ssh ProxyCommand:
every address is the namespace's own 127.0.0.1, none is on a host interface.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

SSHD = "/usr/sbin/sshd"


def controller_key(folder: Path) -> Path:
    """A key pair of the test's, for the controller to log in to its hosts with."""
    key = folder / "controller_key"
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "labgen-test", "-f", str(key)],
                       check=True)
    return key


class RemoteHost:
    """A started host: `with RemoteHost(name, folder, key) as host:` ... stopped and removed after."""

    def __init__(self, name: str, folder: Path, key: Path, labgen_bin: Path | None = None):
        self.name, self.key = name, key
        self.netns = f"lgt-{name}"
        self.dir = folder / name
        self.home = self.dir / "home"  # its LABGEN_HOME: a tmpfs in its mount namespace only
        self.bin = labgen_bin or Path(sys.executable).parent
        self.sshd: subprocess.Popen | None = None

    @property
    def proxy(self) -> str:
        return f"ProxyCommand=ip netns exec {self.netns} socat - TCP:127.0.0.1:22"

    def __enter__(self) -> RemoteHost:
        self.home.mkdir(parents=True)
        self.dir.chmod(0o700)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.dir / "host_key")],
                       check=True)
        (self.dir / "authorized_keys").write_text(Path(f"{self.key}.pub").read_text())
        (self.dir / "sshd_config").write_text(self._config())
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation folder
        subprocess.run(["ip", "netns", "add", self.netns], check=True)
        try:
            subprocess.run(["ip", "-n", self.netns, "link", "set", "lo", "up"], check=True)
            self.sshd = subprocess.Popen(  # ip netns exec, unshare and sh each exec the next: one PID
                ["ip", "netns", "exec", self.netns, "unshare", "--mount", "--propagation", "private", "--",
                 "sh", "-c", f'mount -t tmpfs -o mode=0700 labgen-test "{self.home}" && exec {SSHD} -D -e '
                 f'-f "{self.dir / "sshd_config"}"'],
                stderr=open(self.dir / "sshd.log", "w"),
            )
            self._wait_listening()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _config(self) -> str:
        env = f"LABGEN_HOME={self.home} PATH={self.bin}:/usr/sbin:/usr/bin:/sbin:/bin"
        if pythonpath := os.environ.get("PYTHONPATH"):  # a development checkout's labgen
            env += f" PYTHONPATH={pythonpath}"
        return "\n".join([
            "ListenAddress 127.0.0.1:22",
            f"HostKey {self.dir / 'host_key'}",
            f"AuthorizedKeysFile {self.dir / 'authorized_keys'}",
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",
            f"SetEnv {env}",
            "",
        ])

    def _wait_listening(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.sshd.poll() is not None:
                raise AssertionError(f"sshd of {self.name} exited: {(self.dir / 'sshd.log').read_text()}")
            seen = subprocess.run(["ip", "netns", "exec", self.netns, "ss", "-Hltn", "sport = :22"],
                                  capture_output=True, text=True).stdout
            if "127.0.0.1:22" in seen:
                return
            time.sleep(0.1)
        raise AssertionError(f"sshd of {self.name} did not listen in {timeout:.0f} s")

    def __exit__(self, *exc) -> None:
        if self.sshd is not None and self.sshd.poll() is None:
            self.sshd.terminate()  # the Popen we started, by its PID
            try:
                self.sshd.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.sshd.kill()
                self.sshd.wait()
        subprocess.run(["ip", "netns", "delete", self.netns], check=False, capture_output=True)
