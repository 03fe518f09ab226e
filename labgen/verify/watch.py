"""A lab watched live, as the client seat sees it: what `labgen watch` puts on a projector.

The same probe and pinger as `labgen failover` (labgen.verify.failover) run in the client seat;
every 50 ms a request, every 10 ms a look at the VIP's MAC, every second a ping. A background
look every second asks each running node whether it holds the VIP and whether its HA daemon
and web server run. Faults are injected on the VIP holder and undone on demand, one at a time;
whatever is still injected when the watch ends is healed.

A request is judged only once every request sent before it has answered or timed out (SETTLED
seconds later), so the timeline never shows an outage that a slower answer was about to fill.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from labgen.observe import node_health, public_macs
from labgen.providers.base import Provider
from labgen.verify import faults
from labgen.verify.failover import INTERVAL, PING_INTERVAL, Pinger, Probe

SETTLED = 1.2  # the probe's request timeout (1 s) and some: by then every earlier request is in
RATE_WINDOW = 5.0  # requests per second are counted over this many seconds
LOOK_EVERY = 1.0


@dataclass(frozen=True)
class Moment:
    at: float  # host clock (time.time), the probe's own
    what: str
    kind: str  # fault, move, outage, served, note


@dataclass
class NodeLook:
    machine: str  # running, stopped, frozen, ...
    holds_vip: bool = False
    units: dict[str, str] = field(default_factory=dict)


class Watch:
    """Probe, pinger and a look at the nodes, turned into a timeline of moments."""

    def __init__(self, provider: Provider, probe: Probe | None = None, pinger: Pinger | None = None):
        """Probe and pinger of its own, or those of a failover being measured (left to it)."""
        self.provider = provider
        self.spec = provider.lab.spec
        self.node_of_mac = {mac: node for node, mac in public_macs(provider).items()}
        self.started = time.time()
        self.timeline: list[Moment] = []
        self.nodes: dict[str, NodeLook] = {n.name: NodeLook("unknown") for n in self.spec.nodes}
        self.injected: tuple[str, str] | None = None  # (node, fault) in place now
        self.busy: str | None = None  # the fault being injected or undone, while it runs
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._neighbours_seen = 0
        self._judged_until = 0.0
        self._serving: bool | None = None
        self._outage_from = 0.0
        self._owns_probes = probe is None
        self.probe = probe or Probe(provider)
        self.pinger = pinger or Pinger(provider)
        self._looker = threading.Thread(target=self._look_loop, daemon=True)
        self._looker.start()

    # ---- what the client sees ---------------------------------------------------------------

    def refresh(self) -> list[Moment]:
        """Read the probe's new events into the timeline; the moments added."""
        added = self._moves() + self._service()
        if self._owns_probes:  # a failover's probe is its measurement's, whole
            self.probe.forget_before(time.time() - SETTLED - RATE_WINDOW - 1)
        with self._lock:
            self.timeline += added
            self.timeline.sort(key=lambda m: m.at)
        return sorted(added, key=lambda m: m.at)

    def _moves(self) -> list[Moment]:
        neighbours = list(self.probe.neighbours)[self._neighbours_seen :]
        self._neighbours_seen += len(neighbours)
        moments = []
        for seen in neighbours:
            node = self.node_of_mac.get(
                seen.mac, "no node" if seen.mac is None else f"unknown MAC {seen.mac}"
            )
            moments.append(Moment(seen.at, f"the client's ARP entry for the VIP points to {node}", "move"))
        return moments

    def _service(self) -> list[Moment]:
        """A moment where requests start failing, and where they are served again (its outage)."""
        until = time.time() - SETTLED
        judged = sorted(s for s in list(self.probe.samples) if self._judged_until <= s.sent_at < until)
        self._judged_until = until
        moments = []
        for sample in judged:
            if sample.ok == self._serving:
                continue
            if not sample.ok:
                self._outage_from = sample.sent_at
                moments.append(Moment(sample.sent_at, "requests fail (the first one sent)", "outage"))
            elif self._serving is not None:
                node = self.node_of_mac.get(sample.mac, "?")
                took = sample.answered_at - self._outage_from
                moments.append(
                    Moment(sample.answered_at, f"served again by {node}, after {took:.2f} s", "served")
                )
            self._serving = sample.ok
        return moments

    def rates(self) -> tuple[float, float]:
        """(served, failed) requests per second over the last RATE_WINDOW judged seconds."""
        end = time.time() - SETTLED
        window = [s for s in list(self.probe.samples) if end - RATE_WINDOW <= s.sent_at < end]
        span = min(RATE_WINDOW, max(end - self.started, INTERVAL))
        return sum(s.ok for s in window) / span, sum(not s.ok for s in window) / span

    def pings(self) -> tuple[int, int]:
        """(sent, lost) since the watch began, counting echoes whose reply had a second to come."""
        return self.pinger.lost_between(self.pinger.started, time.time() - PING_INTERVAL - 0.2)

    def holder(self) -> str | None:
        """The node the client's traffic for the VIP goes to now."""
        neighbours = list(self.probe.neighbours)
        return self.node_of_mac.get(neighbours[-1].mac) if neighbours else None

    def recent(self, count: int) -> list[Moment]:
        with self._lock:
            return self.timeline[-count:]

    # ---- what the nodes say -----------------------------------------------------------------

    def _look_loop(self) -> None:
        while not self._stop.wait(0 if self.nodes_unknown() else LOOK_EVERY):
            self.look()

    def nodes_unknown(self) -> bool:
        return all(look.machine == "unknown" for look in self.nodes.values())

    def look(self) -> None:
        states = self.provider.status()
        for node, machine in states.items():
            look = NodeLook(machine)
            if machine == "running":
                look.holds_vip, look.units = node_health(self.provider, node, timeout=3)
            self.nodes[node] = look

    # ---- faults ------------------------------------------------------------------------------

    def inject(self, fault: str) -> str:
        """Inject the fault on the node the client's VIP traffic goes to; what happened, in words."""
        node = self.holder() or next((n for n, look in self.nodes.items() if look.holds_vip), None)
        with self._lock:  # two keys pressed at once: one fault
            if self.busy or self.injected:
                return f"{self.injected[1] if self.injected else self.busy} is still in place: undo it first"
            if node is None:
                return "no node holds the VIP: nothing to fault"
            self.injected = (node, fault)  # before it runs: a fault cut short is still healed at the end
            self.busy = fault
        self._act(
            fault, node, lambda: faults.inject(self.provider, node, fault), f"{fault} injected on {node}"
        )
        return f"{fault} on {node}"

    def undo(self) -> str:
        with self._lock:
            if self.busy or not self.injected:
                return f"{self.busy} is running" if self.busy else "no fault to undo"
            node, fault = self.injected
            self.busy = fault
        self._act(fault, node, lambda: faults.undo(self.provider, node, fault), f"{fault} undone on {node}")
        self.injected = None
        return f"{fault} undone on {node}"

    def _act(self, fault: str, node: str, action, what: str) -> None:
        """Run the fault's command in the foreground of this thread, dated when it was sent (a
        reboot's or a power cut's command takes seconds; the fault strikes somewhere in it)."""
        sent = time.time()
        try:
            action()
        finally:
            self.busy = None
        self.note(sent, f"{what} (its command took {time.time() - sent:.2f} s)")

    def note(self, at: float, what: str, kind: str = "fault") -> None:
        """A moment from outside the probe: a fault injected or undone."""
        with self._lock:
            self.timeline.append(Moment(at, what, kind))
            self.timeline.sort(key=lambda m: m.at)

    def close(self) -> None:
        """Stop probing; heal whatever fault is still injected."""
        self._stop.set()
        try:
            if self.injected:
                faults.heal(self.provider)
        finally:
            if self._owns_probes:
                self.probe.stop()
                self.pinger.stop()
            self._looker.join(timeout=10)
