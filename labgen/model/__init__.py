"""The blueprint model: typed, validated, with errors that name file, line and field."""

from labgen.model.blueprint import Blueprint
from labgen.model.load import load_blueprint

__all__ = ["Blueprint", "load_blueprint"]
