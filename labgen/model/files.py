"""A blueprint's files read as what they must be: UTF-8 text without NUL bytes, and YAML that
parses. Whatever a file holds, a failure is one line naming the file (and its line, where known)."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from labgen.errors import LabgenError


def read_text(path: Path) -> str:
    """The file's text: a NUL byte or bytes that are not UTF-8 are refused, never passed on to a
    parser, a template or a node."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LabgenError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes().count(b"\n", 0, exc.start) + 1
        raise LabgenError(f"{path}:{line}: not UTF-8 text; a blueprint's files are text") from None
    if (nul := text.find("\0")) >= 0:
        raise LabgenError(f"{path}:{_line(text, nul)}: a NUL byte; a blueprint's files are text: remove it")
    return text


def read_yaml(path: Path, typ: str = "safe") -> object:
    """The YAML in the file; `rt` keeps line numbers for the errors that come later."""
    text = read_text(path)
    try:
        return YAML(typ=typ).load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        raise LabgenError(f"{path}{line}: malformed YAML: {exc.problem or exc.context}") from None
    except YAMLError as exc:  # a character YAML does not allow (a ReaderError), before any parsing
        position = getattr(exc, "position", None)
        line = f":{_line(text, position)}" if isinstance(position, int) else ""
        raise LabgenError(f"{path}{line}: malformed YAML: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise LabgenError(f"{path}: malformed YAML: nested too deeply") from None


def read_entries(path: Path, what: str) -> list:
    """The list of entries a catalogue file (breakages.yaml, exercises.yaml) holds; none when empty."""
    data = read_yaml(path) or []
    if not isinstance(data, list):
        raise LabgenError(f"{path}:1: a list of {what}s, each starting with `- id: ...`")
    return data


def check_texts(folder: Path, pattern: str) -> None:
    """Every file matching pattern under folder is text: what render copies or renders from it."""
    for path in sorted(folder.rglob(pattern)):
        if path.is_file() and "__pycache__" not in path.parts:
            read_text(path)


def _line(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1
