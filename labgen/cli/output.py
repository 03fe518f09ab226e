"""Shared output helpers: JSON for programs, rich for people."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from rich.table import Table

# Into a file or a pipe (logs, CI, grep) a line is never wrapped: rich would cut at 80 columns.
console = Console(soft_wrap=not sys.stdout.isatty())
errors = Console(stderr=True, soft_wrap=True)  # what went wrong, one line each, apart from results


def settings(values: dict, prefix: str = "") -> list[str]:
    """`keepalived.priorities.backup=50`, one per leaf: the very key `--set` takes, never a repr."""
    lines = []
    for key, value in values.items():
        if isinstance(value, dict):
            lines += settings(value, f"{prefix}{key}.")
        else:
            lines.append(f"{prefix}{key}={words(value)}")
    return lines


def words(value: object) -> str:
    """A value as a person reads it: yes/no, a list joined by commas, none."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "none"
    if isinstance(value, list | tuple):
        return ", ".join(map(words, value)) or "none"
    return str(value)


def print_json(data: object) -> None:
    json.dump(data, sys.stdout, indent=2)
    sys.stdout.write("\n")


def print_table(table: Table) -> None:
    """In a terminal, fitted to it; into a file or a pipe, as wide as its content: a row is never
    cut or wrapped, and no line ends in padding."""
    from rich.measure import Measurement

    if console.is_terminal:
        console.print(table)
        return
    width = Measurement.get(console, console.options.update(width=10**5), table).maximum
    wide = Console(width=width, soft_wrap=True, no_color=console.no_color)
    with wide.capture() as captured:
        wide.print(table)
    sys.stdout.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))
