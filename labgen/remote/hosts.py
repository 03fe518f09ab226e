"""The hosts a class may span: a name, an ssh address and a key each, in LABGEN_HOME/hosts/
(root's alone), and labgen run on them over OpenSSH.

labgen never runs a daemon of its own on a host: a remote host is a machine with labgen installed,
and the controller runs `labgen ...` there over ssh (BatchMode, a known_hosts file of labgen's own,
the host's key accepted the first time and pinned after), reading `--json` where it reads the
answer. `local` is always a host: this machine, without ssh.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

from labgen import paths
from labgen.errors import LabgenError
from labgen.host import last_line

LOCAL = "local"
HOST_NAME = re.compile(r"[a-z][a-z0-9-]{0,30}")
OPTION = re.compile(r"[A-Za-z]+=.+")  # an ssh -o option, KEY=VALUE (ProxyJump=..., Port=...)
CONNECT_TIMEOUT = 10
REMOTE_TIMEOUT = 120.0


@dataclass(frozen=True)
class Host:
    name: str
    user: str
    address: str
    port: int = 22
    key: str | None = None  # the private key labgen authenticates with (root's file)
    options: list[str] = field(default_factory=list)  # extra ssh -o KEY=VALUE, e.g. ProxyJump

    @property
    def url(self) -> str:
        shown = f"[{self.address}]" if ":" in self.address else self.address
        return f"ssh://{self.user}@{shown}:{self.port}"

    def ssh_argv(self, command: list[str], terminal: bool = False) -> list[str]:
        """ssh running command on the host: no prompt ever (BatchMode), the host's key pinned in
        labgen's own known_hosts, the command quoted for the remote shell word by word; with
        terminal, a pseudo-terminal there (-t) for a command that wants one."""
        argv = ["ssh", "-o", "BatchMode=yes", "-o", f"ConnectTimeout={CONNECT_TIMEOUT}",
                "-o", "StrictHostKeyChecking=accept-new",
                "-o", f"UserKnownHostsFile={_dir() / 'known_hosts'}",
                "-o", f"HostKeyAlias=labgen-{self.name}",  # pinned by labgen's name for it, not address
                "-o", "IdentitiesOnly=yes", "-o", "ForwardAgent=no", "-o", "ForwardX11=no",
                "-o", "ClearAllForwardings=yes", "-o", "ServerAliveInterval=15",
                "-o", "ServerAliveCountMax=4", "-p", str(self.port), "-l", self.user]
        if self.key:
            argv += ["-i", self.key]
        for option in self.options:
            argv += ["-o", option]
        return [*argv, *(["-t"] if terminal else ["-T"]), "--", self.address, shlex.join(command)]

    def labgen(self, args: list[str], timeout: float = REMOTE_TIMEOUT) -> subprocess.CompletedProcess[str]:
        """`labgen ARGS` on the host, its output captured."""
        return subprocess.run(self.ssh_argv(["labgen", *args]), capture_output=True, text=True,
                              timeout=timeout, check=False, stdin=subprocess.DEVNULL)

    def labgen_json(self, args: list[str], timeout: float = REMOTE_TIMEOUT):
        """`labgen ARGS --json` on the host, parsed; one line naming the host when it fails."""
        done = self.labgen([*args, "--json"], timeout=timeout)
        if done.returncode not in (0, 1):  # doctor and status exit 1 with a full answer
            raise LabgenError(f"host {self.name}: labgen {' '.join(args)}: {last_line(done)}")
        try:
            return json.loads(done.stdout)
        except ValueError:
            raise LabgenError(f"host {self.name}: labgen {' '.join(args)} --json did not print JSON: "
                              f"{last_line(done)}") from None


def parse(name: str, url: str, key: Path | None, options: list[str]) -> Host:
    """A host from what `hosts add` was given, every piece checked: one line for what is wrong."""
    if not HOST_NAME.fullmatch(name) or name == LOCAL:
        raise LabgenError(f"host name {name!r}: use lowercase letters, digits and -, starting with a "
                          f"letter, at most 31, not {LOCAL!r}")
    split = urlsplit(url)
    try:
        port = split.port or 22
    except ValueError:
        port = -1
    if split.scheme != "ssh" or not split.hostname or not split.username or port < 1 or split.path:
        raise LabgenError(f"{url}: give the host as ssh://USER@ADDRESS[:PORT], e.g. ssh://root@10.0.0.5")
    if split.hostname.startswith("-") or split.username.startswith("-"):
        raise LabgenError(f"{url}: an address or user may not start with -")
    for option in options:
        if not OPTION.fullmatch(option):
            raise LabgenError(f"--ssh-option {option!r}: give KEY=VALUE, as ssh -o takes it")
    if key is not None and not key.is_file():
        raise LabgenError(f"--key {key}: no such file")
    return Host(name, split.username, split.hostname, port, str(key.resolve()) if key else None, options)


def _dir() -> Path:
    folder = paths.home() / "hosts"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _file() -> Path:
    return _dir() / "hosts.json"


def load() -> dict[str, Host]:
    try:
        return {name: Host(**entry) for name, entry in json.loads(_file().read_text()).items()}
    except FileNotFoundError:
        return {}
    except (ValueError, TypeError) as exc:
        raise LabgenError(f"{_file()} is damaged ({exc}); remove it and add the hosts again") from None


def save(hosts: dict[str, Host]) -> None:
    draft = _file().with_suffix(".new")
    draft.touch(mode=0o600)
    draft.write_text(json.dumps({name: asdict(host) for name, host in hosts.items()}, indent=2) + "\n")
    os.replace(draft, _file())


def forget(name: str) -> None:
    """The host gone from the registry, and its pinned host key with it."""
    save({n: h for n, h in load().items() if n != name})
    unpin(name)


def unpin(name: str) -> None:
    """The host key pinned for name gone: a host not added keeps nothing (its key is pinned at
    the first connection, before its login is refused or its labgen found wanting)."""
    known = _dir() / "known_hosts"
    if known.exists():
        subprocess.run(["ssh-keygen", "-R", f"labgen-{name}", "-f", str(known)], capture_output=True,
                       check=False, timeout=30)


def get(name: str) -> Host:
    hosts = load()
    if name not in hosts:
        known = ", ".join([LOCAL, *hosts])
        raise LabgenError(f"no host named {name!r}; hosts: {known} (labgen hosts add NAME ssh://USER@ADDRESS)")
    return hosts[name]


def check(host: Host) -> str:
    """The host's labgen version, asked over ssh; one line for a refused key, an unknown host, no
    labgen there."""
    try:
        done = host.labgen(["--version"], timeout=CONNECT_TIMEOUT + 20)
    except subprocess.TimeoutExpired:
        raise LabgenError(f"host {host.name} ({host.url}) did not answer in {CONNECT_TIMEOUT + 20} s"
                          ) from None
    if done.returncode == 255:  # ssh's own failure: the connection, the key, the host key
        hint = ""
        if "verification failed" in done.stderr:
            hint = (f" (its host key is not the one pinned when it was added; if it was reinstalled: labgen "
                    f"hosts remove {host.name}, then add it again)")
        raise LabgenError(f"host {host.name} ({host.url}): ssh: {last_line(done)}{hint}")
    if done.returncode == 127:
        raise LabgenError(f"host {host.name} ({host.url}) has no labgen on its PATH: install it there")
    if done.returncode != 0 or not done.stdout.startswith("labgen "):
        raise LabgenError(f"host {host.name} ({host.url}): labgen --version: {last_line(done)}")
    return done.stdout.split()[1]


def check_same(host: Host) -> str:
    """check(), and one line unless the host runs this labgen (its answers may not read as ours)."""
    if (theirs := check(host)) != (ours := version("labgen")):
        raise LabgenError(f"host {host.name} runs labgen {theirs}, this one {ours}: install the same on both")
    return theirs
