"""Providers: one module each behind the Provider interface in base.py; imported only when used."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from labgen.errors import LabgenError

if TYPE_CHECKING:
    from labgen.providers.base import Provider

PROVIDERS = {"libvirt": "LibvirtProvider", "nspawn": "NspawnProvider"}


def provider_class(name: str) -> type[Provider]:
    if name not in PROVIDERS:
        raise LabgenError(f"unknown provider {name!r}; use one of: {', '.join(PROVIDERS)}")
    module = importlib.import_module(f"labgen.providers.{name}")
    return getattr(module, PROVIDERS[name])
