"""Blueprint -> resolved lab (LabSpec) -> rendered lab directory."""

from __future__ import annotations

from pathlib import Path

from labgen.lab import Lab
from labgen.model.load import load_blueprint
from labgen.providers import provider_class
from labgen.render.lab_dir import write_lab
from labgen.render.resolve import resolve, with_secrets


def render_lab(
    blueprint: str, out: Path, *, name: str | None, provider: str, sets: list[str], force: bool,
    secret: str | None = None,
) -> Lab:
    """The whole render flow shared by `render` and `up`: load, resolve, write (with `secret` as
    the nodes' shared secret, else the blueprint's or a fresh one)."""
    bp, source = load_blueprint(blueprint, sets)
    features = provider_class(provider).features()
    bp = with_secrets(bp, secret)
    spec = resolve(bp, name or bp.name, provider, features)
    return Lab(write_lab(bp, source, spec, out, force))
