"""Measure a failover from the client seat: inject a fault on the VIP holder, watch, undo, watch.

Every time comes from the probe in the client namespace (requests at most 50 ms apart, the VIP's
MAC in the client's neighbour table read every 10 ms), on the same clock as the moment the fault
was injected. Each figure is dated by when what it reports became true, and carries its error: a
move by the neighbour table's change (at most NEIGHBOUR_POLL late), service by the first answer
(at most one interval late). A move the protocol cannot make that soon is a measuring error, and
measure() refuses to report it.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import NamedTuple

from labgen import protocols
from labgen.errors import LabgenError
from labgen.observe import public_macs, wait_settled
from labgen.poll import wait_for
from labgen.providers.base import Provider
from labgen.verify import faults
from labgen.verify.probe import NEIGHBOUR_POLL

INTERVAL = 0.05
PING_INTERVAL = 1.0  # the tutorial counts lost pings at ping's own pace: "after 1 or 2 pings"


@dataclass
class Report:
    fault: str
    node: str
    vip_before: str
    vip_after: str | None
    vip_moved_ms: float | None
    service_restored_ms: float | None
    requests_sent: int
    requests_failed: int
    failback_ms: float | None
    probe_interval_ms: float
    expected_ms: float | None
    expected_rule: str
    pings_sent: int = 0  # ICMP echo requests to the VIP, one a second, from the fault to its undo
    pings_lost: int = 0
    inject_ms: float = 0.0  # how long the fault's command ran: the fault struck somewhere in it
    earliest_ms: float | None = None  # the protocol's earliest possible move after this fault
    earliest_rule: str = ""
    # how late each figure may be: a move is seen at most one neighbour poll after it happened,
    # service at most one probe interval after it came back
    vip_moved_error_ms: float = NEIGHBOUR_POLL * 1000
    service_restored_error_ms: float = INTERVAL * 1000
    timeline: list[tuple[float, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)

    def moved_within(self, low_ms: float, high_ms: float) -> bool:
        """Whether the move can have taken low_ms to high_ms. Times run from the fault's command
        being sent, and the fault struck before it returned (an ssh into a loaded emulated VM can
        take seconds): the move took from vip_moved_ms - inject_ms to vip_moved_ms."""
        if self.vip_moved_ms is None:
            return False
        shortest = self.vip_moved_ms - self.inject_ms - self.vip_moved_error_ms
        return self.vip_moved_ms >= low_ms and shortest <= high_ms

    def beats_protocol(self) -> bool:
        """A move seen sooner than the protocol can make it: the move happened no later than it was
        seen, and the fault struck no sooner than its command was sent, so this is impossible."""
        return None not in (self.vip_moved_ms, self.earliest_ms) and self.vip_moved_ms < self.earliest_ms


class Pinger:
    """`ping` in the client seat, one echo a second, as the tutorial's reader would watch it."""

    def __init__(self, provider: Provider):
        spec = provider.lab.spec
        argv = provider.client_argv(
            ["stdbuf", "-oL", "ping", "-n", "-D", "-i", f"{PING_INTERVAL:g}", "-W", "1", spec.vip]
        )
        self.started = time.time()
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.replies: set[int] = set()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            if " bytes from " in line and "icmp_seq=" in line:
                self.replies.add(int(line.split("icmp_seq=")[1].split()[0]))

    def lost_between(self, start: float, end: float) -> tuple[int, int]:
        """(sent, lost) of the echo requests sent from start to end (request n left at started + n-1 s)."""
        first = max(1, math.ceil((start - self.started) / PING_INTERVAL) + 1)
        last = math.floor((end - self.started) / PING_INTERVAL) + 1
        sent = range(first, last + 1)
        return len(sent), sum(1 for n in sent if n not in self.replies)

    def stop(self) -> None:
        time.sleep(1.0)  # the last echo's reply (-W 1) may still be on its way
        self.process.terminate()
        self.process.wait(timeout=10)
        self.reader.join(timeout=5)


class Sample(NamedTuple):
    """One request of the probe: when it left and when its answer came (or it failed), the page
    (None: not served), the VIP's MAC in the client's neighbour table as the answer came."""

    sent_at: float
    answered_at: float
    page: str | None
    mac: str | None

    @property
    def ok(self) -> bool:
        return self.page is not None


class Neighbour(NamedTuple):
    """The VIP's MAC in the client's neighbour table changed, at most NEIGHBOUR_POLL before `at`."""

    at: float
    mac: str | None


class Probe:
    """The probe process in the client seat, its samples collected as they arrive."""

    def __init__(self, provider: Provider):
        spec = provider.lab.spec
        argv = provider.client_argv([
            sys.executable,
            "-m",
            "labgen.verify.probe",
            spec.vip,
            "--port",
            str(spec.http_port),
            "--interval",
            str(INTERVAL),
        ])
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.samples: list[Sample] = []
        self.neighbours: list[Neighbour] = []
        self._lock = threading.Lock()  # the reader appends while a watch forgets
        if self.process.stdout.readline().strip() != "ready":
            raise LabgenError("the client seat's probe did not start")
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            event = json.loads(line)
            if "neighbour" in event:
                self.neighbours.append(Neighbour(event["neighbour"], event["mac"]))
            else:
                with self._lock:
                    self.samples.append(Sample(event["sent"], event["answered"], event["page"], event["mac"]))

    def forget_before(self, moment: float) -> None:
        """Drop the samples sent before moment: a watch left running for hours (20 a second) holds
        only what it still shows."""
        with self._lock:
            self.samples = [s for s in self.samples if s.sent_at >= moment]

    def since(self, moment: float) -> list[Sample]:
        return sorted(s for s in list(self.samples) if s.sent_at >= moment)

    def neighbours_since(self, moment: float) -> list[Neighbour]:
        return sorted(n for n in list(self.neighbours) if n.at >= moment)

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=10)
        self.reader.join(timeout=5)


def measure(
    provider: Provider,
    fault: str,
    timeout: float = 90,
    *,
    on_probe: Callable[[Probe, Pinger], None] | None = None,
    narrate: Callable[[float, str], None] | None = None,
) -> Report:
    """Fault the VIP holder, wait for the other node to serve, undo, wait for failback. A live
    view (labgen.verify.watch) reads the same probe and pinger (on_probe) and is told when the
    fault is injected and undone (narrate)."""
    narrate = narrate or (lambda at, what: None)
    spec = provider.lab.spec
    faults.check_fault(fault)
    node = wait_settled(provider)
    other = next(n.name for n in spec.nodes if n.name != node)
    macs = public_macs(provider)
    probe = Probe(provider)
    pinger = Pinger(provider)
    if on_probe:
        on_probe(probe, pinger)
    injected = False
    try:
        wait_for(
            lambda: probe.since(0)[-1:],
            lambda s: bool(s) and s[0].mac == macs[node] and s[0].ok,
            expected=f"the client seat to reach the VIP on {node}",
            timeout=15,
        )
        t_fault = time.time()
        injected = True
        faults.inject(provider, node, fault)
        t_injected = time.time()
        narrate(t_fault, f"{fault} injected on {node} (its command took {t_injected - t_fault:.2f} s)")
        wait_for(
            lambda: _first(probe.since(t_fault), lambda s: s.ok and s.mac == macs[other]),
            lambda s: s is not None,
            expected=f"HTTP through the VIP served with {other} holding it",
            timeout=timeout,
        )
        t_undo = time.time()
        injected = False
        faults.undo(provider, node, fault)
        narrate(t_undo, f"{fault} undone on {node}")
        if protocols.of(spec).fails_back(spec.params):
            wait_for(
                lambda: _first(probe.since(t_undo), lambda s: s.ok and s.mac == macs[node]),
                lambda s: s is not None,
                expected=f"the VIP back on {node} after the fault is undone",
                timeout=timeout,
            )
        time.sleep(INTERVAL * 4)  # a few more samples after failback to count its failures
    finally:
        probe.stop()
        pinger.stop()
        if injected:  # timed out or interrupted with the fault in place: never leave it there
            faults.heal(provider)
    report = _report(spec, fault, node, other, macs, probe.since(t_fault), probe.neighbours_since(t_fault),
                     t_fault, t_undo, t_injected)
    report.pings_sent, report.pings_lost = pinger.lost_between(t_fault, t_undo)
    if report.beats_protocol():
        raise LabgenError(
            f"measuring error: the VIP was seen on {other} {report.vip_moved_ms:.0f} ms after the {fault}, "
            f"sooner than {report.earliest_rule} ({report.earliest_ms:.0f} ms) allows; timeline: "
            + "; ".join(f"{at:.0f} ms {what}" for at, what in report.timeline))
    return report


def _first(samples: list[Sample], accept) -> Sample | None:
    return next((s for s in samples if accept(s)), None)


def _report(spec, fault, node, other, macs, samples, neighbours, t_fault, t_undo, t_injected) -> Report:
    def ms(t: float | None, origin: float) -> float | None:
        return None if t is None else round((t - origin) * 1000, 1)

    moved = _first(neighbours, lambda n: n.mac == macs[other])
    failback = _first(neighbours, lambda n: n.at >= t_undo and n.mac == macs[node])
    # the failover's own outage only; a failback can interrupt service too (counted in requests_failed)
    first_fail = _first(samples, lambda s: not s.ok and s.sent_at < t_undo)
    # served again: the first answer to come, whichever request it answers (one sent during the
    # outage may come back later, after its SYN was sent again)
    answers = [s.answered_at for s in samples if s.ok and first_fail and s.sent_at > first_fail.sent_at]
    restored = min(answers, default=None)
    protocol = protocols.of(spec)
    expected, rule = protocol.expected_failover(spec.params, fault)
    earliest, earliest_rule = protocol.earliest_failover(spec.params, fault)
    inject_ms = ms(t_injected, t_fault)
    timeline = [(0.0, f"{fault} injected on {node}"), (inject_ms, f"{fault}'s command returned")]
    for at, text in (
        (first_fail and first_fail.sent_at, "first request failed (sent)"),
        (moved and moved.at, f"VIP answers from {other} (the client's ARP entry changed)"),
        (restored, "first request served again (answered)"),
        (t_undo, f"{fault} undone"),
        (failback and failback.at, f"VIP back on {node} (ARP)"),
    ):
        if at is not None:
            timeline.append((ms(at, t_fault), text))
    return Report(
        fault=fault,
        node=node,
        vip_before=node,
        vip_after=other if moved else None,
        vip_moved_ms=ms(moved and moved.at, t_fault),
        service_restored_ms=0.0 if not first_fail else ms(restored, t_fault),
        requests_sent=len(samples),
        requests_failed=sum(1 for s in samples if not s.ok),
        failback_ms=ms(failback and failback.at, t_undo),
        probe_interval_ms=INTERVAL * 1000,
        expected_ms=expected,
        expected_rule=rule,
        inject_ms=inject_ms,
        earliest_ms=earliest,
        earliest_rule=earliest_rule,
        timeline=sorted(timeline, key=lambda event: event[0]),
    )
