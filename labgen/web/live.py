"""The labs watched for `labgen serve`: one Watch per lab, shared by every browser showing it.

A lab's watch (its probe and pinger in the client seat, labgen.verify.watch) starts with the first
page that shows the lab and stops GRACE seconds after the last one left, healing any fault still
in place. At most `limit` labs are watched at once for students (twice that for the teacher): each watch is
three processes in a client seat and a look at the nodes every second, and anyone who can load the
page can ask for one.

A teacher's fault holds the lab's lock from its injection until it is undone, as `labgen watch`
does, so no `up`, `reset` or exercise changes the lab under it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field

from labgen.errors import LabgenError
from labgen.labs import find_lab, running_provider
from labgen.locks import lab_lock
from labgen.verify.faults import FAILOVER_FAULTS, check_fault
from labgen.verify.watch import Watch

GRACE = 60.0  # a page reloaded, or the teacher back from the dashboard, finds the same timeline
SHOWN = 14  # timeline lines sent, as `labgen watch` shows
FRESH = 0.2  # a snapshot serves every page asking within this many seconds


@dataclass
class Watched:
    watch: Watch
    viewers: int = 0
    left_at: float = 0.0
    notice: str = ""
    held: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)  # the lab's lock
    acting: threading.Lock = field(default_factory=threading.Lock)  # one fault or undo at a time
    reading: threading.Lock = field(default_factory=threading.Lock)
    shown: tuple[float, dict] = (0.0, {})  # the last snapshot, shared by every page for FRESH s
    closed: bool = False  # its watch stopped: no fault may start on it


class LiveLabs:
    """The watches under way, by lab name; thread-safe (the page's requests run in threads)."""

    def __init__(self, limit: int = 4):
        self.limit = limit
        self._watched: dict[str, Watched] = {}
        self._lock = threading.Lock()
        self._starting: dict[str, threading.Event] = {}  # lab -> set once its watch started or failed

    def join(self, lab: str, teacher: bool = False) -> None:
        """One more page shows lab: its watch, started if need be (about a second: the probe). The
        teacher's pages may watch past the limit (up to twice it): students never crowd them out.
        Pages that ask while the watch starts wait for it rather than start one of their own."""
        with self._lock:
            if lab in self._watched:
                self._watched[lab].viewers += 1
                return
            starting = self._starting.get(lab)
            if starting is None:
                if len(self._watched) + len(self._starting) >= self.limit * (2 if teacher else 1):
                    raise LabgenError(f"{self.limit} labs are watched already (labgen serve --watches); "
                                      "a lab's page watches it again when one closes")
                starting = self._starting[lab] = threading.Event()
                mine = True
            else:
                mine = False
        if not mine:
            starting.wait(timeout=60)
            return self._join_started(lab)
        try:
            watch = Watch(running_provider(find_lab(lab)))
            with self._lock:
                self._watched[lab] = Watched(watch, viewers=1)
        finally:
            with self._lock:
                self._starting.pop(lab, None)
            starting.set()

    def _join_started(self, lab: str) -> None:
        with self._lock:
            if lab not in self._watched:
                raise LabgenError(f"lab {lab} could not be watched: its page says why when reloaded")
            self._watched[lab].viewers += 1

    def leave(self, lab: str) -> None:
        with self._lock:
            if watched := self._watched.get(lab):
                watched.viewers -= 1
                watched.left_at = time.monotonic()

    def snapshot(self, lab: str) -> dict:
        """What the page shows of lab now: one reading of the watch, whatever the pages asking."""
        watched = self._get(lab)
        with watched.reading:
            if time.monotonic() - watched.shown[0] > FRESH:
                watched.shown = (time.monotonic(), self._read(watched))
            return watched.shown[1]

    @staticmethod
    def _read(watched: Watched) -> dict:
        seen = watched.watch
        seen.refresh()
        spec = seen.spec
        served, failed = seen.rates()
        sent, lost = seen.pings()
        return {
            "lab": spec.name,
            "blueprint": spec.blueprint,
            "provider": spec.provider,
            "vip": spec.vip,
            "daemon": spec.daemon,
            "web": spec.web,
            "holder": seen.holder(),
            "nodes": [
                {
                    "name": name,
                    "machine": look.machine,
                    "daemon": look.units.get(spec.daemon),
                    "web": look.units.get(spec.web),
                    "holds_vip": look.holds_vip,
                }
                for name, look in seen.nodes.items()
            ],
            "holders": [name for name, look in seen.nodes.items() if look.holds_vip],
            "served": round(served, 1),
            "failed": round(failed, 1),
            "pings": {"sent": sent, "answered": sent - lost},
            "timeline": [
                {"at": round(m.at - seen.started, 2), "what": m.what, "kind": m.kind}
                for m in seen.recent(SHOWN)
            ],
            "injected": " on ".join(reversed(seen.injected)) if seen.injected else None,
            "busy": seen.busy,
            "notice": watched.notice,
            "faults": list(FAILOVER_FAULTS),
        }

    def holders(self, lab: str) -> list[str] | None:
        """The nodes holding the VIP as lab's watch last looked, or None when it is not watched."""
        watched = self._watched.get(lab)
        return watched.shown[1].get("holders") if watched and watched.shown[1] else None

    def fault(self, lab: str, fault: str) -> str:
        """Inject fault on lab's VIP holder, holding the lab's lock until it is undone."""
        check_fault(fault)
        watched = self._get(lab)
        with self._acting(watched):
            if not watched.watch.injected:
                watched.held.enter_context(lab_lock(lab, "serve"))
            watched.notice = f"injecting {fault}..."
            try:
                watched.notice = watched.watch.inject(fault)
                if watched.watch.injected:
                    watched.notice += ": undo it before the next fault"
            finally:
                if not watched.watch.injected:
                    watched.held.close()
        return watched.notice

    def undo(self, lab: str) -> str:
        watched = self._get(lab)
        with self._acting(watched):
            watched.notice = watched.watch.undo()
            if not watched.watch.injected:
                watched.held.close()
        return watched.notice

    @staticmethod
    @contextlib.contextmanager
    def _acting(watched: Watched):
        if not watched.acting.acquire(blocking=False):
            raise LabgenError(f"{watched.watch.busy or 'a fault'} is under way on this lab: wait for it")
        try:
            if watched.closed:
                raise LabgenError("this lab is no longer watched: reload its page")
            yield
        finally:
            watched.acting.release()

    def _get(self, lab: str) -> Watched:
        with self._lock:
            if lab not in self._watched:
                raise LabgenError(f"lab {lab} is not watched: open its page first")
            return self._watched[lab]

    def reap(self) -> None:
        """Stop the watches no page has shown for GRACE seconds (their faults healed)."""
        now = time.monotonic()
        with self._lock:
            idle = [lab for lab, w in self._watched.items() if w.viewers <= 0 and now - w.left_at > GRACE]
            stopping = [self._watched.pop(lab) for lab in idle]
        for watched in stopping:
            self._close(watched)

    def close(self) -> None:
        with self._lock:
            stopping, self._watched = list(self._watched.values()), {}
        for watched in stopping:
            self._close(watched)

    @staticmethod
    def _close(watched: Watched) -> None:
        """Stop the watch once no fault is being injected or undone (a reboot's command takes
        seconds): its heal then meets the fault whole, and no action starts after it."""
        taken = watched.acting.acquire(timeout=120)
        watched.closed = True
        try:
            watched.watch.close()
        finally:
            watched.held.close()
            if taken:
                watched.acting.release()
