"""Progress a person can follow for long operations: numbered steps with elapsed time."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console


class Progress:
    """Prints one line per step as it starts and as it ends (with its duration); keeps the
    durations in `steps`, so a command can record where its time went."""

    def __init__(self, console: Console | None = None, quiet: bool = False):
        self.console = console or Console(stderr=True)
        self.quiet = quiet
        self.started = time.monotonic()
        self.steps: list[dict] = []

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @contextmanager
    def step(self, text: str) -> Iterator[None]:
        begun = time.monotonic()
        with self.console.status(f"[bold]{text}[/] …") if not self.quiet else _nothing():
            yield
        took = time.monotonic() - begun
        self.steps.append({"step": text, "seconds": round(took, 3)})
        if not self.quiet:
            self.console.print(f"[green]✓[/] {text} [dim]({took:.1f} s)[/]")

    def note(self, text: str) -> None:
        if not self.quiet:
            self.console.print(f"  [dim]{text}[/]")


@contextmanager
def _nothing() -> Iterator[None]:
    yield
