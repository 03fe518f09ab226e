"""A blueprint's catalogue of breakages: realistic mistakes, how to make them in a running lab, and
the claims its suite must then fail. The proof that the verifier catches what it should, and the
raw material of break-fix exercises."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from labgen.errors import LabgenError
from labgen.grammar import Strict
from labgen.model.files import read_entries

FILE = "breakages.yaml"


class Breakage(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]{0,39}$", description="the breakage's name")
    what: str = Field(min_length=1, description="the mistake, as a student or a bad edit makes it")
    apply: dict[str, str] = Field(min_length=1, description="node -> shell run there as root, in this order")
    undo: dict[str, str] = Field(
        default_factory=dict, description="node -> shell; unset: the touched nodes' provisioners run again"
    )
    fails: list[str] = Field(min_length=1, description="claim ids that must fail while it is applied")
    needs: list[str] = Field(default_factory=list, description="lab features it needs, e.g. ip_vs")
    within: float | None = Field(
        None, gt=0, description="seconds verify may take to fail; unset: the protocol's bound"
    )


def load_breakages(folder: Path) -> list[Breakage]:
    """The catalogue beside a blueprint (empty when it has none); errors name file and entry."""
    path = folder / FILE
    if not path.is_file():
        return []
    data = read_entries(path, "breakage")
    try:
        return [Breakage.model_validate(entry) for entry in data]
    except ValueError as exc:
        raise LabgenError(f"{path}: {str(exc).splitlines()[0]}: {exc}") from None

