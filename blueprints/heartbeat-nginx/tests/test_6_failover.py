"""Tutorial: "if you stop the heartbeat service (sudo service heartbeat stop), the IP should disappear
from lb0, and instead show up on lb1" and "After a few seconds, you should be able to see that the
failover IP has migrated back to lb0", and "Now issue a reboot on the server. As the server shuts
down, the other server (lb1) will take over, and you will keep seeing the results coming in on
your local computer". Also for a crash and a hung (frozen) lb0."""

import pytest

from labgen.testing import RQSTDELAY_S, measure, seconds
from labgen.testing.suites.failover import (
    agent_allowance,
    test_a_reboot_of_lb0_keeps_the_results_coming_in,
    test_lb1_takes_over_and_lb0_takes_back,
    test_stop_moves_the_ip_and_lb1_serves_its_own_page,
)

# A clean handover runs heartbeat's IPaddr agent twice (release on lb0, take on lb1), each run
# several seconds slower on emulated VMs (agent_allowance).


@pytest.mark.parametrize("fault", ["stop", "crash"])
def test_failover_and_failback_times_follow_heartbeat(provider, spec, restore, fault):
    """A stopping heartbeat hands its resources over at once; a crashed one is declared dead after
    deadtime. Failback: lb0's heartbeat asks for its resources after its fixed request delay."""
    report = measure(provider, fault)
    deadtime = seconds(spec.params["deadtime"])
    if fault == "stop":
        assert report.moved_within(0, (2 + agent_allowance(spec, 2)) * 1000), report
    else:
        high = deadtime + 3 + agent_allowance(spec, 1)
        assert report.moved_within((deadtime - 1) * 1000, high * 1000), report
    assert report.failback_ms is not None, f"the IP never came back to lb0: {report}"
    failback = RQSTDELAY_S + deadtime + 10 + agent_allowance(spec, 2)
    assert report.failback_ms <= failback * 1000, report
