"""Bounded polls: wait for a condition, and say what was expected and what was seen if it fails."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from labgen.errors import LabgenError

T = TypeVar("T")


class PollTimeout(AssertionError, LabgenError):
    """A condition did not hold in time: a failed check to pytest, one clear line to the CLI."""


def wait_for(
    observe: Callable[[], T],
    accept: Callable[[T], bool],
    *,
    expected: str,
    timeout: float,
    interval: float = 0.1,
) -> T:
    """Call observe() until accept(value); return the value, or fail naming expected and seen."""
    start = time.monotonic()
    while True:
        seen = observe()
        if accept(seen):
            return seen
        waited = time.monotonic() - start
        if waited >= timeout:
            raise PollTimeout(f"expected {expected} within {timeout:g} s; after {waited:.1f} s saw {seen!r}")
        time.sleep(interval)
