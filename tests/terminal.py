"""A command in a pseudo-terminal, as a person at a keyboard runs it: keys in, the screen's text out
(colours and cursor moves stripped), its exit code; killed if still running at the end."""

from __future__ import annotations

import os
import pty
import re
import select
import signal

from labgen.poll import PollTimeout, wait_for

SCREEN = 6000  # characters: more than one frame of a 120 x 40 view
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r")


class Terminal:
    def __init__(self, argv: list[str], columns: int = 120, lines: int = 40):
        self.argv = argv
        self.env = {**os.environ, "COLUMNS": str(columns), "LINES": str(lines), "TERM": "xterm-256color"}
        self.output = b""
        self.status: int | None = None

    def __enter__(self) -> Terminal:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the command, on the terminal's slave side
            os.execvpe(self.argv[0], self.argv, self.env)
        return self

    def __exit__(self, *exc) -> None:
        if self.status is None:
            os.kill(self.pid, signal.SIGINT)
            try:
                self.exit_code(timeout=30)
            except PollTimeout:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
        os.close(self.fd)

    def _read(self) -> None:
        while select.select([self.fd], [], [], 0)[0]:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # the child exited and closed the terminal
                return
            if not chunk:
                return
            self.output += chunk

    def text(self) -> str:
        self._read()
        return ANSI.sub("", self.output.decode(errors="replace"))

    def press(self, key: str) -> None:
        os.write(self.fd, key.encode())

    def wait_until(self, accept, expected: str, timeout: float = 60) -> None:
        """Until the screen's last frames (a full-screen view redraws itself whole) are accepted."""
        wait_for(lambda: self.text()[-SCREEN:], accept, expected=expected, timeout=timeout, interval=0.2)

    def exit_code(self, timeout: float) -> int:
        def done() -> int | None:
            self._read()
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            return os.waitstatus_to_exitcode(status) if pid else None

        self.status = wait_for(done, lambda code: code is not None, timeout=timeout,
                               expected=f"{' '.join(self.argv)} to exit")
        return self.status
