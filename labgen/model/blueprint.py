"""What a blueprint may say. Every class forbids unknown keys so typos are caught with a hint."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from labgen.grammar import (
    NODE_NAME,
    HostName,
    InnerPath,
    NodePath,
    PackageName,
    Strict,
    SysctlKey,
    SysctlValue,
    UnitName,
    not_client,
)
from labgen.protocols.heartbeat import Heartbeat
from labgen.protocols.keepalived import Keepalived
from labgen.protocols.pacemaker import Pacemaker

NodeName = Annotated[str, Field(pattern=rf"^{NODE_NAME}$"), AfterValidator(not_client)]
NetworkName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{0,11}$")]  # its bridge is br-NAME: 15 at most
# a test of the blueprint's suite, as pytest names it from tests/: test_6_vip.py::test_vip_answers
TestId = Annotated[str, Field(pattern=r"^test_[A-Za-z0-9_]+\.py::test_[A-Za-z0-9_]+$")]
BoxName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9.-]{0,39}$")]


class Source(Strict):
    """Where the blueprint comes from: the tutorial it reproduces."""

    publisher: str = Field(description="shown by `labgen show`")
    title: str = Field(description="shown by `labgen show`")
    file: InnerPath = Field(description="the tutorial text under shared/tutorials")


class Network(Strict):
    cidr: IPv4Network = Field(description="the network's addresses")
    interface: str = Field(pattern=r"^eth[1-9]$", description="eth0 is the management NIC")
    purpose: str = Field("", description="shown by `labgen show` and as a comment in the provisioner")


class Node(Strict):
    name: NodeName = Field(description="the node's name in commands (`labgen exec LAB lb0 -- ...`)")
    hostname: HostName | None = Field(
        None, description="defaults to name; a protocol that knows nodes by `uname -n` needs the two equal"
    )
    role: Literal["preferred", "backup"] = Field(
        description="the `preferred` node holds the VIP when both run"
    )
    box: BoxName | None = Field(None, description="defaults to the blueprint's box")
    addresses: dict[str, IPv4Address] = Field(description="one host address per network, by network name")
    page: str = Field(
        description="what this node's web server answers on the VIP, so a client sees who served"
    )


class File(Strict):
    """A config file the provisioner writes, rendered from the blueprint's templates/."""

    path: NodePath = Field(description="where the file goes on the node")
    template: InnerPath = Field(description="a Jinja2 file in the blueprint's templates/")
    mode: str = Field("0644", pattern=r"^0[0-7]{3}$", description="octal file mode")
    step: str = Field(
        description="the tutorial step this file implements, shown as a comment in the provisioner"
    )


class Resources(Strict):
    """What each node may use on containers: its cgroup's limits and its writable layer. The
    defaults hold the shipped blueprints' nodes several times over (docs/security.md has the
    measured needs); a class may change them (`labgen class up ... --set resources.memory_mb=512`)."""

    pids: int = Field(512, ge=64, le=32768, description="processes and threads per node: a fork stops there")
    memory_mb: int = Field(256, ge=64, le=65536, description="RAM per node (MiB), no swap; writes count")
    disk_mb: int = Field(256, ge=32, le=65536, description="the node's writable layer in MiB (a tmpfs)")
    cpu_weight: int = Field(100, ge=1, le=10000, description="CPU share against other nodes (v2 scale)")


class Departure(Strict):
    what: str = Field(description="what the lab does differently")
    why: str = Field(description="why")


class Claim(Strict):
    """A behaviour the tutorial promises, and the tests of the blueprint's suite that prove it."""

    id: str = Field(
        pattern=r"^[a-z][a-z0-9-]{0,39}$", description="the claim's name in reports and breakages"
    )
    quote: str = Field(min_length=1, description="the tutorial's own words")
    tests: list[TestId] = Field(
        min_length=1, description="the tests that prove it; each must exist in the suite"
    )
    note: str = Field(
        "",
        description="where the tutorial's figure does not hold, and what the test asserts instead",
    )


class Blueprint(Strict):
    name: str = Field(
        pattern=r"^[a-z][a-z0-9-]*$",
        description="the blueprint's name, and the default lab name at `labgen up`",
    )
    title: str = Field(description="one line, shown by `labgen list`")
    source: Source = Field(description="the tutorial this blueprint reproduces")
    box: BoxName = Field("debian-12", description="the box every node boots from (`labgen box build`)")
    networks: dict[NetworkName, Network] = Field(
        description="the lab networks by name; each is a bridge inside the lab's namespace"
    )
    vip: IPv4Address = Field(description="the floating IP: a host address of `vip_network`")
    vip_network: str = Field("public", description="the network of the VIP and of the client seat")
    client: list[IPv4Address] = Field(
        min_length=1,
        description="the client seat's addresses on `vip_network` (the tutorial's own computer)",
    )
    nodes: list[Node] = Field(
        min_length=2, max_length=2, description="exactly two: one `preferred`, one `backup`"
    )
    # the HA protocol: exactly one of these sections, each a model of its module in labgen/protocols/
    keepalived: Keepalived | None = Field(
        None, description="set exactly one of `keepalived`, `heartbeat` and `pacemaker`"
    )
    heartbeat: Heartbeat | None = Field(
        None, description="set exactly one of `keepalived`, `heartbeat` and `pacemaker`"
    )
    pacemaker: Pacemaker | None = Field(
        None, description="set exactly one of `keepalived`, `heartbeat` and `pacemaker`"
    )
    web: Literal["nginx", "apache2"] = Field(description="the web server (package and systemd unit)")
    web_root: NodePath = Field(description="the folder of the served `index.html`")
    packages: list[PackageName] = Field(
        description="Debian packages the provisioner installs if the box lacks them"
    )
    files: list[File] = Field(description="config files the provisioner writes, in this order")
    sysctl: dict[SysctlKey, SysctlValue] = Field(
        {}, description="kernel settings, written to /etc/sysctl.d/60-labgen.conf and applied"
    )
    services: list[UnitName] = Field(
        description="systemd units enabled and restarted, in this order, as the last step"
    )
    resources: Resources = Field(
        default_factory=Resources, description="per node, on containers: processes, memory, disk, CPU weight"
    )
    tests: InnerPath = Field("tests", description="the blueprint's folder holding its testinfra suite")
    departures: list[Departure] = Field(
        [], description="where the lab departs from the tutorial, and why (`labgen show`)"
    )
    claims: list[Claim] = Field(
        [], description="what the tutorial promises, each proven by named tests (`labgen verify`)"
    )

    @property
    def service(self) -> str:
        """The protocol section set (its name is the protocol's, in labgen/protocols/)."""
        return next(name for name in PROTOCOL_SECTIONS if getattr(self, name) is not None)

    @property
    def protocol_params(self) -> Strict:
        return getattr(self, self.service)

    @model_validator(mode="after")
    def _one_service(self) -> Blueprint:
        if sum(getattr(self, name) is not None for name in PROTOCOL_SECTIONS) != 1:
            raise ValueError("a blueprint configures exactly one of keepalived, heartbeat or pacemaker")
        return self


PROTOCOL_SECTIONS = ("keepalived", "heartbeat", "pacemaker")
