"""What a blueprint may say. Every class forbids unknown keys so typos are caught with a hint."""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Network
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from labgen.model.grammar import (
    ConfigWord,
    Float,
    HostName,
    InnerPath,
    Int,
    NodePath,
    PackageName,
    SysctlKey,
    SysctlValue,
    UnitName,
    not_client,
)

NodeName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,9}$"), AfterValidator(not_client)]  # names veths
Priority = Annotated[Int, Field(ge=1, le=254)]
NetworkName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{0,11}$")]  # its bridge is br-NAME: 15 at most
# a test of the blueprint's suite, as pytest names it from tests/: test_6_vip.py::test_vip_answers
TestId = Annotated[str, Field(pattern=r"^test_[A-Za-z0-9_]+\.py::test_[A-Za-z0-9_]+$")]
BoxName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9.-]{0,39}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


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


class LVS(Strict):
    """The tutorial's virtual_server block."""

    delay_loop: Int = Field(30, ge=1)
    lb_algo: Literal["rr", "wrr", "lc", "wlc", "sh", "dh"] = "rr"
    lb_kind: Literal["DR", "NAT", "TUN"] = "DR"
    persistence_timeout: Int = Field(50, ge=0)
    protocol: Literal["TCP", "UDP"] = "TCP"


class HealthCheck(Strict):
    """HTTP_GET with a digest of the page: a real server whose page changes leaves the pool."""

    url: str = Field("/", pattern=r"^/[A-Za-z0-9._~/%-]*$")
    connect_timeout: Int = Field(3, ge=1)
    retry: Int = Field(3, ge=0)  # the tutorial's nb_get_retry, deprecated in keepalived 2
    delay_before_retry: Int = Field(2, ge=0)


class Keepalived(Strict):
    vrrp_version: Literal[2, 3] = 2
    virtual_router_id: Int = Field(1, ge=1, le=255)
    advert_int: Float = Field(1.0, gt=0, le=255)
    priorities: dict[Literal["preferred", "backup"], Priority] = {"preferred": 100, "backup": 50}
    network: str = "public"  # where VRRP speaks and the VIP lives (the tutorial's eth0)
    auth_type: Literal["PASS", "none"] = "PASS"
    auth_pass: ConfigWord | None = None  # generated per lab when unset
    router_ids: dict[Literal["preferred", "backup"], ConfigWord] = {
        "preferred": "LVS_MASTER",
        "backup": "LVS_SLAVE",
    }
    # seconds between the master's repeated gratuitous ARPs (0: only on becoming master, as the
    # tutorial): after a healed split brain the master never becomes master again, so clients that
    # learned the backup's MAC keep it, and the backup serves them behind LVS's back
    garp_master_refresh: Int = Field(10, ge=0, le=3600)
    lvs: LVS = LVS()
    health_check: HealthCheck = HealthCheck()

    @field_validator("priorities", "router_ids")
    @classmethod
    def _both_roles(cls, value: dict) -> dict:
        if missing := {"preferred", "backup"} - value.keys():
            raise ValueError(f"give both preferred and backup (missing: {', '.join(sorted(missing))})")
        return value

    @field_validator("auth_pass")
    @classmethod
    def _vrrp_keeps_eight(cls, value: str | None) -> str | None:
        if value is not None and not 1 <= len(value) <= 8:
            raise ValueError(
                f"{len(value)} characters; VRRP PASS authentication keeps only the first 8,"
                " so use 1 to 8 characters"
            )
        return value

    @model_validator(mode="after")
    def _version_rules(self) -> Keepalived:
        if self.vrrp_version == 3 and self.auth_type != "none":
            raise ValueError("VRRPv3 has no authentication: set auth_type to none")
        if self.vrrp_version == 2 and self.advert_int != int(self.advert_int):
            raise ValueError("VRRPv2 advert_int is whole seconds: use vrrp_version 3 for less")
        return self


DURATION = re.compile(r"^(\d+)(ms)?$")


class Heartbeat(Strict):
    """ha.cf timings as heartbeat writes them: seconds, or milliseconds with an ms suffix."""

    keepalive: str = "1"
    warntime: str = "3"
    deadtime: str = "5"
    initdead: str = "10"
    udpport: Int = Field(694, ge=1, le=65535)
    auto_failback: bool = True
    network: str = "vlan"  # where heartbeats travel
    vip_network: str = "public"
    resource_agent: Literal["IPaddr", "IPaddr2"] = "IPaddr"
    auth: Literal["sha1", "md5", "crc"] = "sha1"
    secret: ConfigWord | None = None  # generated per lab when unset

    @field_validator("keepalive", "warntime", "deadtime", "initdead", mode="before")
    @classmethod
    def _duration(cls, value: object) -> str:
        text = str(value)
        if not DURATION.match(text):
            raise ValueError(f"{text!r} is not a duration: use whole seconds (5) or ms (500ms)")
        return text

    @model_validator(mode="after")
    def _ordered(self) -> Heartbeat:
        if seconds(self.deadtime) <= seconds(self.keepalive):
            raise ValueError("deadtime must be longer than keepalive")
        return self


def seconds(duration: str) -> float:
    number, ms = DURATION.match(duration).groups()  # type: ignore[union-attr]
    return int(number) / 1000 if ms else float(number)


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
    keepalived: Keepalived | None = None
    heartbeat: Heartbeat | None = None
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
    def service(self) -> Literal["keepalived", "heartbeat"]:
        return "keepalived" if self.keepalived else "heartbeat"

    @model_validator(mode="after")
    def _one_service(self) -> Blueprint:
        if (self.keepalived is None) == (self.heartbeat is None):
            raise ValueError("a blueprint configures exactly one of keepalived or heartbeat")
        return self
