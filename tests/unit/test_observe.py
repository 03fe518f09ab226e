"""is_settled: the look of a cluster that may be faulted or trusted."""

import pytest

from labgen import protocols
from labgen.observe import ClusterView, is_settled
from labgen.protocols import NodeView

VIP, NO = NodeView(vip=True), NodeView(vip=False)


def hb(vip: bool, daemon: str) -> NodeView:
    return NodeView(vip=vip, daemon=daemon)


def pool(inside: int) -> NodeView:
    return NodeView(vip=True, pool=(inside, 2))


@pytest.mark.parametrize(
    ("protocol", "nodes", "client", "settled"),
    [
        ("keepalived", {"lb0": VIP, "lb1": NO}, None, True),
        ("keepalived", {"lb0": VIP, "lb1": VIP}, None, False),  # split brain
        ("keepalived", {"lb0": NO, "lb1": NO}, None, False),  # nobody serves
        ("heartbeat", {"lb0": hb(True, "local"), "lb1": hb(False, "local")}, None, True),  # lb0 preferred
        ("heartbeat", {"lb0": hb(False, "none"), "lb1": hb(True, "all")}, None, True),  # after failover
        ("heartbeat", {"lb0": hb(True, "all"), "lb1": hb(False, "all")}, None, False),  # stuck split brain
        ("heartbeat", {"lb0": hb(True, "local"), "lb1": hb(False, "heartbeat down")}, None, False),
        ("heartbeat", {"lb0": hb(True, "transition"), "lb1": hb(False, "local")}, None, False),
        ("keepalived", {"lb0": pool(2), "lb1": NO}, None, True),  # keepalived-rr with LVS
        ("keepalived", {"lb0": pool(1), "lb1": NO}, None, False),  # a real server still failing its check
        ("keepalived", {"lb0": VIP, "lb1": NO}, "lb0", True),
        ("keepalived", {"lb0": VIP, "lb1": NO}, "lb1", False),  # a stale ARP entry after split brain
        ("keepalived", {"lb0": VIP, "lb1": NO}, None, True),
    ],
)
def test_is_settled(protocol, nodes, client, settled):
    view = ClusterView(nodes, client_asked=client is not None, client_sees=client)
    assert is_settled(view, protocols.PROTOCOLS[protocol]) is settled


def test_a_client_seat_with_no_arp_entry_is_not_settled():
    view = ClusterView({"lb0": VIP, "lb1": NO}, client_asked=True, client_sees=None)
    assert not is_settled(view, protocols.PROTOCOLS["keepalived"])


def test_a_view_reads_as_words_in_poll_messages():
    view = ClusterView({"lb0": hb(True, "local"), "lb1": NodeView(vip=False, pool=(1, 2))}, True, "lb0")
    assert str(view) == "lb0 VIP local, lb1 - pool 1/2, client sees lb0"
