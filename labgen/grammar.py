"""The grammar of every blueprint field that lands in a command, a path or a config file.

One place for these rules: a value that passes here can be written into a shell script, a
Vagrantfile or a daemon's config as one token, and a path that passes here stays inside its root.
"""

from __future__ import annotations

import posixpath
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

NODE_NAME = r"[a-z][a-z0-9-]{0,9}"  # a node's name: it names veths (15 characters with a prefix)

# RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, 63 each, 253 in all
_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}\Z){_LABEL}(\.{_LABEL})*")  # matched whole: no trailing newline


def _hostname(value: str) -> str:
    """an RFC 1123 host name: it is written unquoted into /etc/hosts and the daemons' configs"""
    if not _HOSTNAME.fullmatch(value):
        raise ValueError(
            "not a host name (RFC 1123): letters, digits and inner hyphens, dot-separated labels of at"
            " most 63 characters"
        )
    return value


def _node_path(value: str) -> str:
    """a normalised absolute path without blanks, quotes or shell characters: it is where a file goes"""
    if not value.startswith("/") or posixpath.normpath(value) != value or value == "/":
        raise ValueError(
            "use a normalised absolute path such as /etc/ha.d/ha.cf (no '..', '.', '//' or trailing /)"
        )
    if any(c.isspace() or not c.isprintable() for c in value) or any(c in value for c in "\"'\\$`*?[]{}"):
        raise ValueError("a path here may not hold spaces, quotes, '$', '`', '\\' or glob characters")
    return value


def _inner_path(value: str) -> str:
    """a relative path without '..': it must stay inside the blueprint's folder"""
    normal = posixpath.normpath(value)
    if value.startswith("/") or normal == ".." or normal.startswith("../") or "\0" in value:
        raise ValueError("use a path inside the blueprint's folder (relative, without '..')")
    return value


def not_client(value: str) -> str:
    """not `client`: that name is the client seat's in `labgen exec LAB client`"""
    if value == "client":
        raise ValueError("'client' is the client seat's name; call the node something else")
    return value


def _not_bool(value: object) -> object:
    """YAML reads `true` as a bool, and pydantic would take it for 1: a number must be written as one."""
    if isinstance(value, bool):
        raise ValueError("a yes/no value where a number is needed")
    return value


HostName = Annotated[str, AfterValidator(_hostname)]
NodePath = Annotated[str, AfterValidator(_node_path)]
InnerPath = Annotated[str, AfterValidator(_inner_path)]
Int = Annotated[int, BeforeValidator(_not_bool)]
Float = Annotated[float, BeforeValidator(_not_bool)]

# Debian package names (Debian Policy 5.6.1)
PackageName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9+.-]+$")]
# systemd unit names (systemd.unit(5)), without the .service suffix
UnitName = Annotated[str, Field(pattern=r"^[A-Za-z0-9:_.\\@-]+$", max_length=255)]
# sysctl keys as sysctl(8) writes them; values are numbers or one word
SysctlKey = Annotated[str, Field(pattern=r"^[a-z0-9_]+(\.[A-Za-z0-9_-]+)+$")]
SysctlValue = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]+$")] | Int
# one token of a daemon's config (keepalived, heartbeat): no blanks, quotes or comment characters
ConfigWord = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.,:@%+=/-]+$", max_length=64)]


class Strict(BaseModel):
    """Unknown keys are errors (a typo is caught with a hint), numbers are accepted as text."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


# heartbeat's: whole seconds, or milliseconds with ms; \A...\Z: whole, whatever method matches it
DURATION = re.compile(r"\A(\d+)(ms)?\Z")


def seconds(duration: str) -> float:
    number, ms = DURATION.match(duration).groups()  # type: ignore[union-attr]
    return int(number) / 1000 if ms else float(number)
