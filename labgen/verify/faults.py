"""Faults injected into a running lab, and how each is undone.

stop and crash act on the service that owns the VIP and go through exec (provider-neutral);
reboot is `systemctl reboot` in the node (its services stop cleanly first); freeze, link-down and
reset (the plug pulled, put back when the fault is undone) are machine-level and belong to the
provider; partition cuts only
the cluster's own traffic between the nodes (VRRP or heartbeats) so both stay reachable by clients:
a split brain.
"""

from __future__ import annotations

from collections.abc import Callable

from labgen import protocols
from labgen.errors import LabgenError
from labgen.providers.base import Provider

FAULTS = ("stop", "crash", "freeze", "link-down", "reboot", "reset", "partition")
FAILOVER_FAULTS = FAULTS[:-1]  # a partition moves no VIP: both nodes take it (split brain)


# kill -9 the daemon's main process and its children, as a crash would. All are stopped first:
# killed one after the other, a keepalived child that outlived its parent by a moment shut down
# cleanly (the VIP moved in 48 ms, as after a stop, not after the master down interval). (Not
# `systemctl kill`: it needs the unit's cgroup process list, which systemd cannot read inside an
# nspawn container on a cgroup-v1 host.)
_CRASH = (
    "main=$(systemctl show -p MainPID --value {unit}); "
    '[ "$main" -gt 0 ] || main=$(pidof -s {unit}); '
    'pids="$main $(pgrep -P $main)"; '
    "kill -STOP $pids && kill -9 $pids"
)


def check_fault(fault: str) -> str:
    """A fault `labgen failover` can measure."""
    if fault not in FAILOVER_FAULTS:
        raise LabgenError(f"unknown fault {fault!r}; use one of: {', '.join(FAILOVER_FAULTS)}")
    return fault


def inject(provider: Provider, node: str, fault: str) -> None:
    _FAULTS[fault][0](provider, node)


def undo(provider: Provider, node: str, fault: str) -> None:
    _FAULTS[fault][1](provider, node)


def heal(provider: Provider) -> None:
    """Undo whatever fault may be left on any node (after a failed test, or an interrupted run)."""
    for node in provider.lab.spec.nodes:
        provider.power(node.name, True)
        for network in provider.lab.spec.networks:
            provider.set_link(node.name, network, True)
        provider.freeze(node.name, False)
        while provider.exec(node.name, _partition_rule(provider, "-D")).returncode == 0:
            pass
        # --no-block: a daemon that hangs while starting must not hang the suite; the caller
        # then waits, bounded, for the lab to settle
        provider.exec(node.name, ["systemctl", "start", "--no-block", provider.lab.spec.daemon], timeout=30)


def _partition_rule(provider: Provider, action: str) -> list[str]:
    spec = provider.lab.spec
    match = protocols.of(spec).cluster_traffic(spec.params)
    return [
        "iptables",
        action,
        "INPUT",
        *match,
        "-m",
        "comment",
        "--comment",
        "labgen-partition",
        "-j",
        "DROP",
    ]


def _run(provider: Provider, node: str, argv: list[str]) -> None:
    result = provider.exec(node, argv, timeout=60)
    if result.returncode != 0:
        raise LabgenError(
            f"{node}: `{' '.join(argv)}` failed: {result.stderr.strip() or result.stdout.strip()}"
        )


Action = Callable[[Provider, str], None]


def _daemon(verb: str) -> Action:
    return lambda provider, node: _run(provider, node, ["systemctl", verb, provider.lab.spec.daemon])


def _crash(provider: Provider, node: str) -> None:
    _run(provider, node, ["sh", "-c", _CRASH.format(unit=provider.lab.spec.daemon)])


def _frozen(frozen: bool) -> Action:
    return lambda provider, node: provider.freeze(node, frozen)


def _links(up: bool) -> Action:
    def act(provider: Provider, node: str) -> None:
        for network in provider.lab.spec.networks:
            provider.set_link(node, network, up)

    return act


def _partition(action: str) -> Action:
    """Both nodes drop the cluster's traffic, whichever node the fault names."""

    def act(provider: Provider, node: str) -> None:
        for each in provider.lab.spec.nodes:
            _run(provider, each.name, _partition_rule(provider, action))

    return act


def _reboot(provider: Provider, node: str) -> None:
    provider.reboot(node)


def _booted(provider: Provider, node: str) -> None:
    """A rebooted node comes back by itself: undoing it is waiting until it has."""
    provider.wait_booted(node)


def _power(on: bool) -> Action:
    def act(provider: Provider, node: str) -> None:
        provider.power(node, on)
        if on:
            provider.wait_booted(node)

    return act


# fault -> (inject, undo)
_FAULTS: dict[str, tuple[Action, Action]] = {
    "stop": (_daemon("stop"), _daemon("start")),
    "crash": (_crash, _daemon("start")),
    "freeze": (_frozen(True), _frozen(False)),
    "link-down": (_links(False), _links(True)),
    "reboot": (_reboot, _booted),
    "reset": (_power(False), _power(True)),
    "partition": (_partition("-I"), _partition("-D")),
}

