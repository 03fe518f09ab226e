"""The verifier verified: every breakage in a blueprint's catalogue, applied to a running lab, makes
`labgen verify --claim` fail on the claims it names, within the protocol's bound, and passes again
once labgen undoes it. One lab per blueprint serves the whole catalogue."""

from __future__ import annotations

import os
import shutil

import pytest

from labgen import paths
from labgen.boxes import rootfs
from labgen.model.breakages import load_breakages
from tests.catalogue import assert_caught
from tests.conftest import BLUEPRINTS
from tests.labs import RunningLab

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


@pytest.mark.parametrize(("blueprint", "breakage"), CATALOGUE, ids=[f"{bp}:{b.id}" for bp, b in CATALOGUE])
def test_breakage_is_caught_by_its_claims(labs, blueprint, breakage):
    assert_caught(labs(blueprint).name, breakage)
