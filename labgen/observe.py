"""Looking at a running lab from inside it: who holds the VIP, who answers HTTP on it."""

from __future__ import annotations

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
    """node -> MAC of its NIC on the VIP's network: how the client seat tells who holds the VIP."""
    spec = provider.lab.spec
    iface = spec.networks[spec.vip_network].interface
    return {
        n.name: provider.exec(n.name, ["cat", f"/sys/class/net/{iface}/address"]).stdout.strip()
        for n in spec.nodes
    }


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


def cluster_view(provider: Provider) -> dict[str, str]:
    """Per node: "VIP" or "-", and for heartbeat what the daemon itself says it runs (cl_status
    rscstatus: local, all, none, transition), or "heartbeat down" while it restarts."""
    spec = provider.lab.spec
    holders = vip_holders(provider)
    view = {}
    for node in spec.nodes:
        words = ["VIP" if node.name in holders else "-"]
        if spec.service == "heartbeat":
            answer = provider.exec(node.name, ["cl_status", "rscstatus"], timeout=10)
            words.append(answer.stdout.strip() if answer.returncode == 0 else "heartbeat down")
        view[node.name] = " ".join(words)
    return view


def is_settled(view: dict[str, str]) -> bool:
    """One VIP holder, and no daemon restarting, moving resources or claiming them all twice over."""
    holders = [node for node, words in view.items() if words.startswith("VIP")]
    resources = [words.split(" ", 1)[1] for words in view.values() if " " in words]
    return (
        len(holders) == 1
        and all(r in ("local", "all", "none") for r in resources)
        and resources.count("all") <= 1
    )


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
    view = wait_for(
        lambda: cluster_view(provider),
        lambda seen: is_settled(seen) and (on is None or seen[on].startswith("VIP")),
        expected=f"the VIP {where} and the cluster quiet for {hold:g} s",
        timeout=settle_time(spec) + hold,
        hold=hold,
    )
    return next(node for node, words in view.items() if words.startswith("VIP"))

