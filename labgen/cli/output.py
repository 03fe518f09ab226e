"""Shared output helpers: JSON for programs, rich for people."""

from __future__ import annotations

import json
import sys

from rich.console import Console

# Into a file or a pipe (logs, CI, grep) a line is never wrapped: rich would cut at 80 columns.
console = Console(soft_wrap=not sys.stdout.isatty())
errors = Console(stderr=True, soft_wrap=True)  # what went wrong, one line each, apart from results


def print_json(data: object) -> None:
    json.dump(data, sys.stdout, indent=2)
    sys.stdout.write("\n")
