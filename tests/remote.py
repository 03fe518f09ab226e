"""Other hosts on this one machine, for the multi-host tests: each a network namespace of the test's
with its own sshd on its loopback, in a mount namespace of its own whose LABGEN_HOME is a tmpfs
(the controller's view of that folder stays empty), reached by the controller over ssh alone.

What a class writes host-wide is the host's own too: /etc (accounts, the sudo rule, the seat
files; a copy whose new accounts take UIDs from a range of the host's) and /run/labgen (locks, the
UID ranges of container labs: two hosts' labs may share one, as on two machines). /run/labgen-seat
stays shared: its files are named by seat, and seats are numbered across hosts, and labgen removes
the folder itself (which would take a mount on it away from every namespace). The mount namespace
is held by a process of its own, so sshd can stop (the host gone) and start again in it.

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
    """A started host: `with RemoteHost(name, folder, key) as host:` ... stopped and removed after.
    uids: the first UID of the host's own accounts (each host's apart from every other's); forced:
    the controller's key runs labgen alone there (labgen-ssh, as docs/security.md says to set it)."""

    def __init__(self, name: str, folder: Path, key: Path, labgen_bin: Path | None = None, uids: int = 40000,
                 forced: bool = True):
        self.name, self.key, self.uids, self.forced = name, key, uids, forced
        self.netns = f"lgt-{name}"
        self.dir = folder / name
        self.home = self.dir / "home"  # its LABGEN_HOME: a tmpfs in its mount namespace only
        self.bin = labgen_bin or Path(sys.executable).parent
        self.holder: subprocess.Popen | None = None  # holds the mount namespace
        self.log = None  # the holder's and sshd's stderr
        self.sshd: subprocess.Popen | None = None

    @property
    def proxy(self) -> str:
        return f"ProxyCommand=ip netns exec {self.netns} socat - TCP:127.0.0.1:22"

    def __enter__(self) -> RemoteHost:
        self.home.mkdir(parents=True)
        self.dir.chmod(0o700)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.dir / "host_key")],
                       check=True)
        forced = f'restrict,pty,command="{self.bin / "labgen-ssh"}" ' if self.forced else ""
        (self.dir / "authorized_keys").write_text(forced + Path(f"{self.key}.pub").read_text())
        (self.dir / "sshd_config").write_text(self._config())
        self._own_etc()
        self.log = open(self.dir / "log", "w")  # closed in __exit__
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation folder
        subprocess.run(["ip", "netns", "add", self.netns], check=True)
        try:
            subprocess.run(["ip", "-n", self.netns, "link", "set", "lo", "up"], check=True)
            self.holder = subprocess.Popen(  # nsenter, unshare and sh each exec the next: one PID
                # (nsenter, not ip netns exec, whose fresh /sys has none of the host's cgroup mounts)
                ["nsenter", f"--net=/run/netns/{self.netns}", "--", "unshare", "--mount", "--propagation",
                 "private", "--", "sh", "-ec", self._mounts() + "exec sleep infinity"],
                stderr=self.log,
            )
            self._wait(lambda: Path(f"/proc/{self.holder.pid}/comm").read_text().strip() == "sleep",
                       "its mounts made", self.holder)
            self.start_sshd()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _own_etc(self) -> None:
        """A copy of /etc whose new accounts and groups take IDs from the host's own range."""
        subprocess.run(["cp", "-a", "/etc", str(self.dir / "etc")], check=True)
        defs = self.dir / "etc" / "login.defs"
        first, last = self.uids, self.uids + 999
        ranges = {"UID_MIN": first, "UID_MAX": last, "GID_MIN": first, "GID_MAX": last}
        lines = [line for line in defs.read_text().splitlines() if (line.split() or [""])[0] not in ranges]
        defs.write_text("\n".join([*lines, *(f"{key} {value}" for key, value in ranges.items())]) + "\n")

    def _mounts(self) -> str:
        return (f'mount -t tmpfs -o mode=0700 labgen-test "{self.home}"\n'
                f'mount --bind "{self.dir / "etc"}" /etc\n'
                "mkdir -p /run/labgen && mount -t tmpfs -o mode=0755 labgen-test /run/labgen\n")

    def start_sshd(self) -> None:
        """sshd in the host's mount namespace: the host reachable (again)."""
        self.sshd = subprocess.Popen(
            [*self._inside(), SSHD, "-D", "-e", "-f", str(self.dir / "sshd_config")],
            stderr=self.log,
        )
        self._wait(self._listening, "sshd listening", self.sshd)

    def stop_sshd(self) -> None:
        """The host gone from the network: its sshd stopped (the Popen we started, by its PID);
        what runs there goes on."""
        if self.sshd is not None and self.sshd.poll() is None:
            self.sshd.terminate()
            try:
                self.sshd.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.sshd.kill()
                self.sshd.wait()

    def run_there(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        """argv in the host's namespaces with its environment, not through ssh (the test's own look
        and clean-up)."""
        return subprocess.run([*self._inside(), "env", *self._env(), *argv], capture_output=True, text=True,
                              timeout=900)

    def _inside(self) -> list[str]:
        """The start of a command run in the host's namespaces (network and mount)."""
        return ["nsenter", "-t", str(self.holder.pid), "-m", "-n", "--"]

    def _env(self) -> list[str]:
        env = [f"LABGEN_HOME={self.home}", f"PATH={self.bin}:/usr/sbin:/usr/bin:/sbin:/bin"]
        if pythonpath := os.environ.get("PYTHONPATH"):  # a development checkout's labgen
            env.append(f"PYTHONPATH={pythonpath}")
        return env

    def _config(self) -> str:
        return "\n".join([
            "ListenAddress 127.0.0.1:22",
            f"HostKey {self.dir / 'host_key'}",
            f"AuthorizedKeysFile {self.dir / 'authorized_keys'}",
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",
            f"SetEnv {' '.join(self._env())}",
            "",
        ])

    def _listening(self) -> bool:
        seen = subprocess.run(["ip", "netns", "exec", self.netns, "ss", "-Hltn", "sport = :22"],
                              capture_output=True, text=True).stdout
        return "127.0.0.1:22" in seen

    def _wait(self, ready, what: str, process: subprocess.Popen, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"{self.name}: exited before {what}: {(self.dir / 'log').read_text()}")
            if ready():
                return
            time.sleep(0.1)
        raise AssertionError(f"{self.name}: not {what} in {timeout:.0f} s")

    def __exit__(self, *exc) -> None:
        if self.holder is not None and self.holder.poll() is None:
            self.run_there(["labgen", "class", "down", "--missing-ok"])  # a class a failed test left there
        self.stop_sshd()
        if self.holder is not None and self.holder.poll() is None:
            self.holder.terminate()
            self.holder.wait(timeout=10)
        subprocess.run(["ip", "netns", "delete", self.netns], check=False, capture_output=True)
        if self.log is not None:
            self.log.close()
