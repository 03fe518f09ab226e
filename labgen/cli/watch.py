"""labgen watch: a lab live, for a projector: nodes, VIP holder, the client's service, a timeline.

In a terminal the view redraws four times a second and keys inject faults on the VIP holder;
into a pipe each moment of the timeline is one line as it happens (the keys need a terminal).
"""

from __future__ import annotations

import contextlib
import os
import sys
import termios
import threading
import time
import tty
from typing import Annotated

import typer

from labgen.cli.options import LabName
from labgen.cli.output import console

KEYS = {"s": "stop", "c": "crash", "f": "freeze", "l": "link-down", "r": "reboot", "p": "reset"}
SHOWN = 14  # timeline lines on screen
STYLE = {
    "fault": "bold yellow",
    "move": "bold cyan",
    "outage": "bold red",
    "served": "bold green",
    "note": "dim",
}


def watch(
    lab: LabName,
    seconds: Annotated[
        float | None,
        typer.Option("--for", min=1, help="Stop after this many seconds (default: q or Ctrl-C)."),
    ] = None,
) -> None:
    """Watch a lab live: both nodes, who holds the VIP, the client's requests and pings each
    second, and a timeline of every fault, VIP move and outage. In a terminal, keys inject a fault
    on the VIP holder (s stop, c crash, f freeze, l link-down, r reboot, p power cut), u undoes
    it, q quits; a fault still in place at the end is undone."""
    from labgen.labs import find_lab, running_provider
    from labgen.verify.watch import Watch

    provider = running_provider(find_lab(lab))
    with console.status("starting the client seat's probe"):
        seen = Watch(provider)
    interactive = console.is_terminal and sys.stdin.isatty()
    try:
        if interactive:
            _live(seen, lab, seconds)
        else:
            _lines(seen, seconds)
    finally:
        with console.status("stopping the probe" + (", undoing the fault" if seen.injected else "")):
            seen.close()


def _lines(seen, seconds: float | None) -> None:
    """Into a pipe: each moment as one line, relative to the start, until --for or Ctrl-C."""
    console.print(f"watching {seen.spec.name}: VIP {seen.spec.vip}", highlight=False)
    end = time.monotonic() + (seconds or float("inf"))
    while time.monotonic() < end:
        for moment in seen.refresh():
            console.print(f"{moment.at - seen.started:8.2f} s  {moment.what}", highlight=False)
        time.sleep(0.25)
    served, failed = seen.rates()
    sent, lost = seen.pings()
    console.print(
        f"last {5:.0f} s: {served:.1f} requests/s served, {failed:.1f} failed; "
        f"pings {sent - lost} of {sent} answered",
        highlight=False,
    )


def _live(seen, lab: str, seconds: float | None) -> None:
    """In a terminal: the view redrawn, keys read in cbreak mode (no Enter), restored at the end."""
    from rich.live import Live

    from labgen.locks import lab_lock

    notice = ["keys: s stop  c crash  f freeze  l link-down  r reboot  p power cut  u undo  q quit"]
    quit_ = threading.Event()
    held = contextlib.ExitStack()  # the lab's lock, from the first fault until it is undone

    def act(key: str) -> None:
        try:
            if key == "u":
                notice[0] = seen.undo()
                if not seen.injected:
                    held.close()
            else:
                if not seen.injected:
                    held.enter_context(lab_lock(lab, "watch"))
                notice[0] = f"injecting {KEYS[key]}..."
                notice[0] = seen.inject(KEYS[key])
                if seen.injected:
                    notice[0] += ": u undoes it"
        except Exception as exc:  # shown in the view, never a traceback over it
            notice[0] = f"[red]{exc}[/]"

    def on_key(key: str) -> None:
        if key in ("q", "\x03"):
            quit_.set()
        elif key in KEYS or key == "u":
            threading.Thread(target=act, args=(key,), daemon=True).start()

    end = time.monotonic() + (seconds or float("inf"))
    with _keys(on_key), Live(_view(seen, notice[0]), console=console, refresh_per_second=4) as live, held:
        while not quit_.is_set() and time.monotonic() < end:
            seen.refresh()
            live.update(_view(seen, notice[0]))
            quit_.wait(0.25)


def measure_watched(provider, fault: str):
    """`labgen failover --watch`: the measurement in a thread, its probe shown live meanwhile; the
    report, or the measurement's own error."""
    from rich.live import Live
    from rich.text import Text

    from labgen.verify import faults
    from labgen.verify.failover import measure
    from labgen.verify.watch import Watch

    seen: list = []
    result: dict = {}

    def run() -> None:
        try:
            result["report"] = measure(
                provider,
                fault,
                on_probe=lambda probe, pinger: seen.append(Watch(provider, probe, pinger)),
                narrate=lambda at, what: seen[0].note(at, what),
            )
        except BaseException as exc:  # raised again in the caller's thread
            result["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    notice = f"measuring a {fault} of the VIP holder; the report follows"
    try:
        with Live(Text("waiting for the cluster to settle"), console=console, refresh_per_second=4) as live:
            while worker.is_alive():
                if seen:
                    seen[0].refresh()
                    live.update(_view(seen[0], notice))
                worker.join(0.25)
    except KeyboardInterrupt:  # the measurement's thread dies with labgen: never leave its fault
        with console.status("undoing the fault"):
            faults.heal(provider)
        raise
    if seen:
        seen[0].close()
    if "error" in result:
        raise result["error"]
    return result["report"]


@contextlib.contextmanager
def _keys(on_key):
    """Each key pressed, to on_key, from a thread; the terminal as it was afterwards."""
    fd = sys.stdin.fileno()
    before = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                if key := os.read(fd, 1).decode(errors="replace"):
                    on_key(key.lower())

    threading.Thread(target=read, daemon=True).start()
    try:
        yield
    finally:
        stop.set()
        termios.tcsetattr(fd, termios.TCSADRAIN, before)


def _view(seen, notice: str):
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    spec = seen.spec
    holder = seen.holder() or "nobody"
    title = Text.from_markup(
        f"[bold]{spec.name}[/] ({spec.blueprint}, {spec.provider})  "
        f"VIP {spec.vip} → [bold cyan]{holder}[/]  {time.strftime('%H:%M:%S')}"
    )
    nodes = Table(
        "node", "machine", spec.daemon, spec.web, "VIP", box=None, pad_edge=False, header_style="bold"
    )
    for name, look in seen.nodes.items():
        nodes.add_row(
            name,
            _state(look.machine, "running"),
            *(_state(look.units.get(unit, "-"), "active") for unit in (spec.daemon, spec.web)),
            "[bold cyan]●[/]" if look.holds_vip else "",
        )
    served, failed = seen.rates()
    sent, lost = seen.pings()
    colour = "red" if failed else "green"
    client = Text.from_markup(
        f"client: [green]{served:4.1f}[/] requests/s served, [{colour}]{failed:4.1f}[/] failed (last 5 s); "
        f"pings {sent - lost} of {sent} answered"
    )
    moments = seen.recent(SHOWN)
    timeline = Table(box=None, pad_edge=False, show_header=False)
    for moment in moments:
        timeline.add_row(f"{moment.at - seen.started:8.2f} s", Text(moment.what, style=STYLE[moment.kind]))
    return Group(
        title,
        Text(""),
        nodes,
        Text(""),
        client,
        Text(""),
        Text("timeline", style="bold"),
        timeline,
        Text(""),
        Text.from_markup(notice),
    )


def _state(value: str, good: str) -> str:
    return f"[green]{value}[/]" if value == good else f"[yellow]{value}[/]"
