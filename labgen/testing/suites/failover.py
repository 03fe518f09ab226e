"""Tutorial (heartbeat-nginx and its successors): "if you stop the heartbeat service, the IP should
disappear from lb0, and instead show up on lb1", and "Now issue a reboot on the server. As the
server shuts down, the other server (lb1) will take over, and you will keep seeing the results
coming in on your local computer"."""

from labgen import protocols
from labgen.observe import agent_allowance, serving_bound, settle_time, wait_vip_on
from labgen.verify.behaviour import backup_name, failover_and_back
from labgen.verify.failover import measure


def test_lb1_takes_over_and_lb0_takes_back(provider, client, macs, restore, takeover_fault):
    """Each fault the protocol takes over from: lb1 holds the VIP and serves; undone, lb0 takes back."""
    failover_and_back(provider, client, macs, takeover_fault)


def test_stop_moves_the_ip_and_lb1_serves_its_own_page(provider, client, spec, restore):
    restore.inject(provider, spec.preferred.name, "stop")
    wait_vip_on(provider, [backup_name(spec)], timeout=settle_time(spec))
    client.wait_served_by(backup_name(spec), timeout=serving_bound(spec))


def test_a_reboot_of_lb0_keeps_the_results_coming_in(provider, spec, restore):
    """`systemctl reboot` on lb0 while the client asks every 50 ms: the cluster daemon is stopped as
    the server shuts down, so lb1 takes the IP at once and serves its own page; the client's outage
    is that handover (the protocol's clean handover, plus two runs of the resource agent on emulated
    VMs), not the reboot. Once lb0 is back, it takes the IP back."""
    report = measure(provider, "reboot")
    assert report.vip_after == backup_name(spec), f"lb1 never took the IP: {report}"
    assert report.service_restored_ms is not None, f"the client was never served again: {report}"
    bound = protocols.of(spec).clean_handover_s + agent_allowance(spec, 2)
    assert report.service_restored_ms <= bound * 1000, f"the client waited over {bound:g} s: {report}"
    assert report.failback_ms is not None, f"the IP never came back to lb0 after its reboot: {report}"
