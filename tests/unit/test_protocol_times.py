"""What the protocols promise, the yardstick for failover and for up's first election."""

from __future__ import annotations

import pytest

from labgen import protocols


def expected_failover(spec, fault: str):
    return protocols.of(spec).expected_failover(spec.params, fault)


def expected_election(spec):
    return protocols.of(spec).expected_election(spec.params)


def test_keepalived_failover_waits_the_backups_master_down_interval(rendered_spec):
    expected, rule = expected_failover(rendered_spec("keepalived-rr"), "crash")
    assert expected == pytest.approx(3 * 1000 + (256 - 50) / 256 * 1000, abs=0.1)
    assert "(256 - 50)" in rule


def test_keepalived_first_election_waits_the_masters_own_interval(rendered_spec):
    expected, _ = expected_election(rendered_spec("keepalived-rr"))
    assert expected == pytest.approx(3 * 1000 + (256 - 100) / 256 * 1000, abs=0.1)


def test_sub_second_vrrp_scales_the_election(rendered_spec):
    sets = ["keepalived.vrrp_version=3", "keepalived.auth_type=none", "keepalived.advert_int=0.1"]
    expected, _ = expected_election(rendered_spec("keepalived-rr", sets))
    assert expected == pytest.approx(300 + (256 - 100) / 256 * 100, abs=0.1)


def test_heartbeat_first_election_is_its_fixed_request_delay(rendered_spec):
    expected, rule = expected_election(rendered_spec("heartbeat-nginx"))
    assert expected == 10_000 and "RQSTDELAY" in rule


def test_heartbeat_failover_is_deadtime(rendered_spec):
    assert expected_failover(rendered_spec("heartbeat-nginx"), "crash")[0] == 5000


@pytest.mark.parametrize("blueprint", ["keepalived-rr", "heartbeat-nginx"])
def test_a_clean_reboot_hands_over_like_a_stop_and_a_reset_like_a_crash(rendered_spec, blueprint):
    lab = rendered_spec(blueprint)
    assert expected_failover(lab, "reboot") == expected_failover(lab, "stop")
    assert expected_failover(lab, "reset") == expected_failover(lab, "crash")


def test_heartbeats_are_cut_on_the_port_the_blueprint_sets(rendered_spec):
    lab = rendered_spec("heartbeat-nginx", ["heartbeat.udpport=5405"])
    assert protocols.of(lab).cluster_traffic(lab.params) == ["-p", "udp", "--dport", "5405"]
