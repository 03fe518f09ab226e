"""Placing a class's seats over hosts (labgen.classroom.spread.place): each host's share by its room."""

import pytest

from labgen.classroom import seats, spread
from labgen.errors import LabgenError

NAMES = [f"seat{n:02d}" for n in range(1, 11)]


def test_seats_go_in_order_by_each_hosts_room():
    placed = spread.place(NAMES, {"a": 30, "b": 10, "local": 10})
    assert placed == {"a": NAMES[:6], "b": NAMES[6:8], "local": NAMES[8:]}


def test_equal_rooms_give_the_remainder_to_the_first_hosts():
    assert spread.place(NAMES[:4], {"a": 5, "b": 5, "local": 5}) == {
        "a": NAMES[:2], "b": NAMES[2:3], "local": NAMES[3:4]}


def test_a_host_is_never_given_more_than_its_room():
    placed = spread.place(NAMES, {"a": 1, "b": 9})
    assert len(placed["a"]) <= 1 and sum(map(len, placed.values())) == 10, placed


def test_a_host_without_room_gets_no_seat():
    assert spread.place(NAMES[:2], {"a": 0, "b": 4}) == {"b": NAMES[:2]}


def test_more_seats_than_the_hosts_hold_is_one_line():
    with pytest.raises(LabgenError, match=r"10 seats do not fit: the hosts hold 6 \(a 3, b 3\)"):
        spread.place(NAMES, {"a": 3, "b": 3})


def test_a_hosts_share_is_numbered_on_from_the_host_before():
    assert seats.seat_names(2, "seat", first=7) == ["seat07", "seat08"]
    with pytest.raises(LabgenError, match="a class has 1 to 99 seats"):
        seats.seat_names(5, "seat", first=96)
