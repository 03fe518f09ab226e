"""labgen.testing is the one part of labgen a blueprint's suite may import (blueprints/ruff.toml,
TID251): the list of banned modules there must name every other module, one added included."""

from __future__ import annotations

import pkgutil
import tomllib

import labgen
import labgen.testing
from labgen import paths


def test_ruff_bans_every_labgen_module_but_testing_in_blueprints():
    config = tomllib.loads((paths.blueprints_dir() / "ruff.toml").read_text())
    banned = set(config["lint"]["flake8-tidy-imports"]["banned-api"])
    modules = {f"labgen.{m.name}" for m in pkgutil.iter_modules(labgen.__path__)} - {"labgen.testing"}
    assert banned == modules, f"add to blueprints/ruff.toml: {sorted(modules - banned)}; " \
                              f"no such module: {sorted(banned - modules)}"


def test_the_stable_api_has_what_it_lists():
    missing = [name for name in labgen.testing.__all__ if not hasattr(labgen.testing, name)]
    assert not missing and labgen.testing.API_VERSION, missing
