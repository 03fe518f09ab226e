"""The nspawn provider: each node a systemd-nspawn container over the shared Debian root, its
networks veths into bridges in the lab's namespace (provider.py)."""

from labgen.providers.nspawn.provider import NspawnProvider

__all__ = ["NspawnProvider"]
