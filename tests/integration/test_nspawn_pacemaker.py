"""pacemaker-nginx, the third blueprint, as a real container lab through the CLI: up (its first
election is pacemaker's dc-deadtime), the whole suite, a failover measured against corosync's
formula, a broken configuration caught, down."""

from __future__ import annotations

import json

from tests.labs import NSPAWN, lab_fixture, ok

pytestmark = NSPAWN

pacemaker = lab_fixture("pacemaker-nginx", "t-pmng")


def test_up_ends_with_the_group_on_lb0_and_http_from_the_client(pacemaker):
    assert json.loads(ok("status", pacemaker.name, "--json"))["vip_holders"] == ["lb0"]
    assert pacemaker.exec("client", "curl -s --max-time 3 http://198.51.100.10/").strip() == "Hello from lb0"


def test_up_records_ready_then_the_dc_deadtime(pacemaker):
    """The controllers' 20 s wait starts when pacemaker starts, during provisioning: the part of up
    after the machines are ready is shorter by the provisioning that followed (seen: 17.8 s with
    ready at 11 s on a busy host, 21.7 s on a quiet one)."""
    timing = json.loads(ok("status", pacemaker.name, "--json"))["up_timing"]
    assert timing["election_expected_s"] == 20, timing
    assert 14 <= timing["election_s"] <= 26, timing


def test_verify_passes(pacemaker):
    result = pacemaker.verify()
    assert result.returncode == 0, result.stdout[-4000:]


def test_a_frozen_lb0_is_lost_after_token_and_consensus(pacemaker):
    """token 3 s + consensus 3.6 s from the last token lb1 saw, then lb1 starts the group."""
    report = pacemaker.failover("freeze")
    assert report.expected_ms == 6600, report
    assert report.moved_within(3600, 10600), report
    assert report.vip_after == "lb1" and report.failback_ms is not None, report
