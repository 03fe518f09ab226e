"""A lab instance on disk: the rendered directory and its resolved description (lab.json).

The directory is the contract between rendering, providers and verification:

    LAB/lab.json            the resolved lab (this module's LabSpec)
    LAB/Vagrantfile         vagrant-libvirt machines
    LAB/provision/NODE.sh   one self-contained, idempotent root shell provisioner per node
    LAB/files/NODE/...      every config file the provisioner writes, at its path on the node
    LAB/tests/              the blueprint's testinfra suite (runs with plain pytest from LAB)
    LAB/README.md           the handout: what the lab is, how to bring it up and check it
    LAB/topology.svg        its picture (labgen graph)
    LAB/ssh_config          written by the provider at `up`: Host NODE entries usable by ssh -F
    LAB/state/              provider state (pids, sockets, ControlMaster paths)
    LAB/logs/               full logs of up/down/provisioning; up.json: where up's time went
    LAB/up-state.json       how far `labgen up` got: starting (begun, not finished) or up
    LAB/.labgen-lab         the marker: every file render wrote, with its sha256 (labgen.render.manifest)
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, Field

from labgen.errors import LabgenError

LAB_NAME = re.compile(r"[a-z][a-z0-9-]{0,19}")  # always matched whole: "ab\n" is no lab name


def check_lab_name(name: str) -> str:
    if not LAB_NAME.fullmatch(name):
        raise LabgenError(
            f"lab name {name!r}: use 1-20 lowercase letters, digits and dashes, starting with a"
            " letter (it names the lab's network namespace)"
        )
    return name


class NetworkSpec(BaseModel):
    name: str
    cidr: str
    interface: str  # the NIC name on every node (eth1, eth2); eth0 is the management NIC
    bridge: str  # bridge name inside the lab namespace


class NodeSpec(BaseModel):
    name: str
    hostname: str
    role: Literal["preferred", "backup"]
    box: str
    addresses: dict[str, str]  # network name -> address on that network
    daemons: dict[str, str] = {}  # package -> major.minor on the node's release (boxes/releases.yaml)

    def daemon_version(self, package: str) -> tuple[int, ...]:
        """A daemon's version on this node, for the settings and commands that changed with it."""
        return tuple(int(part) for part in self.daemons[package].split("."))


class Resources(BaseModel):
    """A node's limits (the blueprint's resources, resolved): cgroup and writable layer."""

    pids: int
    memory_mb: int
    disk_mb: int
    cpu_weight: int


class Skip(BaseModel):
    """A group of checks that cannot run on this lab, with the reason shown to the user."""

    what: str
    reason: str


class Departure(BaseModel):
    what: str
    why: str


class ClaimSpec(BaseModel):
    """A tutorial claim and the tests (pytest ids relative to LAB/tests) that prove it."""

    id: str
    quote: str
    tests: list[str]
    note: str = ""


class LabSpec(BaseModel):
    name: str
    blueprint: str
    title: str
    provider: str = Field(pattern=r"^[a-z]+$")  # a name in labgen.providers.PROVIDERS (render checks)
    service: str  # the HA protocol, a name in labgen.protocols.PROTOCOLS
    daemon: str  # the systemd unit that owns the VIP (keepalived, heartbeat)
    secret_field: str = ""  # the param holding the nodes' shared secret (the protocol's)
    web: str  # the systemd unit serving HTTP (nginx, apache2)
    vip: str
    vip_network: str
    http_port: int = 80
    networks: dict[str, NetworkSpec]
    nodes: list[NodeSpec]
    client: list[str]  # addresses of the client seat ("your local computer") on vip_network
    namespace: str  # the lab's network namespace; every bridge lives in it
    features: dict[str, bool]  # what the provider offers on this host, e.g. {"ip_vs": False}
    skipped: list[Skip] = []
    params: dict  # the blueprint's service parameters, resolved (secrets filled in)
    pages: dict[str, str]  # node -> the page served on the VIP by that node
    packages: list[str] = []  # what the provisioner installs (the blueprint's packages:)
    services: list[str] = []  # the units it enables and starts, in order (the blueprint's services:)
    departures: list[Departure] = []
    claims: list[ClaimSpec] = []
    resources: Resources

    @property
    def secret(self) -> str | None:
        """The nodes' shared secret, if the protocol has one and it is set."""
        value = self.params.get(self.secret_field) if self.secret_field else None
        return str(value) if value else None

    @property
    def boxes(self) -> list[str]:
        """The boxes the lab's nodes boot from."""
        return sorted({node.box for node in self.nodes})

    def node(self, name: str, client: bool = True) -> NodeSpec:
        """The node of that name; else one line naming the lab's nodes (and the client seat, where
        the asking command also takes it)."""
        for node in self.nodes:
            if node.name == name:
                return node
        known = ", ".join([n.name for n in self.nodes] + (["client"] if client else []))
        raise LabgenError(f"lab {self.name!r} has no node {name!r}; its nodes: {known}")

    def claim(self, claim_id: str) -> ClaimSpec:
        for claim in self.claims:
            if claim.id == claim_id:
                return claim
        known = ", ".join(c.id for c in self.claims) or "none"
        raise LabgenError(f"lab {self.name!r} has no claim {claim_id!r}; its claims: {known}")

    @property
    def preferred(self) -> NodeSpec:
        return next(n for n in self.nodes if n.role == "preferred")

    @property
    def client_namespace(self) -> str:
        return f"{self.namespace}.client"

    def node_namespace(self, node: str) -> str:
        """A container node's namespace (and machine name). Joined by a dot, which lab names never
        hold, so lab `a`'s node `lb0` and lab `a-lb0` can never meet."""
        return f"{self.namespace}.{node}"


MARKER = ".labgen-lab"

# how far `labgen up` got: rendered (never started), starting (an up began and has not finished:
# interrupted or failed; up again finishes it), up (machines provisioned, the VIP elected)
UpState = Literal["rendered", "starting", "up"]


def is_lab_dir(path: Path) -> bool:
    """A lab folder under LABGEN_HOME/labs (root's, only labgen writes there): `down` may delete it.
    A folder elsewhere must prove that labgen rendered it before render replaces it
    (labgen.render.manifest)."""
    if path.is_symlink() or not path.is_dir():
        return False
    return (path / MARKER).is_file() or (path / "lab.json").is_file()


class Lab:
    """A lab directory; cheap to construct, reads lab.json once."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.spec = LabSpec.model_validate(json.loads((path / "lab.json").read_text()))
        except FileNotFoundError:
            raise LabgenError(f"{path} is not a lab directory (no lab.json)") from None
        except (OSError, ValueError, RecursionError) as exc:  # JSON, UTF-8, pydantic: ValueErrors
            reason = str(exc).splitlines()[0]
            raise LabgenError(
                f"{path / 'lab.json'} is unreadable ({reason}); `labgen down {path.name}` removes the lab"
            ) from None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def state_dir(self) -> Path:
        return self._mkdir("state")

    @property
    def logs_dir(self) -> Path:
        return self._mkdir("logs")

    @property
    def up_record(self) -> Path:
        """Written by `labgen up`: machines ready, first election, total (labgen.cli.up)."""
        return self.path / "logs" / "up.json"

    @property
    def up_state(self) -> UpState:
        """What the last `labgen up` of this lab recorded; a record that cannot be read counts as an
        up that did not finish (up again finishes it)."""
        try:
            state = json.loads(self._up_state_file.read_text())["state"]
        except FileNotFoundError:
            return "rendered"
        except (OSError, ValueError, TypeError, KeyError, RecursionError):
            return "starting"
        return state if state in get_args(UpState) else "starting"

    def record_up_state(self, state: UpState) -> None:
        """Written whole or not at all (a new file renamed over the old): an interrupted `up` never
        leaves half a record."""
        with tempfile.NamedTemporaryFile("w", dir=self.path, prefix=".up-state.", delete=False) as file:
            json.dump({"state": state}, file)
        os.replace(file.name, self._up_state_file)

    @property
    def _up_state_file(self) -> Path:
        return self.path / "up-state.json"

    @property
    def claims_record(self) -> Path:
        """Written by every run of the lab's suite: each claim's verdict (labgen.verify.claims)."""
        return self.path / "logs" / "claims.json"

    @property
    def ssh_config(self) -> Path:
        return self.path / "ssh_config"

    def _mkdir(self, name: str) -> Path:
        folder = self.path / name
        folder.mkdir(exist_ok=True)
        return folder
