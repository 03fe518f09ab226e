"""Linux-HA heartbeat 3 (v1 style, haresources): the nodes' heartbeats over UDP, resources moved
by its resource scripts (IPaddr for the VIP)."""

from __future__ import annotations

import secrets

from labgen.model.blueprint import seconds
from labgen.protocols.base import NodeView, Protocol
from labgen.providers.base import Provider
from labgen.verify.poll import wait_for

# heartbeat waits this long after the nodes have met before it asks for its resources; fixed in
# its source (RQSTDELAY), no ha.cf setting changes it
RQSTDELAY_S = 10
STEADY = ("local", "all", "none")  # cl_status rscstatus outside a transition


class Heartbeat(Protocol):
    name = "heartbeat"
    unit = "heartbeat"

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

    def expected_election(self, params: dict) -> tuple[float, str]:
        return RQSTDELAY_S * 1000, "heartbeat's fixed resource request delay (RQSTDELAY)"

    def node_view(self, provider: Provider, node: str, holds_vip: bool) -> NodeView:
        return NodeView(vip=holds_vip, daemon=_resources(provider, node))

    def daemons_settled(self, views: list[NodeView]) -> bool:
        """None moving resources or restarting, and not both claiming them all (a stuck split brain)."""
        states = [view.daemon for view in views]
        return all(state in STEADY for state in states) and states.count("all") <= 1

    def wait_taken_over(self, provider: Provider, node: str) -> None:
        """Heartbeat asked for its resources back while it was still acquiring them (the other node
        restarted as soon as the VIP answered) stayed in transition for over 100 s on TCG VMs,
        where the IPaddr agent alone takes 9 s."""
        wait_for(
            lambda: _resources(provider, node),
            lambda seen: seen == "all",
            expected=f"heartbeat on {node} holding every resource (cl_status rscstatus: all)",
            timeout=self.settle_time(provider.lab.spec.params),
        )


def _resources(provider: Provider, node: str) -> str:
    """What heartbeat says it runs (local, all, none, transition), or "heartbeat down"."""
    answer = provider.exec(node, ["cl_status", "rscstatus"], timeout=10)
    return answer.stdout.strip() if answer.returncode == 0 else "heartbeat down"


PROTOCOL = Heartbeat()
