"""wait_for: bounded, says what it expected and saw, and can demand a condition hold a while."""

import itertools

import pytest

from labgen import poll
from labgen.poll import PollTimeout, said, wait_for


def test_returns_the_first_accepted_value():
    values = iter([1, 2, 3, 4])
    assert wait_for(lambda: next(values), lambda v: v >= 3, expected="3", timeout=5, interval=0) == 3


def test_timeout_names_expected_and_seen():
    with pytest.raises(PollTimeout, match=r"expected the VIP on lb0 within 0.2 s; after 0.\d s saw lb1"):
        wait_for(lambda: "lb1", lambda v: v == "lb0", expected="the VIP on lb0", timeout=0.2, interval=0.05)


def test_hold_restarts_when_the_condition_breaks(monkeypatch):
    # settled, broken once (a daemon restarting), then settled for good; on a clock that moves only
    # when wait_for sleeps, so a busy host cannot stretch the first three looks past the hold
    clock = itertools.count(0, 0.02)
    now = [0.0]
    monkeypatch.setattr(poll.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(poll.time, "sleep", lambda _: now.__setitem__(0, next(clock)))
    looks = itertools.chain(["ok"] * 3, ["restarting"], itertools.repeat("ok"))
    seen = []
    result = wait_for(lambda: seen.append(next(looks)) or seen[-1], lambda v: v == "ok",
                      expected="ok", timeout=5, interval=0.02, hold=0.1)
    assert result == "ok" and "restarting" in seen and seen.index("restarting") < len(seen) - 3


def test_hold_longer_than_the_timeout_fails():
    with pytest.raises(PollTimeout):
        wait_for(lambda: "ok", lambda v: v == "ok", expected="ok for 1 s", timeout=0.2, interval=0.05, hold=1)


@pytest.mark.parametrize(("value", "words"), [
    (["lb0", "lb1"], "lb0, lb1"), ({"lb0": True, "lb1": False}, "lb0 yes, lb1 no"),
    ({"lb1", "lb0"}, "lb0, lb1"),
    ([], "nothing"), (None, "nothing"), ({"lb0": "1", "lb1": "2"}, "lb0 1, lb1 2"), (3.5, "3.5"),
])
def test_what_a_poll_saw_reads_as_words_not_python(value, words):
    assert said(value) == words
