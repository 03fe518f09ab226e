"""Fixtures shared by the project's tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from labgen import paths

BLUEPRINTS = ["heartbeat-nginx", "keepalived-rr"]


@pytest.fixture
def blueprint_copy(tmp_path: Path):
    """Copy a shipped blueprint into tmp_path so a test can break its YAML."""

    def copy(name: str) -> Path:
        target = tmp_path / "bp" / name
        shutil.copytree(paths.blueprints_dir() / name, target)
        return target

    return copy


@pytest.fixture(autouse=True)
def _labgen_home(tmp_path_factory, monkeypatch):
    """Unit tests never touch the real LABGEN_HOME (integration tests set their own)."""
    if "LABGEN_TEST_HOME" not in os.environ:
        monkeypatch.setenv("LABGEN_HOME", str(tmp_path_factory.mktemp("labgen-home")))
