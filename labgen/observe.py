"""Looking at a running lab from inside it: who holds the VIP, who answers HTTP on it."""

from __future__ import annotations

from dataclasses import dataclass

from labgen import protocols
from labgen.lab import LabSpec
from labgen.poll import said, wait_for
from labgen.protocols import NodeView, Protocol
from labgen.providers import provider_class
from labgen.providers.base import Provider


def vip_holders(provider: Provider) -> list[str]:
    """The nodes that have the VIP on an interface (two means split brain)."""
    spec = provider.lab.spec
    return [
        node.name
        for node in spec.nodes
        if _holds_vip(spec, provider.exec(node.name, ["ip", "-4", "-o", "addr", "show"], timeout=10).stdout)
    ]


def _holds_vip(spec: LabSpec, addresses: str) -> bool:
    """Whether `ip -4 -o addr show` lists the VIP."""
    return f" {spec.vip}/" in addresses


_UNITS_FOLLOW = "-- units --"
# the node's addresses, then its units' states; the unit names are arguments, never shell text
_HEALTH = 'ip -4 -o addr show; echo "$0"; systemctl is-active "$@"'


def node_health(provider: Provider, node: str, timeout: float = 30) -> tuple[bool, dict[str, str]]:
    """Whether a running node holds the VIP, and its HA daemon's and web server's systemd state
    (active, failed, inactive, ...; unknown if the node did not answer), in one exec: a machine
    that runs is not yet a node that serves."""
    spec = provider.lab.spec
    names = [spec.daemon, spec.web]
    done = provider.exec(node, ["sh", "-c", _HEALTH, _UNITS_FOLLOW, *names], timeout=timeout)
    addresses, _, units = done.stdout.partition(f"{_UNITS_FOLLOW}\n")
    states = units.split()
    if len(states) != len(names):  # the node did not answer
        return _holds_vip(spec, addresses), dict.fromkeys(names, "unknown")
    return _holds_vip(spec, addresses), dict(zip(names, states, strict=True))


def http_via_vip(provider: Provider, source: str | None = None, timeout: float = 2) -> str | None:
    """The page the client seat gets from the VIP (from one of its addresses), None on failure."""
    spec = provider.lab.spec
    argv = ["curl", "-s", "--max-time", f"{timeout:g}", f"http://{spec.vip}:{spec.http_port}/"]
    if source:
        argv[1:1] = ["--interface", source]
    result = provider.client_exec(argv, timeout=timeout + 5)
    return result.stdout.strip() if result.returncode == 0 else None


def served_by(spec, page: str | None) -> str | None:
    """Which node's page this is."""
    return next((node for node, text in spec.pages.items() if text == page), None)


def public_macs(provider: Provider) -> dict[str, str]:
    """node -> MAC of its NIC on the VIP's network: how the client seat tells who holds the VIP.
    Asked of the provider, not the node: a node that is booting still has its MAC."""
    spec = provider.lab.spec
    return {n.name: provider.mac(n.name, spec.vip_network) for n in spec.nodes}


def vip_seen_from_client(provider: Provider, macs: dict[str, str]) -> str | None:
    """The node whose MAC the client seat has for the VIP; works when a node is frozen."""
    spec = provider.lab.spec
    http_via_vip(provider, timeout=1)  # makes the client resolve the VIP if it has no entry
    for line in provider.client_exec(["cat", "/proc/net/arp"]).stdout.splitlines()[1:]:
        fields = line.split()
        if fields[0] == spec.vip:
            return next((n for n, mac in macs.items() if mac == fields[3]), None)
    return None


def settle_time(spec: LabSpec) -> float:
    """How long the cluster may take to settle after a start or a disturbance: the protocol's
    bound, plus two runs of its resource agent on emulated VMs (a healed partition releases the
    VIP on one node and takes it on the other)."""
    return protocols.of(spec).settle_time(spec.params) + agent_allowance(spec, 2)


def agent_allowance(spec: LabSpec, runs: int) -> float:
    """Seconds to allow for `runs` runs of the protocol's resource agent on emulated VMs (TCG),
    where a shell-script agent takes several seconds more than on a real CPU."""
    return runs * protocols.of(spec).agent_under_tcg_s if provider_class(spec.provider).emulates(spec) else 0


def wait_vip_on(provider: Provider, nodes: list[str], timeout: float) -> None:
    wait_for(
        lambda: vip_holders(provider),
        lambda seen: seen == nodes,
        expected=f"the VIP on {' and '.join(nodes) or 'no node'}",
        timeout=timeout,
    )


@dataclass(frozen=True)
class ClusterView:
    """Every node's view, and (when asked) whose MAC the client seat sends the VIP's traffic to."""

    nodes: dict[str, NodeView]
    client_asked: bool = False
    client_sees: str | None = None

    @property
    def holders(self) -> list[str]:
        return [name for name, view in self.nodes.items() if view.vip]

    def __str__(self) -> str:
        """lb0 VIP all, lb1 standby, client sees lb0: what a failed wait shows."""
        seen = {name: str(view) for name, view in self.nodes.items()}
        return said(seen | ({"client": f"sees {self.client_sees}"} if self.client_asked else {}))


def cluster_view(provider: Provider, macs: dict[str, str] | None = None) -> ClusterView:
    """Each node's view as its protocol shows it; with the nodes' MACs, also the client seat's."""
    spec = provider.lab.spec
    protocol = protocols.of(spec)
    holders = vip_holders(provider)
    nodes = {n.name: protocol.node_view(provider, n.name, n.name in holders) for n in spec.nodes}
    if macs is None:
        return ClusterView(nodes)
    return ClusterView(nodes, client_asked=True, client_sees=vip_seen_from_client(provider, macs))


def is_settled(view: ClusterView, protocol: Protocol) -> bool:
    """One VIP holder, the daemons in a steady state, every real server back in the director's
    pool (LVS), and the client seat talking to the holder."""
    holders = view.holders
    if len(holders) != 1 or (view.client_asked and view.client_sees != holders[0]):
        return False
    pools = [v.pool for v in view.nodes.values() if v.pool]
    return protocol.daemons_settled(list(view.nodes.values())) and all(inside == of for inside, of in pools)


def serving_bound(spec: LabSpec) -> float:
    """How long the service behind the VIP may take to follow a change on a node."""
    return protocols.of(spec).serving_bound(spec)


def quiet_time(spec: LabSpec) -> float:
    """How long a settled look must last to be trusted."""
    return protocols.of(spec).quiet_time(spec.params)


def wait_settled(provider: Provider, on: str | None = None, *, hold: float | None = None) -> str:
    """Wait for a settled cluster (with the VIP on `on`, if given), quiet for `hold` seconds (the
    protocol's quiet time unless given); return the VIP holder."""
    spec = provider.lab.spec
    hold = quiet_time(spec) if hold is None else hold
    where = f"on {on}" if on else "on one node"
    macs = public_macs(provider)
    view = wait_for(
        lambda: cluster_view(provider, macs),
        lambda seen: is_settled(seen, protocols.of(spec)) and (on is None or seen.nodes[on].vip),
        expected=f"the VIP {where} and the cluster quiet for {hold:g} s",
        timeout=settle_time(spec) + serving_bound(spec) + hold,
        hold=hold,
    )
    return view.holders[0]


def wait_steady(provider: Provider) -> None:
    """Wait for the daemons to say they are in a steady state, quiet for the protocol's quiet time,
    wherever the VIP is: a cluster mended one node at a time may rightly hold it twice in between
    (keepalived with a password on one node and none on the other)."""
    spec = provider.lab.spec
    protocol = protocols.of(spec)
    hold = quiet_time(spec)
    wait_for(
        lambda: cluster_view(provider),
        lambda seen: protocol.daemons_settled(list(seen.nodes.values())),
        expected=f"the daemons in a steady state for {hold:g} s",
        timeout=settle_time(spec) + hold,
        hold=hold,
    )
