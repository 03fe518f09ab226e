"""is_settled: the look of a cluster that may be faulted or trusted."""

import pytest

from labgen.observe import is_settled


@pytest.mark.parametrize(
    ("view", "settled"),
    [
        ({"lb0": "VIP", "lb1": "-"}, True),
        ({"lb0": "VIP", "lb1": "VIP"}, False),  # split brain
        ({"lb0": "-", "lb1": "-"}, False),  # nobody serves
        ({"lb0": "VIP local", "lb1": "- local"}, True),  # heartbeat, lb0 preferred
        ({"lb0": "- none", "lb1": "VIP all"}, True),  # heartbeat after failover
        ({"lb0": "VIP all", "lb1": "- all"}, False),  # both claim everything: stuck split brain
        ({"lb0": "VIP local", "lb1": "- heartbeat down"}, False),  # restarting itself
        ({"lb0": "VIP transition", "lb1": "- local"}, False),
        ({"lb0": "VIP pool 2/2", "lb1": "-"}, True),  # keepalived-rr with LVS
        ({"lb0": "VIP pool 1/2", "lb1": "-"}, False),  # a real server still failing its check
        ({"lb0": "VIP", "lb1": "-", "client": "sees lb0"}, True),
        ({"lb0": "VIP", "lb1": "-", "client": "sees lb1"}, False),  # a stale ARP entry after split brain
    ],
)
def test_is_settled(view, settled):
    assert is_settled(view) is settled
