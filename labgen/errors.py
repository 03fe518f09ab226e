"""The one exception type the CLI turns into a single clear line and a non-zero exit."""


class LabgenError(Exception):
    """A problem the user can fix; str() is the whole message (what, where, what to do)."""

    exit_code = 2
