"""The labs on this host: each one a rendered directory under paths.labs_dir()."""

from __future__ import annotations

from labgen import paths
from labgen.errors import LabgenError
from labgen.lab import Lab
from labgen.providers import provider_class
from labgen.providers.base import Provider


def all_labs() -> list[Lab]:
    folder = paths.labs_dir()
    if not folder.is_dir():
        return []
    return [Lab(p) for p in sorted(folder.iterdir()) if (p / "lab.json").is_file()]


def find_lab(name: str) -> Lab:
    path = paths.labs_dir() / name
    if not (path / "lab.json").is_file():
        known = ", ".join(lab.name for lab in all_labs()) or "none"
        raise LabgenError(f"no lab named {name!r}; labs on this host: {known}")
    return Lab(path)


def provider_for(lab: Lab) -> Provider:
    return provider_class(lab.spec.provider)(lab)
