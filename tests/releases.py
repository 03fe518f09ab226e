"""One blueprint's whole suite on the releases other than the default, through `labgen matrix` as a
teacher runs it: one test module per blueprint, so a parallel run gives each its own worker."""

from __future__ import annotations

import json

import pytest

from labgen.boxes import rootfs
from labgen.boxes.releases import DEFAULT, releases
from tests.hostcheck import leftovers, snapshot
from tests.labs import labgen

OTHER_DEBIAN = [r.name for r in releases().values() if r.distro == "debian" and r.name != DEFAULT]


def matrix_on_nspawn(blueprint: str, boxes: list[str] | None = None):
    """The module's test: up, the whole suite (claims included), a measured stop, down; per release
    (boxes: a module may take some releases only, so that a parallel run gives each a worker)."""

    @pytest.mark.parametrize("box", OTHER_DEBIAN if boxes is None else boxes)
    def test_whole_suite_on_release(box):
        if not rootfs.is_current(box):
            pytest.skip(f"needs `labgen box build {box} --for nspawn`")
        before = snapshot()
        args = ["--boxes", box, "--provider", "nspawn", "--faults", "stop", "--json"]
        run = labgen("matrix", blueprint, *args, timeout=1800)
        rows = json.loads(run.stdout)
        assert len(rows) == 1, run.stdout + run.stderr
        row = rows[0]
        log = f"(log: {row['log']})"
        assert row["error"] is None, f"{box}: {row['error']} {log}"
        # not proven: what the lab's provider cannot show here, with the reason (LVS without ip_vs)
        failed = {claim: v for claim, v in row["claims"].items() if v not in ("passed", "not proven")}
        assert not failed, f"{box}: claims {failed}, tests {row['tests']} {log}"
        assert row["passed"] and run.returncode == 0, f"{box}: tests {row['tests']} {log}"
        stop = row["failovers"][0]
        assert stop["vip_moved_ms"] is not None and stop["failback_ms"] is not None, f"{box}: {stop} {log}"
        left = leftovers(before, [f"labgen-{row['lab']}"])
        assert left == {}, f"the matrix left things behind: {left}"

    return test_whole_suite_on_release
