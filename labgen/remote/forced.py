"""labgen-ssh: the forced command of the controller's key on a host. In the host's authorized_keys,
`restrict,pty,command="/PATH/TO/.venv/bin/labgen-ssh" ssh-ed25519 AAAA...` lets that key run the
labgen commands a class over hosts needs, and nothing else: the command the controller asked for
is split into words as the controller quoted them (shlex), and labgen runs with those words,
without a shell (`labgen list; rm -rf /` is labgen with odd arguments, refused by labgen itself).

Refused too: what would reach past labgen's own labs on the host: `hosts` and `--host` (a
ProxyCommand is a shell command, and the host's own keys reach further hosts), `serve` (a
listening port), `render` and `box export`/`push` (files written where the caller says), and
any option naming a file of the host's (--output, --write, --from).
"""

from __future__ import annotations

import os
import shlex
import sys

from labgen.host import labgen_argv

REFUSED = 126  # as a shell says of a command it may not run
COMMANDS = {"--version", "doctor", "list", "show", "up", "status", "exec", "ssh", "verify", "failover",
            "watch", "impair", "capture", "reset", "down", "exercise", "class", "box", "matrix", "graph"}
BOX_COMMANDS = {"build", "list", "receive", "saved", "prune"}
PATH_OPTIONS = ("--output", "--write", "--from", "-o", "-w")


def refusal(words: list[str]) -> str | None:
    """Why the key may not run these words, or None."""
    if not words or words[0] != "labgen":
        return "this key runs labgen only"
    args = words[1:]
    command = args[0] if args else ""
    if command not in COMMANDS or (command == "box" and (args[1:2] or [""])[0] not in BOX_COMMANDS):
        return f"this key does not run `labgen {' '.join(args[:2])}` here"
    own = args[: args.index("--")] if "--" in args else args  # after --: a command for a lab's node
    for word in own:
        if any(_names(word, option) for option in PATH_OPTIONS):
            return f"this key names no file of this host ({word})"
    return None


def _names(word: str, option: str) -> bool:
    """word is the option, with its value after = or (a short option) right after it."""
    return word == option or word.startswith(f"{option}=") or (len(option) == 2 and word.startswith(option))


def main() -> None:
    asked = os.environ.get("SSH_ORIGINAL_COMMAND", "")
    try:
        words = shlex.split(asked)
    except ValueError:
        words = []
    if why := refusal(words):
        print(f"labgen-ssh: {why}, not {asked[:80]!r}", file=sys.stderr)
        sys.exit(REFUSED)
    os.chdir("/")  # a labgen folder where the login starts never stands in for the installed one
    argv = labgen_argv(words[1:])
    os.execv(argv[0], argv)
