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
    hold: float = 0,
) -> T:
    """Call observe() until accept(value), held for `hold` seconds in a row; return the value, or
    fail naming expected and seen. The hold is for systems that look fine just before they move."""
    start = time.monotonic()
    accepted_since = None
    while True:
        seen = observe()
        now = time.monotonic()
        accepted_since = (accepted_since or now) if accept(seen) else None
        if accepted_since is not None and now - accepted_since >= hold:
            return seen
        waited = now - start
        if waited >= timeout:
            raise PollTimeout(f"expected {expected} within {timeout:g} s; "
                              f"after {waited:.1f} s saw {said(seen)}")
        time.sleep(interval)


def said(value: object) -> str:
    """A value as a sentence says it, not as Python writes it: lb0, lb1; lb0 on, lb1 off."""
    if isinstance(value, dict):
        return ", ".join(f"{key} {said(item)}" for key, item in value.items()) or "nothing"
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return ", ".join(said(item) for item in items) or "nothing"
    if value is None or value == "":
        return "nothing"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
