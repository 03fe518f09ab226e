"""Defaults a user sets once instead of on every command: LABGEN_PROVIDER and LABGEN_BOX in the
environment, anything else in a TOML file. An option typed on the command line beats the
environment, which beats the user's file, which beats the host's (click's default_map order).

    # ~/.config/labgen/config.toml (or $XDG_CONFIG_HOME/labgen/config.toml; /etc/labgen/config.toml)
    provider = "nspawn"       # every command that has --provider
    [verify]
    quick = true              # `labgen verify` alone
    [class.up]
    seats = 12                # `labgen class up` alone

Keys are spelled as the options are (`--no-progress` is `no-progress`); a key no command knows,
or a table that is not a command, is refused in one line naming the file. A seat's commands
(labgen-seat, run as root for a student) read no file: they are exactly what the helper let through.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

from labgen.errors import LabgenError

HOST_FILE = Path("/etc/labgen/config.toml")


def user_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "labgen" / "config.toml"


def default_map(root: Any) -> dict:
    """click's default_map for the command tree under `root` (a click group), from the host's
    file then the user's (the user's wins)."""
    merged: dict = {}
    if os.environ.get("LABGEN_SEAT"):  # a seat's command is exactly what labgen-seat let through
        return merged
    for path in (HOST_FILE, user_file()):
        if path.is_file():
            _merge(merged, _spread(root, _read(path), path))
    return merged


def _read(path: Path) -> dict:
    import tomllib  # only where there is a file: every command reads defaults

    try:
        return tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LabgenError(f"{path}: not a readable TOML file ({exc}); fix it or move it away") from None


def _spread(group: Any, settings: dict, path: Path, where: str = "") -> dict:
    """Top-level keys go to every command of the tree with that option; a table goes to the
    command (or group) of its name."""
    spread: dict = {}
    for key, value in settings.items():
        sub = getattr(group, "commands", {}).get(key)
        if isinstance(value, dict) and sub is not None:
            if hasattr(sub, "commands"):
                table = _spread(sub, value, path, f"{where}{key}.")
            else:
                table = _for_command(sub, value, path, f"{where}{key}")
            _merge(spread.setdefault(key, {}), table)
            continue
        targets = _commands_with(group, key)
        if not targets:
            under = f"under `labgen {where.replace('.', ' ').strip()}` " if where else ""
            raise LabgenError(
                f"{path}: no labgen command {under}has an option --{key}{_near(group, key)}; "
                "see `labgen COMMAND --help`"
            )
        for trail, name in targets:
            node = spread
            for step in trail:
                node = node.setdefault(step, {})
            node[name] = value
    return spread


def _for_command(command: Any, settings: dict, path: Path, where: str) -> dict:
    options = _options(command)
    unknown = [key for key in settings if key not in options]
    if unknown:
        raise LabgenError(
            f"{path}: `labgen {where.replace('.', ' ')}` has no option --{unknown[0]} "
            f"(its options: {', '.join(sorted(options)) or 'none'})"
        )
    return {options[key]: value for key, value in settings.items()}


def _commands_with(group: Any, key: str) -> list[tuple[tuple[str, ...], str]]:
    """(path of command names, click parameter name) of every command under `group` with --key."""
    return [(trail, options[key]) for trail, command in _walk(group) if key in (options := _options(command))]


def _near(group: Any, key: str) -> str:
    """(did you mean --provider?), for a key close to an option some command has."""
    every = {option for _, command in _walk(group) for option in _options(command)}
    close = difflib.get_close_matches(key, sorted(every), n=1)
    return f" (did you mean --{close[0]}?)" if close else ""


def _walk(group: Any, trail: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """(path of command names, command) of every command under `group`."""
    found = []
    for name, command in getattr(group, "commands", {}).items():
        found += (
            _walk(command, (*trail, name)) if hasattr(command, "commands") else [((*trail, name), command)]
        )
    return found


def _options(command: Any) -> dict[str, str]:
    """--flag spelling (without dashes) -> click parameter name, for the command's options."""
    return {
        opt[2:]: param.name
        for param in command.params
        if param.param_type_name == "option"
        for opt in param.opts
        if opt.startswith("--")
    }


def _merge(into: dict, other: dict) -> None:
    for key, value in other.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value
