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
    report = _report(spec, "crash", "lb0", "lb1", MACS, samples, t_fault=10.0, t_undo=12.0)
    assert report.vip_after == "lb1"
    assert report.vip_moved_ms == pytest.approx(1000)
    assert report.service_restored_ms == pytest.approx(1500)
    assert report.failback_ms == pytest.approx(2000)
    assert (report.requests_sent, report.requests_failed) == (5, 2)
    assert report.expected_ms == pytest.approx(3804.7)


def test_no_failed_request_means_no_outage_and_no_move_means_none(rendered_spec):
    spec = rendered_spec("keepalived-rr")
    samples = [Sample(10.0, True, "lb0 page", "aa:00"), Sample(10.5, True, "lb0 page", "aa:00")]
    report = _report(spec, "stop", "lb0", "lb1", MACS, samples, t_fault=10.0, t_undo=11.0)
    assert report.service_restored_ms == 0.0
    assert report.vip_after is None and report.vip_moved_ms is None
