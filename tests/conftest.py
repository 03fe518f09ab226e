"""Fixtures shared by the project's tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from labgen import paths

BLUEPRINTS = ["heartbeat-nginx", "keepalived-rr", "pacemaker-nginx"]


@pytest.fixture
def blueprint_copy(tmp_path: Path):
    """Copy a shipped blueprint into tmp_path so a test can break its YAML."""

    def copy(name: str) -> Path:
        target = tmp_path / "bp" / name
        shutil.copytree(paths.blueprints_dir() / name, target)
        return target

    return copy
