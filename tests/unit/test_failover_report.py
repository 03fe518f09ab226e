"""A failover report read from the probe's samples: what the client saw, on one clock."""

import pytest

from labgen.verify.failover import Sample, _report

MACS = {"lb0": "aa:00", "lb1": "bb:00"}


def test_the_outage_is_from_the_first_failed_request_to_the_next_served_one(rendered_spec):
    spec = rendered_spec("keepalived-rr")
    samples = [
        Sample(10.0, True, "lb0 page", "aa:00"),
        Sample(10.5, False, None, "aa:00"),
        Sample(11.0, False, None, "bb:00"),
        Sample(11.5, True, "lb1 page", "bb:00"),
        Sample(14.0, True, "lb0 page", "aa:00"),
    ]
    report = _report(spec, "crash", "lb0", "lb1", MACS, samples, t_fault=10.0, t_undo=12.0, t_injected=10.2)
    assert report.vip_after == "lb1"
    assert report.vip_moved_ms == pytest.approx(1000)
    assert report.service_restored_ms == pytest.approx(1500)
    assert report.failback_ms == pytest.approx(2000)
    assert (report.requests_sent, report.requests_failed) == (5, 2)
    assert report.expected_ms == pytest.approx(3804.7)


def test_no_failed_request_means_no_outage_and_no_move_means_none(rendered_spec):
    spec = rendered_spec("keepalived-rr")
    samples = [Sample(10.0, True, "lb0 page", "aa:00"), Sample(10.5, True, "lb0 page", "aa:00")]
    report = _report(spec, "stop", "lb0", "lb1", MACS, samples, t_fault=10.0, t_undo=11.0, t_injected=10.1)
    assert report.service_restored_ms == 0.0
    assert report.vip_after is None and report.vip_moved_ms is None


def test_a_move_is_judged_from_both_ends_of_the_faults_command(rendered_spec):
    """The fault struck while its command ran: a move seen 4.5 s after the command was sent, which
    returned after 1 s, took 3.5-4.5 s; it fits a bound that any moment of that window fits."""
    spec = rendered_spec("keepalived-rr")
    samples = [Sample(10.0, True, "lb0 page", "aa:00"), Sample(14.5, True, "lb1 page", "bb:00")]
    report = _report(spec, "crash", "lb0", "lb1", MACS, samples, t_fault=10.0, t_undo=15.0, t_injected=11.0)
    assert report.inject_ms == pytest.approx(1000)
    assert (1000.0, "crash's command returned") in report.timeline
    assert report.moved_within(2600, 3600)
    assert report.moved_within(4500, 6000)
    assert not report.moved_within(2600, 3400), "even at the latest the fault can have struck, 3.5 s"
    assert not report.moved_within(4600, 6000), "even at the earliest, 4.5 s"
    never = _report(spec, "crash", "lb0", "lb1", MACS, samples[:1], 10.0, 15.0, 11.0)
    assert not never.moved_within(0, 10_000)
