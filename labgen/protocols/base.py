"""What every HA protocol module provides: the small interface the rest of labgen relies on."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from labgen.lab import Skip

if TYPE_CHECKING:
    from labgen.providers.base import Provider

Loc = tuple[str | int, ...]  # where in the blueprint YAML, e.g. ("keepalived", "priorities")


@dataclass(frozen=True)
class NodeView:
    """One node as a look at the cluster found it."""

    vip: bool  # the VIP is on one of its interfaces
    daemon: str | None = None  # what the HA daemon says it runs, where it says (heartbeat)
    pool: tuple[int, int] | None = None  # an LVS director holding the VIP: (servers in its pool, of)

    def __str__(self) -> str:
        words = ["VIP" if self.vip else "-"]
        if self.daemon:
            words.append(self.daemon)
        if self.pool:
            words.append(f"pool {self.pool[0]}/{self.pool[1]}")
        return " ".join(words)


class Protocol(ABC):
    """One HA protocol. Times are in seconds unless a name says ms; `params` is the lab's resolved
    parameter section of the blueprint (LabSpec.params). An ABC: a protocol module that forgets a
    method fails when labgen imports it, not in the middle of a failover."""

    name: str  # the blueprint section that selects it, e.g. "keepalived"
    unit: str  # the systemd unit that owns the VIP
    secret_field: str  # the section's field holding the nodes' shared secret (never shown)
    network_fields: tuple[str, ...]  # the section's fields that name a blueprint network
    vip_network_field: str  # the one naming the network where the daemon manages the VIP
    # the daemon knows a node by `uname -n`, and labgen asks it about nodes by their lab names
    names_nodes_by_uname: bool = False
    # seconds one run of its resource agent takes more on emulated VMs (TCG) than on a real CPU
    agent_under_tcg_s: float = 0
    # seconds a clean handover (the daemon stopped in order, a reboot's shutdown) may cost a
    # client on a real CPU
    clean_handover_s: float = 2
    # the faults of the preferred node after which the backup takes over and the preferred node
    # takes back once it is undone (labgen.testing.suites.failover)
    takeover_faults: tuple[str, ...] = ("stop", "crash", "freeze")

    def checks(self, bp) -> Iterator[tuple[Loc, str]]:
        """The protocol's rules across the blueprint: (where in the YAML, what is wrong)."""
        yield from ()

    @abstractmethod
    def with_secret(self, section):
        """The blueprint's section with its unset shared secret filled in, fresh for each lab."""

    def skips(self, features: dict[str, bool]) -> list[Skip]:
        """What of the tutorial this host cannot show (its provider's features), and why."""
        return []

    @abstractmethod
    def cluster_traffic(self, params: dict) -> list[str]:
        """The iptables match for the nodes' own cluster traffic (cut to make a split brain)."""

    @abstractmethod
    def settle_time(self, params: dict) -> float:
        """How long the cluster may take to settle after a start or a disturbance."""

    @abstractmethod
    def quiet_time(self, params: dict) -> float:
        """How long a settled look must last to be trusted."""

    @abstractmethod
    def expected_failover(self, params: dict, fault: str) -> tuple[float | None, str]:
        """What the protocol says the VIP move takes after `fault`, in ms (None: at once), and why."""

    @abstractmethod
    def earliest_failover(self, params: dict, fault: str) -> tuple[float | None, str]:
        """The soonest the VIP can move after `fault`, in ms (None: no floor, a stopping node hands
        over at once), and why: a failover measured sooner is a measuring error."""

    @abstractmethod
    def expected_election(self, params: dict) -> tuple[float, str]:
        """What the protocol says the first election after a start takes, in ms, and why."""

    def fails_back(self, params: dict) -> bool:
        """Whether the preferred node takes the VIP back when it returns."""
        return True

    def node_view(self, provider: Provider, node: str, holds_vip: bool) -> NodeView:
        return NodeView(vip=holds_vip)

    def daemons_settled(self, views: list[NodeView]) -> bool:
        """Whether what the daemons say of themselves is a steady state."""
        return True

    def serving_bound(self, spec) -> float:
        """How long the service behind the VIP may take to follow a change on a node."""
        return 10

    def unwedge(self, provider: Provider) -> list[str]:
        """Restart the daemon where it is stuck in a state it never leaves by itself; the nodes
        restarted (default: none)."""
        return []
