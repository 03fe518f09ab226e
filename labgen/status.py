"""What `labgen status` (and `class status`, for each seat) says of a lab: its nodes, who holds
the VIP, what is wrong in one line each, the last up's timing, the exercise under way."""

from __future__ import annotations

import json

from labgen.exercises import summary
from labgen.lab import Lab
from labgen.labs import BrokenLab, nodes_problem, provider_for
from labgen.observe import node_health


def lab_report(lab: Lab | BrokenLab) -> dict:
    """What `status` shows of a lab (and `class status` of each seat's): its nodes, the VIP
    holder, the last up's timing, the exercise it runs."""
    if isinstance(lab, BrokenLab):
        return {
            "name": lab.name,
            "path": str(lab.path),
            "state": "broken",
            "problem": lab.reason,
            "problems": [lab.reason],
            "up_state": None,
            "nodes": {},
            "units": {},
            "wanted": {},
            "vip_holders": [],
            "skipped": [],
            "exercise": None,
        }
    provider = provider_for(lab)
    nodes = provider.status()
    running = all(state == "running" for state in nodes.values())
    health = {node: node_health(provider, node) for node, state in nodes.items() if state == "running"}
    units = {node: states for node, (_, states) in health.items()}
    # the VIP is asked of nodes only when all run: otherwise their state is the problem
    holders = [node for node, (holds, _) in health.items() if holds] if running else []
    wanted = _wanted_units(lab, units, holders)
    found = [
        _up_problem(lab),
        nodes_problem(lab, nodes),
        _units_problem(lab, units, wanted),
        _vip_problem(lab, holders) if running else None,
    ]
    problems = [problem for problem in found if problem]
    return {
        "name": lab.name,
        "state": "degraded" if problems else "up",
        "problem": f"lab {lab.name}: {'; '.join(problems)}" if problems else None,
        "problems": problems,
        "up_state": lab.up_state,
        "blueprint": lab.spec.blueprint,
        "provider": lab.spec.provider,
        "path": str(lab.path),
        "vip": lab.spec.vip,
        "nodes": nodes,
        "units": units,
        "wanted": wanted,
        "box": lab.spec.nodes[0].box,
        "vip_holders": holders,
        "skipped": [s.model_dump() for s in lab.spec.skipped],
        "up_timing": _up_timing(lab),
        "exercise": summary(lab),
    }


def _wanted_units(lab: Lab, units: dict[str, dict[str, str]], holders: list[str]) -> dict[str, list[str]]:
    """The HA daemon must run on every node; the web server too where it starts at boot, else
    (pacemaker starts it) on the VIP holder only."""
    spec = lab.spec
    return {
        node: [spec.daemon] + ([spec.web] if spec.web in spec.services or node in holders else [])
        for node in units
    }


def _units_problem(lab: Lab, units: dict[str, dict[str, str]], wanted: dict[str, list[str]]) -> str | None:
    down = [(node, unit) for node, names in wanted.items() for unit in names if units[node][unit] != "active"]
    if not down:
        return None
    node, unit = down[0]
    said = ", ".join(f"{unit} is {units[node][unit]} on {node}" for node, unit in down)
    return f"{said} (`labgen exec {lab.name} {node} -- journalctl -u {unit}` says why)"


def _vip_problem(lab: Lab, holders: list[str]) -> str | None:
    """A lab serves through its VIP: held by exactly one node."""
    vip = f"the VIP {lab.spec.vip}"
    check = f"`labgen verify --quick {lab.name}` shows what is wrong"
    if not holders:
        return f"no node holds {vip} ({check})"
    if len(holders) > 1:
        return f"{' and '.join(holders)} all hold {vip}, a split brain ({check})"
    return None


def _up_problem(lab: Lab) -> str | None:
    if lab.up_state == "up":
        return None
    again = f"labgen up {lab.spec.blueprint} --name {lab.name} --provider {lab.spec.provider}"
    return f"its `labgen up` did not finish (`{again}` finishes it)"


def _up_timing(lab: Lab) -> dict | None:
    """What the last `up` of this lab recorded (labgen.cli.up), without its per-step list."""
    try:
        timing = json.loads(lab.up_record.read_text())
    except (OSError, ValueError):
        return None
    timing.pop("steps", None)
    return timing
