"""Corosync 3 and Pacemaker 2: corosync keeps the membership (knet over UDP), pacemaker runs the
VIP (ocf:heartbeat:IPaddr2) and nginx (systemd:nginx) as cluster resources. The way the
heartbeat-nginx lab is done today."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Literal
from xml.etree import ElementTree

from pydantic import Field, model_validator

from labgen.grammar import Int, Strict
from labgen.protocols.base import NodeView, Protocol

if TYPE_CHECKING:
    from labgen.providers.base import Provider


# ---- the blueprint's `pacemaker:` section ------------------------------------------------------


class Pacemaker(Strict):
    """corosync.conf's totem timings and the cluster's resources, as crm configure writes them."""

    token: Int = Field(3000, ge=100, le=60000, description="ms without the token before a node is lost")
    consensus: Int | None = Field(None, ge=100, le=120000, description="ms; corosync's default: 1.2 x token")
    port: Int = Field(5405, ge=1, le=65535, description="corosync's knet UDP port")
    network: str = Field("vlan", description="where corosync's membership traffic travels")
    vip_network: str = Field("public", description="the network whose NIC gets the VIP (IPaddr2's nic)")
    resource_stickiness: Int = Field(
        0,
        ge=0,
        le=1000000,
        description="0 moves the group back to the preferred node when it returns (heartbeat's"
        " auto_failback on); 100 or more keeps it where it runs",
    )
    monitor_interval: Int = Field(2, ge=1, le=3600, description="s between checks of each resource")
    two_node: bool = Field(True, description="votequorum's two-node mode: the survivor keeps quorum")
    secret: str | None = Field(None, pattern=r"^[0-9a-f]{128,512}$", description="corosync authkey; per lab")
    cipher: Literal["aes256", "aes192", "aes128", "none"] = Field(
        "aes256", description="knet's crypto_cipher (with sha256 signing unless none)"
    )

    @model_validator(mode="after")
    def _consensus_above_token(self) -> Pacemaker:
        if self.consensus is not None and self.consensus <= self.token:
            raise ValueError("consensus must be longer than token (corosync refuses to start)")
        return self

    @property
    def consensus_ms(self) -> int:
        return int(consensus_ms({"token": self.token, "consensus": self.consensus}))


# ---- the protocol ------------------------------------------------------------------------------

GROUP = "site"  # the resource group: the VIP, then nginx, always together
PREFERENCE = 100  # the location score of the group on the preferred node (cluster.crm.j2)
# pacemaker's default dc-deadtime: controllers that start with no DC wait this long before they
# elect one (the cluster's own setting is read only after that first election)
DC_DEADTIME_S = 20


class PacemakerProtocol(Protocol):
    name = "pacemaker"
    unit = "pacemaker"
    secret_field = "secret"
    network_fields = ("network", "vip_network")
    vip_network_field = "vip_network"
    names_nodes_by_uname = True
    agent_under_tcg_s = 9  # IPaddr2 is a shell script too (as heartbeat's IPaddr)
    # nginx stopped, the IP released, then taken on lb1 and nginx started there (systemd
    # resources are polled: a start takes about 2 s); measured 2.7 s on nspawn
    clean_handover_s = 5
    # a crashed pacemaker leaves the IP where it was, and without fencing the peer takes it too
    takeover_faults = ("stop", "freeze", "link-down", "reset")

    def with_secret(self, section):
        return section if section.secret else section.model_copy(update={"secret": secrets.token_hex(64)})

    def cluster_traffic(self, params: dict) -> list[str]:
        return ["-p", "udp", "--dport", str(params["port"])]

    def settle_time(self, params: dict) -> float:
        # a new membership, then a DC election (dc-deadtime 20 s when a node starts alone) and
        # the group's start
        return 4 * _membership_ms(params) / 1000 + 40

    def quiet_time(self, params: dict) -> float:
        return 2 * _membership_ms(params) / 1000 + 3

    def expected_failover(self, params: dict, fault: str) -> tuple[float | None, str]:
        if fault in ("stop", "reboot"):
            return None, "a stopping pacemaker moves its resources to the peer first"
        return _membership_ms(params), "token + consensus (at most: the token timer runs from the last token)"

    def earliest_failover(self, params: dict, fault: str) -> tuple[float | None, str]:
        if fault in ("stop", "reboot"):
            return None, "a stopping pacemaker moves its resources first"
        return float(consensus_ms(params)), (
            "consensus (corosync drops a lost node only once the consensus timer, started when the "
            "token is lost, runs out)")

    def expected_election(self, params: dict) -> tuple[float, str]:
        return DC_DEADTIME_S * 1000, "dc-deadtime: after a cold start, the controllers wait 20 s for a DC"

    def fails_back(self, params: dict) -> bool:
        return params["resource_stickiness"] < PREFERENCE

    def node_view(self, provider: Provider, node: str, holds_vip: bool) -> NodeView:
        return NodeView(vip=holds_vip, daemon=cluster_state(provider, node).word)

    def daemons_settled(self, views: list[NodeView]) -> bool:
        return all(view.daemon == "online" for view in views)


def membership_s(params: dict) -> float:
    """token + consensus: how long corosync takes to form a new membership without a node."""
    return _membership_ms(params) / 1000


def _membership_ms(params: dict) -> float:
    return params["token"] + consensus_ms(params)


def consensus_ms(params: dict) -> float:
    """corosync's consensus timeout: the blueprint's, else its default of 1.2 x token."""
    return params["consensus"] if params.get("consensus") is not None else 1.2 * params["token"]


class ClusterState:
    """What one node's crm_mon says: whether it is in a quiet, quorate cluster, and where the
    group's resources run."""

    def __init__(self, xml: str | None, node: str):
        self.word = "pacemaker down"
        self.running_on: set[str] = set()
        if xml is None:
            return
        root = ElementTree.fromstring(xml)
        resources = root.findall("resources//resource")
        for resource in resources:
            if resource.get("active") == "true":
                self.running_on |= {n.get("name") for n in resource.findall("node")}
        self.word = _word(root, resources, node)


def _word(root: ElementTree.Element, resources: list[ElementTree.Element], node: str) -> str:
    dc = root.find("summary/current_dc")
    me = root.find(f"nodes/node[@name='{node}']")
    if any(int(r.get("nodes_running_on", "0")) > 1 for r in resources):
        return "active on both"
    if dc is None or dc.get("present") != "true":
        return "electing"
    if dc.get("with_quorum") != "true":
        return "no quorum"
    if me is None or me.get("online") != "true" or me.get("pending") == "true":
        return "joining"
    if any(r.get("failed") == "true" or r.get("blocked") == "true" for r in resources):
        return "failed"
    if any(r.get("role") not in ("Started", "Stopped") or r.get("pending") for r in resources):
        return "transition"
    return "online"


def cluster_state(provider: Provider, node: str) -> ClusterState:
    answer = provider.exec(node, ["crm_mon", "-1", "--output-as=xml"], timeout=15)
    return ClusterState(answer.stdout if answer.returncode == 0 else None, node)


PROTOCOL = PacemakerProtocol()
