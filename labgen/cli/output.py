"""Shared output helpers: JSON for programs, rich for people."""

from __future__ import annotations

import json
import sys

from rich.console import Console

console = Console()


def print_json(data: object) -> None:
    json.dump(data, sys.stdout, indent=2)
    sys.stdout.write("\n")
