"""Claims and breakages are consistent data: every claim names tests that exist, every breakage
names claims and nodes that exist, and the verdict per claim follows its tests' outcomes."""

from __future__ import annotations

import pytest

from labgen import paths
from labgen.errors import LabgenError
from labgen.lab import ClaimSpec, LabSpec
from labgen.model.breakages import load_breakages
from labgen.model.load import load_blueprint
from labgen.verify.claims import function_id, verdicts
from tests.conftest import BLUEPRINTS


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_every_breakage_names_known_claims_and_nodes(blueprint):
    bp, _ = load_blueprint(blueprint)
    claims, nodes = {c.id for c in bp.claims}, {n.name for n in bp.nodes}
    for breakage in load_breakages(paths.blueprints_dir() / blueprint):
        assert set(breakage.fails) <= claims, f"{breakage.id}: unknown claims {set(breakage.fails) - claims}"
        assert {*breakage.apply, *breakage.undo} <= nodes, f"{breakage.id}: unknown nodes"


def test_keepalived_catalogue_has_at_least_ten_breakages():
    assert len(load_breakages(paths.blueprints_dir() / "keepalived-rr")) >= 10


def test_a_claim_naming_a_missing_test_is_refused(blueprint_copy):
    folder = blueprint_copy("keepalived-rr")
    yaml_file = folder / "blueprint.yaml"
    yaml_file.write_text(yaml_file.read_text().replace("test_vip_is_on_the_master_only]", "test_nothing]", 1))
    expected = r"claims\[7\]\.tests\[0\]: 'test_6_vip.py::test_nothing': no such test"
    with pytest.raises(LabgenError, match=expected):
        load_blueprint(str(folder))


def test_pytest_node_ids_map_to_claim_tests():
    assert function_id("tests/test_6_vip.py::test_x[lb0-stop]") == "test_6_vip.py::test_x"


def spec_with(claims: list[ClaimSpec]) -> LabSpec:
    return LabSpec.model_construct(claims=claims)


@pytest.mark.parametrize(
    ("outcomes", "verdict"),
    [
        ({"tests/t_a.py::test_a[lb0]": "passed", "tests/t_a.py::test_a[lb1]": "failed"}, "failed"),
        # a part of it unproven (LVS without ip_vs) is not a pass
        ({"tests/t_a.py::test_a[lb0]": "passed", "tests/t_a.py::test_a[lb1]": "skipped"}, "not proven"),
        ({"tests/t_a.py::test_a": "skipped"}, "not proven"),
        ({"tests/t_a.py::test_a": "passed"}, "passed"),
        ({"tests/t_b.py::test_b": "failed"}, "not run"),
    ],
)
def test_a_claim_fails_when_any_of_its_tests_fails(outcomes, verdict):
    spec = spec_with([ClaimSpec(id="c", quote="q", tests=["t_a.py::test_a"])])
    assert verdicts(spec, outcomes) == {"c": verdict}
