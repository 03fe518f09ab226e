"""What a blueprint may say. Every class forbids unknown keys so typos are caught with a hint."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from labgen.model.grammar import (
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

NodeName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,9}$"), AfterValidator(not_client)]  # names veths
NetworkName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{0,11}$")]  # its bridge is br-NAME: 15 at most
# a test of the blueprint's suite, as pytest names it from tests/: test_6_vip.py::test_vip_answers
TestId = Annotated[str, Field(pattern=r"^test_[A-Za-z0-9_]+\.py::test_[A-Za-z0-9_]+$")]
BoxName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9.-]{0,39}$")]


class Source(Strict):
    """Where the blueprint comes from: the tutorial it reproduces."""

    publisher: str
    title: str
    file: InnerPath  # the tutorial text under shared/tutorials


class Network(Strict):
    cidr: IPv4Network
    interface: str = Field(pattern=r"^eth[1-9]$")  # eth0 is the management NIC
    purpose: str = ""


class Node(Strict):
    name: NodeName
    hostname: HostName | None = None  # defaults to name; heartbeat needs hostname == node name
    role: Literal["preferred", "backup"]
    box: BoxName | None = None  # defaults to the blueprint's box
    addresses: dict[str, IPv4Address]
    page: str  # what this node's web server answers on the VIP, so a client sees who served


class File(Strict):
    """A config file the provisioner writes, rendered from the blueprint's templates/."""

    path: NodePath
    template: InnerPath
    mode: str = Field("0644", pattern=r"^0[0-7]{3}$")
    step: str  # the tutorial step this file implements, shown as a comment in the provisioner


class Departure(Strict):
    what: str
    why: str


class Claim(Strict):
    """A behaviour the tutorial promises, and the tests of the blueprint's suite that prove it."""

    id: str = Field(pattern=r"^[a-z][a-z0-9-]{0,39}$")
    quote: str = Field(min_length=1)  # the tutorial's own words
    tests: list[TestId] = Field(min_length=1)
    note: str = ""  # where the tutorial's figure does not hold, and what the test asserts instead


class Blueprint(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    title: str
    source: Source
    box: BoxName = "debian-12"
    networks: dict[NetworkName, Network]
    vip: IPv4Address
    vip_network: str = "public"
    client: list[IPv4Address] = Field(min_length=1)
    nodes: list[Node] = Field(min_length=2, max_length=2)
    # the HA protocol: exactly one of these sections, each a model of its module in labgen/protocols/
    keepalived: Keepalived | None = None
    heartbeat: Heartbeat | None = None
    pacemaker: Pacemaker | None = None
    web: Literal["nginx", "apache2"]
    web_root: NodePath
    packages: list[PackageName]
    files: list[File]
    sysctl: dict[SysctlKey, SysctlValue] = {}
    services: list[UnitName]
    tests: InnerPath = "tests"
    departures: list[Departure] = []
    claims: list[Claim] = []

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
