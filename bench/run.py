"""labgen's benchmark: every figure against a floor measured in the same run, with its spread.

    .venv/bin/python bench/run.py [--sections cli,nspawn,libvirt,failover] [--repeat N]

Writes BENCHMARKS.md (a table a person reads) and bench/results.json (for programs). This machine
is shared and noisy, so targets are ratios against a floor (a bare Python start, a bare container
or VM boot) taken in the same run, and every figure gives min / median / max over the repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LABGEN = [sys.executable, "-m", "labgen"]


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def run(argv: list[str]) -> None:
    subprocess.run(argv, check=True, capture_output=True, cwd=ROOT)


def spread(samples: list[float]) -> dict:
    return {"min": min(samples), "median": statistics.median(samples), "max": max(samples), "n": len(samples)}


def figure(name: str, samples: list[float], floor: dict | None, target: str, how: str) -> dict:
    result = {"name": name, **spread(samples), "target": target, "how": how}
    if floor:
        result["ratio_to_floor"] = result["median"] / floor["median"]
    return result


def cli_section(repeat: int) -> list[dict]:
    """Start-up and render times against the floor of starting the same Python."""
    floor = spread([timed(lambda: run([sys.executable, "-c", "pass"])) for _ in range(repeat)])
    out = Path(tempfile.mkdtemp(prefix="labgen-bench-"))
    commands = {
        "labgen --help": ([*LABGEN, "--help"], "< 0.3 s"),
        "labgen list": ([*LABGEN, "list"], "< 0.3 s"),
        "labgen render keepalived-rr": (
            [*LABGEN, "render", "keepalived-rr", "-o", str(out), "--force"],
            "< 0.5 s",
        ),
        "labgen render heartbeat-nginx": (
            [*LABGEN, "render", "heartbeat-nginx", "-o", str(out), "--force"],
            "< 0.5 s",
        ),
    }
    figures = [{"name": "floor: python -c pass", **floor, "target": "", "how": "bare interpreter start"}]
    for name, (argv, target) in commands.items():
        samples = [timed(lambda argv=argv: run(argv)) for _ in range(repeat)]
        figures.append(figure(name, samples, floor, target, "wall time of the whole process"))
    return figures


SECTIONS: dict[str, Callable[[int], list[dict]]] = {"cli": cli_section}


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        "# labgen benchmarks",
        "",
        f"Measured {m['date']} on {m['cpus']} CPUs, {m['memory_gib']} GiB, kernel {m['kernel']}, "
        f"Python {m['python']} by `.venv/bin/python bench/run.py` (see its docstring).",
        "",
    ]
    for section, figures in results["sections"].items():
        lines += [
            f"## {section}",
            "",
            "| figure | min | median | max | n | vs floor | target | how |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for f in figures:
            ratio = f"{f['ratio_to_floor']:.2f}x" if "ratio_to_floor" in f else ""
            lines.append(
                f"| {f['name']} | {f['min']:.3f} | {f['median']:.3f} | {f['max']:.3f} | {f['n']} | {ratio} "
                f"| {f['target']} | {f['how']} |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sections", default=",".join(SECTIONS))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    results = {"machine": machine(), "sections": {}}
    for section in args.sections.split(","):
        if section not in SECTIONS:
            sys.exit(f"bench: unknown section {section!r}; known: {', '.join(SECTIONS)}")
        print(f"bench: {section} …", file=sys.stderr)
        results["sections"][section] = SECTIONS[section](args.repeat)
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    args.out.write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
