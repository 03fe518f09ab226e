"""End to end: `labgen up keepalived-rr` on two real VMs through vagrant-libvirt in a lab
namespace, its quick verify and the provider's faults (the whole suite runs on a lab restored from
this one's save: test_libvirt_restored.py), then nothing left behind.

Needs root, vagrant + vagrant-libvirt, libvirt, qemu, socat and the cached box (built here when
missing: ~20 s from the cached root, ~3 min from nothing). One lab for the whole module: `up`
costs ~100 s under TCG. The tests run in file order; the last one takes the lab down.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from labgen import paths
from labgen.lab import Lab
from labgen.model.breakages import load_breakages
from labgen.observe import http_via_vip, vip_holders
from labgen.poll import wait_for as poll
from labgen.providers.libvirt import libvirtd, vagrant_box
from labgen.providers.libvirt.provider import NAME_PREFIX
from tests.catalogue import assert_caught
from tests.labs import failover, labgen, libvirt_marks, ok

pytestmark = libvirt_marks()

LAB_NAME = "e2e-kars"



def wait_for(ready: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ready() until true; fail with what was awaited (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            pytest.fail(f"still waiting after {timeout:.0f} s for {what}")
        time.sleep(0.25)


def host_snapshot() -> dict[str, str]:
    """What the host namespace shows: links, addresses, namespaces, mounts."""

    def out(argv: list[str]) -> str:
        return subprocess.run(argv, capture_output=True, text=True, check=False).stdout

    return {
        "links": out(["ip", "-br", "link"]),
        "addrs": out(["ip", "-br", "addr"]),
        "netns": out(["ip", "netns", "list"]),
        "mounts": Path("/proc/self/mounts").read_text(),
    }


def lab_pids(lab: Lab) -> list[int]:
    """Every process of the lab: daemons, qemu, dnsmasq (pid files), whatever runs in its
    namespaces (ssh proxies), ssh masters (their command line names the lab directory)."""
    daemon = libvirtd.Daemon(lab.spec.namespace)
    pids = list(daemon.pids().values())
    for pidfile in [*daemon.root.glob("run/qemu/*.pid"), *daemon.root.glob("run/network/*.pid")]:
        if pidfile.name != "driver.pid":
            pids.append(int(pidfile.read_text().split()[0]))
    for namespace in (lab.spec.namespace, lab.spec.client_namespace):
        netns_pids = ["ip", "netns", "pids", namespace]
        pids += [int(p) for p in subprocess.run(netns_pids, capture_output=True, text=True).stdout.split()]
    ps = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    for line in ps.splitlines():
        if str(lab.path) in line or f"netns exec {lab.spec.namespace} " in line:
            pids.append(int(line.split()[0]))
    return pids




def namespaces(snapshot: dict[str, str]) -> set[str]:
    """The names in `ip netns list` (each line: NAME [(id: N)])."""
    return {line.split()[0] for line in snapshot["netns"].splitlines()}


@pytest.fixture(scope="module")
def before() -> dict[str, str]:
    return host_snapshot()


@pytest.fixture(scope="module")
def provider(before: dict[str, str]) -> Iterator:
    from labgen.labs import find_lab, provider_for

    labgen("down", LAB_NAME)  # leftovers of an interrupted earlier run
    try:
        begun = time.monotonic()
        # fresh: the proof that the provisioners work (its up saves the machines for later labs)
        ok("up", "keepalived-rr", "--provider", "libvirt", "--name", LAB_NAME, "--fresh", timeout=1200)
        print(f"\nup: {time.monotonic() - begun:.1f} s")
        yield provider_for(find_lab(LAB_NAME))
    finally:
        labgen("down", LAB_NAME)


def test_both_vms_up_and_provisioned(provider) -> None:
    assert provider.status() == {"lb0": "running", "lb1": "running"}
    for node in provider.lab.spec.nodes:
        assert provider.exec(node.name, ["hostname"]).stdout.strip() == node.hostname
        addrs = provider.exec(node.name, ["ip", "-4", "-br", "addr"]).stdout
        for network, address in node.addresses.items():
            nic = provider.lab.spec.networks[network].interface
            assert re.search(rf"^{nic}\s.*\b{re.escape(address)}/24", addrs, re.M), addrs


def test_vip_on_lb0_and_lvs_lists_both_real_servers(provider) -> None:
    assert vip_holders(provider) == ["lb0"]
    table = provider.exec("lb0", ["ipvsadm", "-L", "-n"]).stdout
    for node in provider.lab.spec.nodes:
        assert f"{node.addresses['vlan']}:80" in table, f"{node.name} missing from LVS:\n{table}"


def test_http_through_the_vip_answers_the_client_seat(provider) -> None:
    assert http_via_vip(provider, timeout=5) in provider.lab.spec.pages.values()


def test_quick_verify_passes_on_the_fresh_lab(provider) -> None:
    """Configuration and steady state of the freshly provisioned machines. The whole suite (6 min
    under TCG) runs once, on a lab restored from this lab's save (test_libvirt_restored.py): the
    same disks and memory as these machines had when provisioning ended, so it proves the
    provisioners' work and the restore at once; this lab's faults (LVS breakages, link cut,
    freeze, power cycle below) prove what only a fresh boot shows."""
    result = labgen("verify", LAB_NAME, "--quick", timeout=600)
    assert result.returncode == 0, result.stdout[-6000:]


def test_failover_crash_follows_vrrp_with_lvs(provider) -> None:
    report = failover(LAB_NAME, "crash")
    assert report.moved_within(2600, 4600), report
    assert report.failback_ms is not None


def test_exec_runs_as_root_and_passes_exit_code(provider) -> None:
    assert provider.exec("lb0", ["id", "-u"]).stdout.strip() == "0"
    assert "/usr/sbin" in provider.exec("lb0", ["sh", "-c", "echo $PATH"]).stdout
    assert provider.exec("lb0", ["sh", "-c", "exit 7"]).returncode == 7
    assert provider.exec("lb0", ["cat"], input="hello").stdout == "hello"


def test_plain_ssh_F_from_the_host_namespace(provider) -> None:
    argv = ["ssh", "-F", str(provider.lab.ssh_config), "lb1", "hostname; id -un"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [provider.lab.spec.node("lb1").hostname, "root"]  # vrrpslave


def test_lab_networks_connect_nodes_and_client(provider) -> None:
    spec = provider.lab.spec
    lb1 = spec.node("lb1").addresses
    for address in (lb1["vlan"], lb1["public"]):
        done = provider.exec("lb0", ["ping", "-c1", "-W2", address], timeout=20)
        assert done.returncode == 0, f"lb0 cannot reach {address}: {done.stdout}"
    public = spec.node("lb0").addresses["public"]

    def banner() -> str:  # sshd on a loaded TCG VM took over socat's 3 s once (CI-like run, 2026-12-03)
        done = provider.client_exec(["socat", "-T10", "-", f"TCP:{public}:22"], timeout=30)
        return done.stdout + done.stderr

    poll(banner, lambda seen: seen.startswith("SSH-2.0"), timeout=90, interval=1,
         expected=f"lb0's sshd banner at {public}:22 from the client seat")


def test_link_cut_and_restore(provider) -> None:
    target = provider.lab.spec.node("lb1").addresses["vlan"]

    def reaches() -> bool:
        return provider.exec("lb0", ["ping", "-c1", "-W1", target], timeout=10).returncode == 0

    provider.set_link("lb1", "vlan", up=False)
    carrier = provider.exec("lb1", ["cat", "/sys/class/net/eth1/carrier"]).stdout.strip()
    assert carrier == "0", "lb1 still sees a carrier on eth1"
    assert not reaches(), "lb1's VLAN address still answers after the link was cut"
    provider.set_link("lb1", "vlan", up=True)
    wait_for(reaches, 30, "lb1's VLAN address to answer again")


def test_freeze_and_thaw(provider) -> None:
    provider.freeze("lb1", True)
    try:
        assert provider.status()["lb1"] == "frozen"
        provider.freeze("lb1", True)  # idempotent both ways
    finally:
        provider.freeze("lb1", False)
    provider.freeze("lb1", False)
    assert provider.status()["lb1"] == "running"
    assert provider.exec("lb1", ["true"], timeout=30).returncode == 0


def test_vagrantfile_validates(provider) -> None:
    from labgen.providers.libvirt.provider import vagrant_env

    env = {**os.environ, **vagrant_env(provider.lab.spec)}
    argv = libvirtd.netns_argv(provider.lab.spec.namespace, ["vagrant", "validate"])
    done = subprocess.run(argv, cwd=provider.lab.path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_tcg_translation_cache_is_capped(provider) -> None:
    if provider.lab.spec.features["kvm"]:
        pytest.skip("KVM works here: no TCG translation cache")
    daemon = libvirtd.Daemon(provider.lab.spec.namespace)
    for node in ("lb0", "lb1"):
        pid = int((daemon.root / f"run/qemu/{NAME_PREFIX}{node}.pid").read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_text().split("\0")
        assert f"tcg,tb-size={libvirtd.TB_CACHE_MIB}" in cmdline
        rss_mib = int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())[1])
        assert rss_mib // 1024 < 800, f"{node}: qemu RSS {rss_mib // 1024} MiB"


def test_power_cycle_comes_back(provider) -> None:
    def boot_id() -> str:
        done = provider.exec("lb1", ["cat", "/proc/sys/kernel/random/boot_id"], timeout=10)
        return done.stdout.strip() if done.returncode == 0 else ""

    first = boot_id()
    assert first, "lb1 does not answer before the reboot"
    begun = time.monotonic()
    provider.power("lb1", False)
    assert provider.status()["lb1"] == "stopped"
    provider.power("lb1", True)
    wait_for(lambda: boot_id() not in ("", first), 300, "lb1 to answer ssh after a power cut")
    print(f"\npower cycle to ssh: {time.monotonic() - begun:.1f} s")
    assert provider.status()["lb1"] == "running"


LVS_BREAKAGES = [b for b in load_breakages(paths.blueprints_dir() / "keepalived-rr") if "ip_vs" in b.needs]


@pytest.mark.parametrize("breakage", LVS_BREAKAGES, ids=[b.id for b in LVS_BREAKAGES])
def test_lvs_breakage_is_caught_by_its_claims(provider, breakage) -> None:
    """The catalogue's breakages only a kernel with ip_vs can show (tests/catalogue.py)."""
    assert_caught(LAB_NAME, breakage)


def test_interrupted_second_lab_is_removed_by_down_and_the_first_never_notices(provider) -> None:
    """A second lab of the same blueprint, with the same addresses, started beside the first and
    interrupted by Ctrl-C while its VMs boot; `labgen down` then removes every trace of it."""
    from labgen.labs import find_lab

    name = f"{LAB_NAME}-b"
    labgen("down", name)  # leftovers of an interrupted earlier run
    host_before = host_snapshot()
    qemu_pids = libvirtd.Daemon(f"labgen-{name}").root / "run" / "qemu"
    up = subprocess.Popen(
        [sys.executable, "-m", "labgen", "up", "keepalived-rr", "--name", name, "--fresh"],  # booting
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        try:
            wait_for(lambda: len(list(qemu_pids.glob("*.pid"))) == 2, 180, f"both VMs of {name} to start")
        finally:
            os.killpg(up.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends to the whole group
            _, err = up.communicate(timeout=180)
        lab = find_lab(name)
        pids = lab_pids(lab)
    finally:
        down = labgen("down", name)
    assert up.returncode != 0 and f"labgen down {name}" in err and "Traceback" not in err, err
    assert down.returncode == 0 and "nothing of it is left" in down.stdout, down.stdout + down.stderr
    left = [pid for pid in pids if Path(f"/proc/{pid}").exists()]
    assert not left, f"{name}'s processes still listed (even as zombies) when down returned: {left}"
    after = host_snapshot()
    assert lab.spec.namespace not in namespaces(after), after["netns"]
    assert (after["links"], after["addrs"]) == (host_before["links"], host_before["addrs"])
    assert not libvirtd.Daemon(lab.spec.namespace).root.exists(), "daemon state/pool left"
    assert vip_holders(provider) == ["lb0"]
    assert http_via_vip(provider, timeout=5) in provider.lab.spec.pages.values()


def test_down_leaves_nothing_but_the_box(provider, before: dict[str, str]) -> None:
    lab, spec = provider.lab, provider.lab.spec
    pids = lab_pids(lab)
    assert pids, "found no process of the running lab to check"
    begun = time.monotonic()
    assert "nothing of it is left" in ok("down", LAB_NAME)
    print(f"\ndown: {time.monotonic() - begun:.1f} s")
    left = [pid for pid in pids if Path(f"/proc/{pid}").exists()]
    assert not left, f"processes of the lab still listed (even as zombies) when down returned: {left}"
    after = host_snapshot()
    assert {spec.namespace, spec.client_namespace}.isdisjoint(namespaces(after)), after["netns"]
    assert after["links"] == before["links"]
    assert after["addrs"] == before["addrs"]
    leftovers = [
        m for m in after["mounts"].splitlines() if spec.namespace in m or str(lab.path) in m or "libvirt" in m
    ]
    assert not leftovers, f"mounts left: {leftovers}"
    assert not libvirtd.Daemon(spec.namespace).root.exists(), "daemon state/pool left"
    assert not lab.ssh_config.exists()
    assert vagrant_box.is_current(), "down must keep the cached box"
    assert "nothing to do" in ok("down", LAB_NAME)  # idempotent
