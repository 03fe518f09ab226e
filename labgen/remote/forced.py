"""labgen-ssh: the forced command of the controller's key on a host. In the host's authorized_keys,
`restrict,pty,command="/PATH/TO/.venv/bin/labgen-ssh" ssh-ed25519 AAAA...` lets that key run
labgen and its arguments, and nothing else: the command the controller asked for is split into
words as the controller quoted them (shlex), and labgen runs with those words, without a shell
(`labgen list; rm -rf /` is labgen with three odd arguments, refused by labgen itself).
"""

from __future__ import annotations

import os
import shlex
import sys

from labgen.host import labgen_argv

REFUSED = 126  # as a shell says of a command it may not run


def main() -> None:
    asked = os.environ.get("SSH_ORIGINAL_COMMAND", "")
    try:
        words = shlex.split(asked)
    except ValueError:
        words = []
    if not words or words[0] != "labgen":
        print(f"labgen-ssh: this key runs labgen only, not {asked[:80]!r}", file=sys.stderr)
        sys.exit(REFUSED)
    os.chdir("/")  # a labgen folder where the login starts never stands in for the installed one
    argv = labgen_argv(words[1:])
    os.execv(argv[0], argv)
