"""Behaviour checks both blueprints' suites share: failover and back, split brain.

Each check injects through `faults`, watches from the client seat and the nodes with bounded
polls, and leaves healing to the suite's `restore` fixture.
"""

from __future__ import annotations

import ipaddress
import itertools

from labgen.lab import LabSpec
from labgen.observe import (
    serving_bound,
    settle_time,
    vip_holders,
    vip_seen_from_client,
    wait_vip_on,
)
from labgen.poll import wait_for
from labgen.providers.base import Provider
from labgen.verify import faults
from labgen.verify.fixtures import Client


def backup_name(spec: LabSpec) -> str:
    return next(n.name for n in spec.nodes if n.role == "backup")


def wait_vip_seen_on(provider: Provider, macs: dict[str, str], node: str, timeout: float) -> None:
    wait_for(
        lambda: vip_seen_from_client(provider, macs),
        lambda seen: seen == node,
        expected=f"the client seat to see the VIP at {node}'s MAC",
        timeout=timeout,
    )


def wait_served_by_the_lab(client: Client, timeout: float) -> str:
    """Served through the VIP by one of the lab's nodes (its page): not any HTTP answer, which a
    default site or an error page would give. Which node is each protocol's own claim (LVS may
    send a client to either)."""
    return wait_for(
        client.served_by, lambda node: node is not None,
        expected="the page of a lab node through the VIP", timeout=timeout,
    )


def failover_and_back(provider: Provider, client: Client, macs: dict[str, str], fault: str) -> None:
    """The tutorial's claim: fault the preferred node, the backup serves; undo, it comes back."""
    spec = provider.lab.spec
    preferred, backup = spec.preferred.name, backup_name(spec)
    faults.inject(provider, preferred, fault)
    wait_vip_seen_on(provider, macs, backup, timeout=settle_time(spec))
    wait_served_by_the_lab(client, timeout=serving_bound(spec))
    faults.undo(provider, preferred, fault)
    wait_vip_seen_on(provider, macs, preferred, timeout=settle_time(spec))
    wait_vip_on(provider, [preferred], timeout=settle_time(spec))
    wait_served_by_the_lab(client, timeout=serving_bound(spec))


def split_brain_and_heal(provider: Provider) -> None:
    """Cut the cluster's own traffic: both nodes take the VIP; restore it: one gives it up."""
    spec = provider.lab.spec
    faults.inject(provider, spec.preferred.name, "partition")
    wait_vip_on(provider, [n.name for n in spec.nodes], timeout=settle_time(spec))
    faults.undo(provider, spec.preferred.name, "partition")
    wait_for(
        lambda: vip_holders(provider),
        lambda seen: len(seen) == 1,
        expected="exactly one VIP holder once the nodes hear each other again",
        timeout=settle_time(spec),
    )


def new_client_addresses(provider: Provider, count: int, directors: list[str] | None = None) -> list[str]:
    """Addresses of the VIP's network that no node, VIP or client uses and that no director's LVS
    has seen (its persistence would pin them): clients that are new to the lab. `directors`: the
    nodes whose LVS may see them (default: every node; a hung one cannot be asked)."""
    spec = provider.lab.spec
    network = ipaddress.ip_network(spec.networks[spec.vip_network].cidr)
    known = ""
    if spec.features.get("ip_vs", True):
        asked = directors or [n.name for n in spec.nodes]
        known = "".join(provider.exec(node, ["ipvsadm", "-L", "-n", "-c"]).stdout for node in asked)
    taken = {spec.vip, *spec.client, *(n.addresses[spec.vip_network] for n in spec.nodes)}
    free = (str(a) for a in reversed(list(network.hosts())) if str(a) not in taken and f" {a}:" not in known)
    return list(itertools.islice(free, count))


def bypass_rules(provider: Provider, nodes: list[str] | None = None) -> dict[str, bool]:
    """node -> whether it redirects VIP traffic to itself (the tutorial's bypass_ipvs.sh rule), for
    `nodes` (default: every node)."""
    spec = provider.lab.spec
    rule = f"-d {spec.vip}/32 -p tcp -j REDIRECT"
    return {
        node: rule in provider.exec(node, ["iptables", "-t", "nat", "-S", "PREROUTING"]).stdout
        for node in nodes or [n.name for n in spec.nodes]
    }


def assert_service_up(host, service: str) -> None:
    """Running now and enabled, so it also comes back after a reboot."""
    assert host.service(service).is_enabled, f"{service} would not start at boot"
    assert host.service(service).is_running, f"{service} is not running"


def assert_read_since_changed(host, service: str, paths: list[str]) -> None:
    """The running daemon has read these files as they are: its last start came after their last
    change. A file edited since (a fix or a mistake) is not what the daemon runs with, and a
    restart would change what the lab does."""
    # a stopped unit keeps its last ActiveEnterTimestamp, and `date -d ""` is today's midnight
    assert host.run(f"systemctl is-active --quiet {service}").rc == 0, f"{service} is not running"
    started = host.run(f"date -d \"$(systemctl show -p ActiveEnterTimestamp --value {service})\" +%s")
    assert started.rc == 0 and started.stdout.strip(), f"{service}: no start time ({started.stderr.strip()})"
    for path in paths:
        changed = host.run(f"stat -c %Y {path}")
        assert changed.rc == 0, f"{path}: {changed.stderr.strip()}"
        assert int(changed.stdout) <= int(started.stdout), (
            f"{path} changed after {service} started: {service} does not run with it (restart it)")
