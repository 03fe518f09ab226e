"""Unit tests never touch the real LABGEN_HOME (integration tests use the real box cache)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _labgen_home(tmp_path_factory, monkeypatch):
    """A fresh LABGEN_HOME per test."""
    monkeypatch.setenv("LABGEN_HOME", str(tmp_path_factory.mktemp("labgen-home")))
