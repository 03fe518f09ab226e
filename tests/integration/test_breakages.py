"""The verifier verified: every breakage in a blueprint's catalogue, applied to a running lab, makes
`labgen verify --claim` fail on the claims it names, within the protocol's bound, and passes again
once labgen undoes it. One lab per blueprint serves the whole catalogue."""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest

from labgen import paths
from labgen.boxes import rootfs
from labgen.labs import find_lab, provider_for
from labgen.model.breakages import Breakage, load_breakages
from labgen.observe import serving_bound, settle_time, wait_settled
from tests.conftest import BLUEPRINTS
from tests.labs import RunningLab, labgen, ok

pytestmark = [
    pytest.mark.nspawn,
    pytest.mark.skipif(os.geteuid() != 0, reason="nspawn containers need root"),
    pytest.mark.skipif(shutil.which("systemd-nspawn") is None, reason="needs systemd-container"),
    pytest.mark.skipif(not rootfs.is_current(), reason="needs `labgen box build debian-12`"),
]

CATALOGUE = [(bp, b) for bp in BLUEPRINTS for b in load_breakages(paths.blueprints_dir() / bp)]
LAB_NAMES = {"keepalived-rr": "t-brk-ka", "heartbeat-nginx": "t-brk-hb"}


@pytest.fixture(scope="module")
def labs():
    running: dict[str, RunningLab] = {}

    def lab_for(blueprint: str) -> RunningLab:
        if blueprint not in running:
            running[blueprint] = RunningLab(blueprint, LAB_NAMES[blueprint], "nspawn", [])
        return running[blueprint]

    yield lab_for
    for lab in running.values():
        lab.down()


def verdicts(lab: RunningLab) -> dict[str, str]:
    record = json.loads((paths.labs_dir() / lab.name / "logs" / "claims.json").read_text())
    return {claim["id"]: claim["verdict"] for claim in record}


def bound(lab: RunningLab, breakage: Breakage) -> float:
    """How long verify may take to fail: the breakage's own figure, else one settle bound of the
    protocol (a behaviour test waits that long at most before it fails) plus a minute of overhead."""
    if breakage.within:
        return breakage.within
    spec = find_lab(lab.name).spec
    return settle_time(spec) + serving_bound(spec) + 60


def undo(lab: RunningLab, breakage: Breakage) -> None:
    """The breakage's own undo, else each node it touched provisioned again."""
    for node, command in breakage.undo.items():
        lab.exec(node, command)
    if not breakage.undo:
        for node in breakage.apply:
            script = (paths.labs_dir() / lab.name / "provision" / f"{node}.sh").read_text()
            ok("exec", "-i", lab.name, node, "--", "bash", "-s", input=script)
    spec = find_lab(lab.name).spec
    wait_settled(provider_for(find_lab(lab.name)), on=spec.preferred.name)


@pytest.mark.parametrize(("blueprint", "breakage"), CATALOGUE, ids=[f"{bp}:{b.id}" for bp, b in CATALOGUE])
def test_breakage_is_caught_by_its_claims(labs, blueprint, breakage):
    lab = labs(blueprint)
    features = find_lab(lab.name).spec.features
    missing = [need for need in breakage.needs if not features.get(need, True)]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}, which this host's labs lack")
    claims = [arg for claim in breakage.fails for arg in ("--claim", claim)]
    for node, command in breakage.apply.items():
        lab.exec(node, command)
    try:
        started = time.monotonic()
        broken = labgen("verify", lab.name, *claims, timeout=900)
        took = time.monotonic() - started
        seen = verdicts(lab)
    finally:
        undo(lab, breakage)
    assert broken.returncode != 0, f"{breakage.id} was not caught:\n{broken.stdout[-3000:]}"
    uncaught = {claim: seen[claim] for claim in breakage.fails if seen[claim] != "failed"}
    assert not uncaught, f"{breakage.id}: these claims did not fail: {uncaught}\n{broken.stdout[-3000:]}"
    assert took <= bound(lab, breakage), f"{breakage.id} was caught only after {took:.0f} s"
    mended = labgen("verify", lab.name, *claims, timeout=900)
    assert mended.returncode == 0, f"after undoing {breakage.id}:\n{mended.stdout[-3000:]}"
