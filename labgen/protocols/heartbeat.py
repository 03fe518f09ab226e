"""Linux-HA heartbeat 3 (v1 style, haresources): the nodes' heartbeats over UDP, resources moved
by its resource scripts (IPaddr for the VIP)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator, model_validator

from labgen.grammar import DURATION, ConfigWord, Int, Strict, seconds
from labgen.protocols.base import Loc, NodeView, Protocol

if TYPE_CHECKING:
    from labgen.providers.base import Provider

# ---- the blueprint's `heartbeat:` section -----------------------------------------------------


class Heartbeat(Strict):
    """ha.cf timings as heartbeat writes them: seconds, or milliseconds with an ms suffix."""

    keepalive: str = Field("1", description="how often a heartbeat is sent")
    warntime: str = Field("3", description="a late heartbeat is logged after this")
    deadtime: str = Field("5", description="the peer is declared dead after this: the crash failover time")
    initdead: str = Field("10", description="at start, how long to wait for the peer")
    udpport: Int = Field(694, ge=1, le=65535, description="the UDP port of the heartbeats")
    auto_failback: bool = Field(True, description="the preferred node takes the VIP back when it returns")
    network: str = Field("vlan", description="where heartbeats travel")
    vip_network: str = Field("public", description="the network whose NIC gets the VIP")
    resource_agent: Literal["IPaddr", "IPaddr2"] = Field(
        "IPaddr", description="`IPaddr` (needs net-tools) or `IPaddr2` (uses ip)"
    )
    auth: Literal["sha1", "md5", "crc"] = Field("sha1", description="the authkeys method")
    secret: ConfigWord | None = Field(None, description="generated per lab when unset")

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


# ---- the protocol ------------------------------------------------------------------------------

# heartbeat waits this long after the nodes have met before it asks for its resources; fixed in
# its source (RQSTDELAY), no ha.cf setting changes it
RQSTDELAY_S = 10
STEADY = ("local", "all", "none")  # cl_status rscstatus outside a transition


class HeartbeatProtocol(Protocol):
    name = "heartbeat"
    unit = "heartbeat"
    secret_field = "secret"
    network_fields = ("network", "vip_network")
    vip_network_field = "vip_network"
    names_nodes_by_uname = True
    # the IPaddr agent is a shell script: 6-7 s more per run under TCG on a quiet host, up to 9 s
    # on a busy one (measured; docs/blueprints/heartbeat-nginx.md), and 11-15 s on 2026-12-02 (a
    # CI-like run on this 2-core host: stop 22.8 s and reboot 30 s for two runs, crash 18.5 s for
    # deadtime + one)
    agent_under_tcg_s = 15

    def checks(self, bp) -> Iterator[tuple[Loc, str]]:
        if seconds(bp.heartbeat.keepalive) <= 0:
            yield ("heartbeat", "keepalive"), (
                "a keepalive of 0 sends heartbeats without pause; use 1 or 500ms"
            )

    def with_secret(self, section):
        return section if section.secret else section.model_copy(update={"secret": secrets.token_hex(16)})

    def cluster_traffic(self, params: dict) -> list[str]:
        return ["-p", "udp", "--dport", str(params["udpport"])]

    def settle_time(self, params: dict) -> float:
        # a healed partition restarts heartbeat on both nodes: initdead plus its ~11 s start delay
        return 4 * seconds(params["initdead"]) + 40

    def quiet_time(self, params: dict) -> float:
        """A healed partition makes heartbeat restart itself a few seconds later (after "returning
        after partition"); a fault injected in that gap can leave both nodes owning the VIP for good."""
        return seconds(params["deadtime"]) + 5

    def expected_failover(self, params: dict, fault: str) -> tuple[float | None, str]:
        if fault in ("stop", "reboot"):
            return None, "a stopping heartbeat releases its resources and tells its peer at once"
        return seconds(params["deadtime"]) * 1000, "deadtime: the peer is declared dead after it"

    def earliest_failover(self, params: dict, fault: str) -> tuple[float | None, str]:
        if fault in ("stop", "reboot"):
            return None, "a stopping heartbeat hands over at once"
        return (seconds(params["deadtime"]) - seconds(params["keepalive"])) * 1000, (
            "deadtime less one keepalive (the last heartbeat came at most one keepalive before the fault)")

    def expected_election(self, params: dict) -> tuple[float, str]:
        return RQSTDELAY_S * 1000, "heartbeat's fixed resource request delay (RQSTDELAY)"

    def fails_back(self, params: dict) -> bool:
        return params["auto_failback"]

    def node_view(self, provider: Provider, node: str, holds_vip: bool) -> NodeView:
        return NodeView(vip=holds_vip, daemon=_resources(provider, node))

    def daemons_settled(self, views: list[NodeView]) -> bool:
        """None moving resources or restarting, and not both claiming them all (a stuck split brain)."""
        states = [view.daemon for view in views]
        return all(state in STEADY for state in states) and states.count("all") <= 1

    def unwedge(self, provider: Provider) -> list[str]:
        """On TCG VMs, heartbeat on the node that took over from a gracefully stopped peer now and
        then says "transition" for good (seen for over 100 s, the VIP served all along, and still
        after the peer took it back); restarted, it rejoins at once."""
        stuck = [n.name for n in provider.lab.spec.nodes if _resources(provider, n.name) == "transition"]
        for node in stuck:
            provider.exec(node, ["systemctl", "restart", self.unit], timeout=120)
        return stuck


def _resources(provider: Provider, node: str) -> str:
    """What heartbeat says it runs (local, all, none, transition), or "heartbeat down"."""
    answer = provider.exec(node, ["cl_status", "rscstatus"], timeout=10)
    return answer.stdout.strip() if answer.returncode == 0 else "heartbeat down"


PROTOCOL = HeartbeatProtocol()
