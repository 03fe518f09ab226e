"""Unit tests never touch the real LABGEN_HOME (integration tests use the real box cache)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _labgen_home(tmp_path_factory, monkeypatch):
    """A fresh LABGEN_HOME per test."""
    monkeypatch.setenv("LABGEN_HOME", str(tmp_path_factory.mktemp("labgen-home")))


@pytest.fixture
def rendered_spec(tmp_path):
    """The LabSpec of a blueprint rendered for nspawn, with --set values."""
    from labgen.render import render_lab

    def render(blueprint: str, sets=()):
        lab = render_lab(blueprint, tmp_path / "lab", name=None, provider="nspawn", sets=[*sets], force=False)
        return lab.spec

    return render
