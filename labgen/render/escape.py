"""Text from a blueprint or --set, made safe for the language of the file it lands in.

Every rendered file that is code (the Vagrantfile is Ruby, the provisioners are bash) receives user
text only through these filters, so a title, a page or a hostname is always data, never code.
"""

from __future__ import annotations

import shlex


def ruby(value: object) -> str:
    """A single-quoted Ruby string literal: no interpolation, only \\\\ and \\' are special."""
    text = str(value)
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def sh(value: object) -> str:
    """One shell word, whatever the text holds."""
    return shlex.quote(str(value))


def one_line(value: object) -> str:
    """Text for a comment (Ruby, shell, config): a newline would end the comment and start code."""
    return " ".join(str(value).split())


def heredoc_tag(text: str, base: str = "LABGEN_EOF") -> str:
    """A heredoc delimiter that no line of text equals, so the text can never end the heredoc."""
    lines = set(text.splitlines())
    tag, n = base, 0
    while tag in lines:
        n += 1
        tag = f"{base}_{n}"
    return tag


FILTERS = {"ruby": ruby, "sh": sh, "one_line": one_line, "heredoc_tag": heredoc_tag}
