"""Output read outside a terminal (a pipe, a file, CI's log): rows never cut or wrapped at 80
columns, no padding at line ends, values in words and never Python reprs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import BLUEPRINTS

LONG_ROW = """
from rich.table import Table
from labgen.cli.output import print_table
table = Table("lab", "nodes", box=None, pad_edge=False)
table.add_row("a-lab", "lb0 ok " * 60)
table.add_row("b", "[red]lb1 stopped[/]")
print_table(table)
"""


def piped(argv: list[str]) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


def test_a_table_in_a_pipe_is_as_wide_as_its_longest_row():
    lines = piped([sys.executable, "-c", LONG_ROW]).splitlines()
    assert len(lines) == 3, lines  # header and two rows: nothing wrapped onto a line of its own
    assert lines[1].startswith("a-lab") and lines[1].endswith("lb0 ok"), lines[1]
    assert lines[2].split() == ["b", "lb1", "stopped"] and "\x1b" not in lines[2], lines[2]
    assert all(line == line.rstrip() for line in lines), "padding at the end of a line"


@pytest.mark.parametrize(
    "argv",
    [["doctor"], ["list"], ["--help"], ["box", "list"], *(["show", name] for name in BLUEPRINTS)],
    ids=lambda argv: " ".join(argv),
)
def test_piped_output_reads_as_words(argv):
    out = piped([sys.executable, "-m", "labgen", *argv])
    assert out.strip(), f"labgen {' '.join(argv)} printed nothing"
    for bad in ("{'", "['", "&amp;", "&gt;", "\x1b["):
        assert bad not in out, f"labgen {' '.join(argv)} printed {bad!r}:\n{out}"


def test_show_gives_each_setting_as_set_takes_it():
    out = piped([sys.executable, "-m", "labgen", "show", "keepalived-rr"])
    assert "  keepalived.priorities.backup=50\n" in out, out
    assert "keepalived.auth_pass=" not in out, "the shared secret is never shown"
