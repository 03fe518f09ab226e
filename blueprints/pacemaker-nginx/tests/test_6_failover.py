"""Tutorial: "if you stop the heartbeat service, the IP should disappear from lb0, and instead show
up on lb1", "After a few seconds, you should be able to see that the failover IP has migrated back
to lb0" and the reboot that keeps the results coming in; with pacemaker stopped in heartbeat's
place. Also for a hung (frozen) lb0, its links cut and its power pulled."""

import pytest

from labgen.testing import consensus_ms, measure, membership_s, protocol_of
from labgen.testing.suites.failover import (
    agent_allowance,
    test_a_reboot_of_lb0_keeps_the_results_coming_in,
    test_lb1_takes_over_and_lb0_takes_back,
    test_stop_moves_the_ip_and_lb1_serves_its_own_page,
)


@pytest.mark.parametrize("fault", ["stop", "link-down"])
def test_failover_and_failback_times_follow_the_protocol(provider, spec, restore, fault):
    """A stopping pacemaker moves the group first (the VIP moves within a few seconds); a node cut
    off is lost when corosync's token times out, the new membership forms after consensus, then
    lb1 starts the group. Failback (stickiness 0): lb0 rejoins, and the group moves back."""
    report = measure(provider, fault)
    clean_handover_s = protocol_of(spec).clean_handover_s
    if fault == "stop":
        assert report.moved_within(0, (clean_handover_s + agent_allowance(spec, 2)) * 1000), report
    else:
        # the token timer runs from the last token seen, up to a token's time before the fault
        low, high = consensus_ms(spec.params), report.expected_ms + (4 + agent_allowance(spec, 1)) * 1000
        assert report.moved_within(low, high), f"expected {low:.0f}-{high:.0f} ms: {report}"
    assert report.failback_ms is not None, f"the IP never came back to lb0: {report}"
    failback = membership_s(spec.params) + 20 + agent_allowance(spec, 2)
    assert report.failback_ms <= failback * 1000, report
