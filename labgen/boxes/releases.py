"""The releases labgen builds boxes of, read from releases.yaml: what differs between them is data,
so one recipe (boxes/rootfs.py) builds every one."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from ruamel.yaml import YAML

from labgen.errors import LabgenError
from labgen.grammar import Strict

FILE = Path(__file__).with_name("releases.yaml")
DEFAULT = "debian-12"


class ReleaseDeparture(Strict):
    what: str = Field(description="what a lab on this release does differently")
    why: str = Field(description="why")
    packages: list[str] = Field([], description="it applies to labs with one of these; empty: to all")


class Release(Strict):
    """One distribution release: where its packages come from and which daemon versions it ships."""

    name: str = Field(description="the box name, e.g. debian-12")
    distro: Literal["debian", "ubuntu"] = Field(description="the distribution")
    version: str = Field(description="the release number, e.g. 12")
    suite: str = Field(pattern=r"^[a-z]+$", description="the archive's code name, e.g. bookworm")
    kernel: str = Field(description="the kernel series a VM boots (containers share the host's)")
    mirror: str | None = Field(None, description="the archive; unset: the host's Debian mirror")
    security: str | None = Field(
        "http://deb.debian.org/debian-security", description="the security archive; null: none"
    )
    components: list[str] = Field(["main"], description="archive components")
    kernel_package: str = Field("linux-image-amd64", description="the kernel a VM boots")
    keyring: str | None = Field(None, description="debootstrap --keyring; unset: the host's default")
    debootstrap_script: str | None = Field(
        None, description="debootstrap's script for the suite, where it has none of that name"
    )
    daemons: dict[str, str] = Field(description="package -> the major.minor version the release ships")
    departures: list[ReleaseDeparture] = Field([], description="what differs on this release only")

    def departures_for(self, packages: list[str]) -> list[ReleaseDeparture]:
        """The departures that concern a lab installing these packages."""
        return [d for d in self.departures if not d.packages or set(d.packages) & set(packages)]


@cache
def releases() -> dict[str, Release]:
    data = YAML(typ="safe").load(FILE.read_text())
    return {name: Release(name=name, **entry) for name, entry in data.items()}


def release(name: str) -> Release:
    """The release a box name names; one line naming the known ones otherwise."""
    if problem := unknown(name):
        raise LabgenError(problem)
    return releases()[name]


def unknown(name: str) -> str | None:
    """What is wrong with a box name, in the words every caller uses; None for a known box."""
    known = releases()
    return None if name in known else f"unknown box {name!r}; labgen builds: {', '.join(known)}"
