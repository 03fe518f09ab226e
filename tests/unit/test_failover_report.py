"""A failover report read from the probe's events: what the client saw, on one clock, each dated
by when it became true (a move by the client's neighbour table, service by an answer)."""

import pytest

from labgen.verify.failover import Neighbour, Sample, _report

MACS = {"lb0": "aa:00", "lb1": "bb:00"}


def served(sent: float, page: str, mac: str, took: float = 0.01) -> Sample:
    return Sample(sent, sent + took, page, mac)


def failed(sent: float, mac: str, took: float = 1.0) -> Sample:
    return Sample(sent, sent + took, None, mac)


def test_the_outage_runs_from_the_first_failed_request_to_the_first_answer(rendered_spec):
    spec = rendered_spec("keepalived-rr")
    samples = [
        served(10.0, "lb0 page", "aa:00"),
        failed(10.5, "aa:00"),
        failed(11.0, "bb:00", took=1.2),  # its SYN sent again: answered late, after a later request
        served(11.5, "lb1 page", "bb:00"),
        served(14.0, "lb0 page", "aa:00"),
    ]
    neighbours = [Neighbour(10.0, "aa:00"), Neighbour(13.9, "bb:00"), Neighbour(16.0, "aa:00")]
    report = _report(spec, "crash", "lb0", "lb1", MACS, samples, neighbours, t_fault=10.0, t_undo=15.0,
                     t_injected=10.2)
    assert report.vip_after == "lb1"
    assert report.vip_moved_ms == pytest.approx(3900), "dated by the neighbour table's change"
    assert report.service_restored_ms == pytest.approx(1510), "dated by the first answer"
    assert report.failback_ms == pytest.approx(1000)
    assert (report.requests_sent, report.requests_failed) == (5, 2)
    assert report.expected_ms == pytest.approx(3804.7)
    assert report.earliest_ms == pytest.approx(2804.7)
    assert (report.vip_moved_error_ms, report.service_restored_error_ms) == (10.0, 50.0)


def test_a_move_seen_in_a_late_answer_is_dated_by_the_neighbour_change_not_the_request(rendered_spec):
    """The old probe dated the MAC it read at a request's end by the request's start: a request
    that waited out its 1 s timeout made the move look a second early."""
    spec = rendered_spec("keepalived-rr")
    samples = [served(10.0, "lb0 page", "aa:00"), failed(12.0, "bb:00", took=1.0)]
    neighbours = [Neighbour(10.0, "aa:00"), Neighbour(12.99, "bb:00")]
    report = _report(spec, "link-down", "lb0", "lb1", MACS, samples, neighbours, 10.0, 14.0, 10.1)
    assert report.vip_moved_ms == pytest.approx(2990)
    assert not report.beats_protocol()


def test_no_failed_request_means_no_outage_and_no_move_means_none(rendered_spec):
    spec = rendered_spec("keepalived-rr")
    samples = [served(10.0, "lb0 page", "aa:00"), served(10.5, "lb0 page", "aa:00")]
    report = _report(spec, "stop", "lb0", "lb1", MACS, samples, [Neighbour(10.0, "aa:00")], t_fault=10.0,
                     t_undo=11.0, t_injected=10.1)
    assert report.service_restored_ms == 0.0
    assert report.vip_after is None and report.vip_moved_ms is None
    assert not report.beats_protocol()


def test_a_move_sooner_than_the_protocol_allows_is_a_measuring_error(rendered_spec):
    """VRRP's backup waits the master down interval from the last advert it heard, which came at
    most one advert before the fault: 2.8 s with advert_int 1 and priority 50. A move seen at 2.1 s
    (what labgen reported for link-down until 2026-12) cannot be."""
    spec = rendered_spec("keepalived-rr")
    samples = [served(10.0, "lb0 page", "aa:00")]
    for moved_at, impossible in ((12.1, True), (12.79, True), (12.81, False), (13.8, False)):
        report = _report(spec, "link-down", "lb0", "lb1", MACS, samples,
                         [Neighbour(moved_at, "bb:00")], 10.0, 15.0, 10.1)
        assert report.beats_protocol() is impossible, (moved_at, report)


@pytest.mark.parametrize(("blueprint", "fault", "earliest"), [
    ("keepalived-rr", "crash", 2804.7), ("keepalived-rr", "stop", 804.7),
    ("heartbeat-nginx", "freeze", 4000.0), ("heartbeat-nginx", "reboot", None),
    ("pacemaker-nginx", "reset", 3600.0),
])
def test_each_protocol_says_how_soon_a_move_can_be(rendered_spec, blueprint, fault, earliest):
    spec = rendered_spec(blueprint)
    report = _report(spec, fault, "lb0", "lb1", MACS, [], [], 10.0, 15.0, 10.1)
    assert report.earliest_ms == (pytest.approx(earliest) if earliest else None), report.earliest_rule
    assert report.earliest_rule


def test_a_move_is_judged_from_both_ends_of_the_faults_command(rendered_spec):
    """The fault struck while its command ran: a move seen 4.5 s after the command was sent, which
    returned after 1 s, took 3.5-4.5 s (less the 10 ms it may have waited to be seen); it fits a
    bound that any moment of that window fits."""
    spec = rendered_spec("keepalived-rr")
    samples = [served(10.0, "lb0 page", "aa:00"), served(14.5, "lb1 page", "bb:00")]
    neighbours = [Neighbour(14.5, "bb:00")]
    report = _report(spec, "crash", "lb0", "lb1", MACS, samples, neighbours, t_fault=10.0, t_undo=15.0,
                     t_injected=11.0)
    assert report.inject_ms == pytest.approx(1000)
    assert (1000.0, "crash's command returned") in report.timeline
    assert report.moved_within(2600, 3600)
    assert report.moved_within(4500, 6000)
    assert not report.moved_within(2600, 3480), "even at the latest the fault can have struck, 3.49 s"
    assert not report.moved_within(4600, 6000), "even at the earliest, 4.5 s"
    never = _report(spec, "crash", "lb0", "lb1", MACS, samples[:1], [], 10.0, 15.0, 11.0)
    assert not never.moved_within(0, 10_000)
