"""Looking at a running lab from inside it: who holds the VIP, who answers HTTP on it."""

from __future__ import annotations

import re

from labgen.lab import LabSpec
from labgen.model.blueprint import seconds
from labgen.providers.base import Provider
from labgen.verify.poll import wait_for


def vip_holders(provider: Provider) -> list[str]:
    """The nodes that have the VIP on an interface (two means split brain)."""
    spec = provider.lab.spec
    return [
        node.name
        for node in spec.nodes
        if f" {spec.vip}/" in provider.exec(node.name, ["ip", "-4", "-o", "addr", "show"], timeout=10).stdout
    ]


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
    """How long the cluster may take to settle after a start or a disturbance."""
    if spec.service == "heartbeat":
        # a healed partition restarts heartbeat on both nodes: initdead plus its ~11 s start delay
        return 4 * seconds(spec.params["initdead"]) + 40
    return 10 * spec.params["advert_int"] + 20


def wait_vip_on(provider: Provider, nodes: list[str], timeout: float) -> None:
    wait_for(
        lambda: vip_holders(provider),
        lambda seen: seen == nodes,
        expected=f"the VIP on {' and '.join(nodes) or 'no node'}",
        timeout=timeout,
    )


def wait_taken_over(provider: Provider, node: str) -> None:
    """Wait until `node` has finished taking the resources over. Heartbeat asked for them back
    while it was still acquiring them (the other node restarted as soon as the VIP answered) stayed
    in transition for over 100 s on TCG VMs, where the IPaddr agent alone takes 9 s."""
    spec = provider.lab.spec
    if spec.service != "heartbeat":
        return
    wait_for(
        lambda: provider.exec(node, ["cl_status", "rscstatus"], timeout=10).stdout.strip(),
        lambda seen: seen == "all",
        expected=f"heartbeat on {node} holding every resource (cl_status rscstatus: all)",
        timeout=settle_time(spec),
    )


def cluster_view(provider: Provider, macs: dict[str, str] | None = None) -> dict[str, str]:
    """Per node: "VIP" or "-", and for heartbeat what the daemon itself says it runs (cl_status
    rscstatus: local, all, none, transition), or "heartbeat down" while it restarts. With the
    nodes' MACs, also whose MAC the client seat sends the VIP's traffic to."""
    spec = provider.lab.spec
    holders = vip_holders(provider)
    view = {"client": f"sees {vip_seen_from_client(provider, macs)}"} if macs else {}
    for node in spec.nodes:
        words = ["VIP" if node.name in holders else "-"]
        if spec.service == "heartbeat":
            answer = provider.exec(node.name, ["cl_status", "rscstatus"], timeout=10)
            words.append(answer.stdout.strip() if answer.returncode == 0 else "heartbeat down")
        elif node.name in holders and spec.features.get("ip_vs", True):
            words.append(f"pool {_pool_size(provider, node.name)}/{len(spec.nodes)}")
        view[node.name] = " ".join(words)
    return view


def _pool_size(provider: Provider, director: str) -> int:
    return len(lvs_pool(provider, director))


def lvs_pool(provider: Provider, director: str) -> set[str]:
    """The real servers in the director's LVS table (a failed health check removes one)."""
    spec = provider.lab.spec
    table = provider.exec(director, ["ipvsadm", "-L", "-n", "-t", f"{spec.vip}:{spec.http_port}"], timeout=10)
    return real_servers_in(table.stdout)


_REAL_SERVER = re.compile(r"^\s*->\s+(\d+\.\d+\.\d+\.\d+):\d+\s", re.MULTILINE)


def real_servers_in(table: str) -> set[str]:
    """The real servers in `ipvsadm -L -n` output (its "-> RemoteAddress:Port" heading is not one)."""
    return set(_REAL_SERVER.findall(table))


def is_settled(seen: dict[str, str]) -> bool:
    """One VIP holder, no daemon restarting, moving resources or claiming them all twice over, and
    (LVS) every real server back in the director's pool, and the client seat talking to the holder."""
    view = dict(seen)
    client = view.pop("client", None)
    holders = [node for node, words in view.items() if words.startswith("VIP")]
    if client is not None and holders and client != f"sees {holders[0]}":
        return False
    pools = [words.split("pool ", 1)[1] for words in view.values() if "pool " in words]
    resources = [words.split(" ", 1)[1] for words in view.values() if " " in words and "pool " not in words]
    return (
        len(holders) == 1
        and all(r in ("local", "all", "none") for r in resources)
        and resources.count("all") <= 1
        and all(len(set(pool.split("/"))) == 1 for pool in pools)
    )


def serving_bound(spec: LabSpec) -> float:
    """How long the LVS pool may take to follow a real server's health: a change can land just as
    a check cycle starts (its retries run out first), then the verdict waits for the next
    delay_loop. Heartbeat has no pool: 10 s."""
    if spec.service != "keepalived" or not spec.features.get("ip_vs", True):
        return 10
    hc, lvs = spec.params["health_check"], spec.params["lvs"]
    cycle = (hc["retry"] + 1) * (hc["connect_timeout"] + hc["delay_before_retry"])
    return 2 * lvs["delay_loop"] + cycle + 10


def quiet_time(spec: LabSpec) -> float:
    """How long a settled look must last to be trusted. A healed partition makes heartbeat restart
    itself a few seconds later (after "returning after partition"); a fault injected in that gap
    can leave both nodes owning the VIP for good."""
    if spec.service == "heartbeat":
        return seconds(spec.params["deadtime"]) + 5
    return 3 * spec.params["advert_int"]


def wait_settled(provider: Provider, on: str | None = None) -> str:
    """Wait for a settled cluster (with the VIP on `on`, if given); return the VIP holder."""
    spec = provider.lab.spec
    hold = quiet_time(spec)
    where = f"on {on}" if on else "on one node"
    macs = public_macs(provider)
    view = wait_for(
        lambda: cluster_view(provider, macs),
        lambda seen: is_settled(seen) and (on is None or seen[on].startswith("VIP")),
        expected=f"the VIP {where} and the cluster quiet for {hold:g} s",
        timeout=settle_time(spec) + serving_bound(spec) + hold,
        hold=hold,
    )
    return next(node for node, words in view.items() if words.startswith("VIP"))

