"""What a seat may ask labgen-seat for: its own lab, a few verbs, a few options (seat.seat_argv).

The same checks run for real, through sudo and su, in tests/security/test_classroom.py."""

from __future__ import annotations

import pytest

from labgen.classroom import accounts
from labgen.classroom.seat import seat_argv
from labgen.errors import LabgenError


@pytest.mark.parametrize(("args", "expected"), [
    (["status"], ["status", "seat02"]),
    (["status", "seat02", "--json"], ["status", "--json", "seat02"]),
    (["verify", "--quick", "-k", "vip"], ["verify", "--quick", "-k", "vip", "seat02"]),
    (["verify", "--claim=vip-answers"], ["verify", "--claim", "vip-answers", "seat02"]),
    (["failover", "--fault", "crash", "--json"], ["failover", "--fault", "crash", "--json", "seat02"]),
    (["reset"], ["reset", "seat02"]),
    (["watch"], ["watch", "seat02"]),
    (["watch", "--for", "30"], ["watch", "--for", "30", "seat02"]),
    (["failover", "--watch"], ["failover", "--watch", "seat02"]),
    (["exec", "lb0", "--", "ip", "addr"], ["exec", "seat02", "lb0", "--", "ip", "addr"]),
    (["exec", "seat02", "lb1", "--", "id"], ["exec", "seat02", "lb1", "--", "id"]),
    (["exec", "lb0", "--", "sh", "-c", "x; -k"], ["exec", "seat02", "lb0", "--", "sh", "-c", "x; -k"]),
    (["ssh", "lb0"], ["ssh", "seat02", "lb0"]),
    (["exercise", "start", "backup-wins"], ["exercise", "start", "seat02", "backup-wins"]),
    (["exercise", "start", "seat02", "x"], ["exercise", "start", "seat02", "x"]),
    (["exercise", "check"], ["exercise", "check", "seat02"]),
    (["exercise", "hint", "seat02"], ["exercise", "hint", "seat02"]),
    (["exercise", "reset"], ["exercise", "reset", "seat02"]),
])
def test_a_seat_gets_its_own_lab(args, expected) -> None:
    assert seat_argv(args, "seat02", "seat02") == expected


def test_the_client_seat_runs_as_the_student_within_the_seats_process_limit() -> None:
    argv = seat_argv(["exec", "client", "--", "curl", "http://203.0.113.10/"], "seat02", "seat02")
    assert argv == ["exec", "seat02", "client", "--", "prlimit", f"--nproc={accounts.NPROC}", "--", "setpriv",
                    "--reuid=seat02", "--regid=seat02", "--init-groups", "--", "curl", "http://203.0.113.10/"]


def test_a_seats_shell_in_the_client_seat_is_the_students_own() -> None:
    """`labgen ssh client` from a seat: a shell in the client seat's namespace, never root's."""
    argv = seat_argv(["ssh", "client"], "seat02", "seat02")
    assert argv == ["exec", "-i", "seat02", "client", "--", "prlimit", f"--nproc={accounts.NPROC}", "--",
                    "setpriv", "--reuid=seat02", "--regid=seat02", "--init-groups", "--", "bash", "-l"]


@pytest.mark.parametrize(("args", "says"), [
    ([], "a seat runs"),
    (["up", "keepalived-rr"], "not for seats"),
    (["down"], "not for seats"),
    (["box", "build"], "not for seats"),
    (["status", "seat01"], "lab seat02 only"),
    (["exec", "seat01", "lb0", "--", "id"], "lab seat02 only"),
    (["ssh", "seat01", "lb0"], "lab seat02 only"),
    (["verify", "--junit", "/etc/cron.d/x"], "--junit is not for seats"),
    (["verify", "--junit=/etc/cron.d/x"], "--junit is not for seats"),
    (["status", "--provider", "libvirt"], "--provider is not for seats"),
    (["failover", "--fault"], "give it a value"),
    (["exec", "lb0", "id"], "after --"),
    (["exec", "lb0", "--"], "no command"),
    (["exec", "--", "id"], "usage"),
    (["ssh"], "usage"),
    (["status", "seat02", "extra"], "usage"),
    (["exercise", "solve"], "exercise solve` is not for seats"),
    (["exercise", "list", "keepalived-rr"], "exercise list` is not for seats"),
    (["exercise"], "exercise` is not for seats"),
    (["exercise", "check", "seat01"], "lab seat02 only"),
    (["exercise", "start"], "usage"),
])
def test_a_seat_is_refused(args, says) -> None:
    with pytest.raises(LabgenError, match=says.replace("-", r"\-")):
        seat_argv(args, "seat02", "seat02")
