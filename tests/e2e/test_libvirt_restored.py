"""VM labs restored from a saved lab (providers/libvirt/saved.py): the first fresh `up` of the
keepalived-rr machines saved them (test_libvirt_lab.py runs first; alone, this module's first up
saves them); two labs restored from that save, the first passing the whole suite, each in its own
namespace, each failing over on its own, and `labgen reset` restores a lab from it again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from labgen.labs import find_lab, provider_for
from labgen.observe import http_via_vip, vip_holders
from labgen.poll import wait_for
from labgen.providers.libvirt import saved
from tests.labs import VM_SELECTION, failover, labgen, libvirt_marks, ok

pytestmark = libvirt_marks()

LABS = ("e2e-rsa", "e2e-rsb")


def _up(name: str) -> dict:
    begun = time.monotonic()
    out = ok("up", "keepalived-rr", "--provider", "libvirt", "--name", name, timeout=1200)
    print(f"\nup {name}: {time.monotonic() - begun:.1f} s")
    return {"out": out, **json.loads(ok("status", name, "--json"))["up_timing"]}


@pytest.fixture(scope="module")
def labs() -> Iterator[dict[str, dict]]:
    for name in LABS:
        labgen("down", name)  # leftovers of an interrupted earlier run
    try:
        first = _up(LABS[0])  # restores if test_libvirt_lab's up saved the machines, else saves them
        if first["restored_from"] is None:
            labgen("down", LABS[0])
            first = _up(LABS[0])
        yield {LABS[0]: first, LABS[1]: _up(LABS[1])}
    finally:
        for name in LABS:
            labgen("down", name)


def test_both_labs_are_restored_from_one_save_and_say_so(labs) -> None:
    keys = {timing["restored_from"] for timing in labs.values()}
    assert len(keys) == 1 and None not in keys, labs
    for name, timing in labs.items():
        assert "restored from saved lab" in timing["out"] and "no election" in timing["out"], timing["out"]
        assert timing["ready_s"] < 60, f"{name}: restoring took {timing['ready_s']} s"
    [key] = keys
    assert any(row["key"] == key and row["problem"] is None for row in saved.all_saves())


def test_each_restored_lab_serves_in_its_own_namespace(labs) -> None:
    providers = [provider_for(find_lab(name)) for name in LABS]
    namespaces = {p.lab.spec.namespace for p in providers}
    assert len(namespaces) == 2, namespaces
    for provider in providers:
        assert vip_holders(provider) == ["lb0"]
        assert http_via_vip(provider, timeout=5) in provider.lab.spec.pages.values()
        # the secret both labs share is the one their files and lab.json say (docs/security.md)
        conf = provider.exec("lb0", ["cat", "/etc/keepalived/keepalived.conf"]).stdout
        assert f"auth_pass {provider.lab.spec.secret}" in conf


def test_a_fault_in_one_restored_lab_leaves_the_other_alone(labs) -> None:
    """Both labs share addresses, MACs and the secret: a crash in one moves its VIP after VRRP's
    master down interval, and the other's VIP never leaves its lb0."""
    other = provider_for(find_lab(LABS[1]))
    report = failover(LABS[0], "crash")
    assert report.moved_within(2600, 4600), report
    assert vip_holders(other) == ["lb0"]
    assert failover(LABS[1], "stop").vip_after == "lb1"


def test_impair_delays_and_drops_what_a_node_sends_until_cleared(labs) -> None:
    """tc netem in the VM's own kernel: a delay the client's pings show; the master's adverts all
    lost, the backup takes the VIP too (a split brain); cleared, lb0 alone holds it again."""
    name = LABS[1]
    provider = provider_for(find_lab(name))
    lb0 = provider.lab.spec.node("lb0").addresses["public"]
    ok("impair", name, "lb0", "public", "--delay", "300ms")
    pings = ok("exec", name, "client", "--", "ping", "-n", "-c", "3", "-i", "0.3", "-W", "3", str(lb0))
    fastest = float(pings.split(" = ")[-1].split("/")[0])
    assert fastest >= 290, f"lb0 answered in {fastest} ms under a 300 ms delay:\n{pings}"
    ok("impair", name, "lb0", "public", "--loss", "100%")
    try:
        wait_for(lambda: vip_holders(provider), lambda seen: seen == ["lb0", "lb1"], timeout=30,
                 expected="lb1 to take the VIP too once lb0's adverts are all lost")
    finally:
        ok("impair", name, "lb0", "public", "--clear")
    wait_for(lambda: vip_holders(provider), lambda seen: seen == ["lb0"], timeout=30,
             expected="lb0 alone holding the VIP once its adverts reach lb1 again")


def test_capture_shows_the_masters_adverts_from_a_vm(labs, tmp_path) -> None:
    """tcpdump in the VM: the master's adverts on the public network, as text and as a pcap."""
    name = LABS[1]
    text = ok("capture", name, "lb1", "--on", "public", "-c", "2", "vrrp", timeout=120)
    adverts = [line for line in text.splitlines() if "VRRPv2, Advertisement" in line]
    assert len(adverts) == 2 and all("prio 100" in advert for advert in adverts), text
    pcap = tmp_path / "adverts.pcap"
    ok("capture", name, "lb0", "--on", "public", "-c", "2", "-w", str(pcap), "vrrp", timeout=120)
    assert len(pcap.read_bytes()) >= 24 + 2 * (16 + 40), "a pcap header and two adverts"


def test_a_restored_lab_passes_its_suite_on_vms(labs, tmp_path) -> None:
    """The VMs' one run of the whole suite (the fresh lab runs --quick): what the provisioners
    made, restored. Without what containers show (tests.labs.VM_SELECTION: the backup picking up
    the slack, serving through LVS, still makes every takeover's moves) it leaves 51 of its 58
    tests, about 6 min under TCG."""
    junit = tmp_path / "junit.xml"
    result = labgen("verify", LABS[0], "-k", VM_SELECTION, "--junit", str(junit), timeout=1800)
    assert result.returncode == 0, result.stdout[-6000:]
    report = junit.read_text()
    assert 'skipped="0"' in report, "no check may be skipped on VMs"
    for must_run in ("test_unhealthy_server_leaves_the_pool_and_returns", "picks_up_the_slack[link-down]"):
        assert must_run in report, f"{must_run} needs the VMs' kernel and must run here"


def test_reset_restores_a_broken_lab_from_the_save(labs) -> None:
    provider = provider_for(find_lab(LABS[1]))
    provider.exec("lb0", ["sh", "-c", "systemctl stop keepalived; touch /root/mine"])
    out = ok("reset", LABS[1], timeout=900)
    assert "restored from saved lab" in out, out
    assert provider.exec("lb0", ["test", "-e", "/root/mine"]).returncode == 1, "the broken disk came back"
    assert vip_holders(provider) == ["lb0"]
    skew = float(provider.exec("lb0", ["date", "+%s.%N"]).stdout) - time.time()
    assert abs(skew) < 5, f"the restored VM's clock is {skew:.1f} s off"
