"""The nspawn provider with real containers: up, ssh, lab networks, faults, complete teardown.

One small lab (lb0/lb1, a VLAN and a public network, a client seat) is built by hand, brought up
once for the module and torn down by the last test, which checks that nothing is left behind.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from labgen import host, netns
from labgen.errors import LabgenError
from labgen.lab import Lab
from labgen.model.blueprint import Resources
from labgen.progress import Progress
from labgen.providers.nspawn.provider import NSPAWN_RUN, NspawnProvider
from tests.hostcheck import leftovers, snapshot
from tests.labs import NSPAWN

pytestmark = NSPAWN

NAMESPACE = "lgtest-nsp"
PUBLIC = {"lb0": "203.0.113.11", "lb1": "203.0.113.12"}
VLAN = {"lb0": "10.0.0.11", "lb1": "10.0.0.12"}

PROVISION = """\
set -e
cat > /etc/network/interfaces.d/lab <<EOF
auto eth1
iface eth1 inet static
    address {vlan}/24
auto eth2
iface eth2 inet static
    address {public}/24
EOF
ip addr replace {vlan}/24 brd + dev eth1 && ip link set eth1 up
ip addr replace {public}/24 brd + dev eth2 && ip link set eth2 up
echo "{page}" > /var/www/html/index.html
systemctl enable --now nginx
"""


def lab_json(namespace: str = NAMESPACE) -> dict:
    networks = {
        "vlan": {"name": "vlan", "cidr": "10.0.0.0/24", "interface": "eth1", "bridge": "br-vlan"},
        "public": {
            "name": "public", "cidr": "203.0.113.0/24", "interface": "eth2", "bridge": "br-pub",
        },
    }
    nodes = [
        {"name": n, "hostname": n, "role": role, "box": "debian-12",
         "addresses": {"vlan": VLAN[n], "public": PUBLIC[n]}}
        for n, role in (("lb0", "preferred"), ("lb1", "backup"))
    ]
    return {
        "name": namespace, "blueprint": "test", "title": "nspawn provider test",
        "provider": "nspawn", "service": "keepalived", "daemon": "keepalived", "web": "nginx",
        "vip": "203.0.113.10", "vip_network": "public", "networks": networks, "nodes": nodes,
        "client": ["203.0.113.100", "203.0.113.101"], "namespace": namespace,
        "features": {"ip_vs": False}, "params": {}, "pages": {},
        "resources": Resources().model_dump(),
    }


def wait_for(check: Callable[[], tuple[bool, str]], timeout: float, expected: str) -> None:
    """Bounded poll: fails saying what was expected and what was last seen."""
    deadline = time.monotonic() + timeout
    ok, seen = check()
    while not ok:
        if time.monotonic() > deadline:
            pytest.fail(f"after {timeout} s: expected {expected}; last seen: {seen}")
        time.sleep(0.1)
        ok, seen = check()


@pytest.fixture(autouse=True)
def _labgen_home() -> None:
    """Overrides the suite's temporary LABGEN_HOME: these tests read the real cached root
    (never write it) and keep their lab directories in pytest's tmp dirs."""


@pytest.fixture(scope="module")
def before() -> dict[str, set[str]]:
    return snapshot()


def make_lab(path: Path, namespace: str, page: str = "hello from {node}") -> NspawnProvider:
    """A lab directory as `labgen render` would leave it, reduced to what the provider reads."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "lab.json").write_text(json.dumps(lab_json(namespace)))
    (path / "provision").mkdir(exist_ok=True)
    for node in ("lb0", "lb1"):
        script = PROVISION.format(node=node, vlan=VLAN[node], public=PUBLIC[node],
                                  page=page.format(node=node))
        (path / "provision" / f"{node}.sh").write_text(script)
    return NspawnProvider(Lab(path))


@pytest.fixture(scope="module")
def provider(before, tmp_path_factory) -> Iterator[NspawnProvider]:
    prov = make_lab(tmp_path_factory.mktemp("nsplab"), NAMESPACE)
    begun = time.monotonic()
    try:
        prov.up(Progress(quiet=True))
        print(f"up to ready (2 nodes): {time.monotonic() - begun:.1f} s")
        yield prov
    finally:
        prov.down()


def http(prov: NspawnProvider, address: str) -> tuple[bool, str]:
    done = prov.client_exec(["curl", "-s", "--max-time", "1", f"http://{address}/"], timeout=5)
    return done.returncode == 0, (done.stdout.strip() or f"curl exit {done.returncode}")


def test_up_boots_and_provisions_both_nodes(provider):
    assert provider.status() == {"lb0": "running", "lb1": "running"}
    out = provider.exec("lb1", ["systemctl", "is-enabled", "nginx"])
    assert out.stdout.strip() == "enabled"


def test_plain_ssh_from_the_host_namespace(provider):
    config = provider.ssh_config()
    done = subprocess.run(["ssh", "-F", str(config), "lb0", "hostname"],
                          capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout.strip()) == (0, "lb0"), done.stderr


def test_testinfra_over_the_ssh_config(provider):
    testinfra = pytest.importorskip("testinfra")
    host = testinfra.get_host("ssh://lb1", ssh_config=str(provider.ssh_config()))
    assert host.check_output("hostname") == "lb1"
    assert host.service("nginx").is_running


def test_nodes_reach_each_other_on_the_vlan(provider):
    done = provider.exec("lb0", ["ping", "-c", "1", "-W", "2", VLAN["lb1"]], timeout=10)
    assert done.returncode == 0, done.stdout + done.stderr


def test_client_seat_holds_every_client_address(provider):
    out = provider.client_exec(["ip", "-4", "-o", "addr", "show", "dev", "eth0"]).stdout
    assert set(re.findall(r"inet (\S+)/24", out)) == {"203.0.113.100", "203.0.113.101"}
    assert http(provider, PUBLIC["lb0"]) == (True, "hello from lb0")


def test_link_down_cuts_and_up_restores(provider):
    provider.set_link("lb0", "public", False)
    try:
        wait_for(lambda: _negate(http(provider, PUBLIC["lb0"])), 10, "lb0 unreachable, link down")
    finally:
        provider.set_link("lb0", "public", True)
    wait_for(lambda: http(provider, PUBLIC["lb0"]), 15, "lb0 answering again after link up")


def test_freeze_makes_node_unreachable_and_thaw_restores(provider):
    provider.freeze("lb1", True)
    try:
        assert provider.status()["lb1"] == "frozen"
        wait_for(lambda: _negate(http(provider, PUBLIC["lb1"])), 10, "frozen lb1 not answering")
        ping = provider.client_exec(["ping", "-c", "1", "-W", "1", PUBLIC["lb1"]], timeout=5)
        assert ping.returncode != 0, "a frozen node's kernel must not answer either"
    finally:
        provider.freeze("lb1", False)
    assert provider.status()["lb1"] == "running"
    wait_for(lambda: http(provider, PUBLIC["lb1"]), 15, "lb1 answering again after thaw")


def test_each_node_has_cgroups_of_its_own(provider):
    """Two containers must never share a service's cgroup: a systemd tracking on the unified
    hierarchy would wait for the other node's processes before a killed service counts as stopped."""
    for node in ("lb0", "lb1"):
        table = Path(f"/proc/{provider._init_pid(node)}/cgroup").read_text().splitlines()
        tracking = [line for line in table if line.startswith("0::") or ":name=systemd:" in line]
        assert tracking, f"{node}: no tracking hierarchy in {table}"
        for line in tracking:
            assert f"/labgen/{NAMESPACE}/{node}" in line, f"{node}: init not in its own cgroup: {line}"


def power_cycle(provider: NspawnProvider, node: str) -> None:
    provider.power(node, False)
    assert provider.status()[node] == "stopped"
    provider.power(node, True)


@pytest.mark.parametrize("how", ["power cycle", "reboot"])
def test_power_cycle_and_reboot_bring_enabled_services_back(provider, how):
    """A power cut, or a reboot that shuts down in order first: either way a fresh boot, the node's
    network state gone (as on a real machine) and its enabled services back."""
    provider.exec("lb1", ["ip", "addr", "add", "192.0.2.99/32", "dev", "lo"])  # runtime state only
    begun = time.monotonic()
    if how == "reboot":
        provider.reboot("lb1")
    else:
        power_cycle(provider, "lb1")
    print(f"{how} to ready: {time.monotonic() - begun:.1f} s")
    assert provider.status()["lb1"] == "running"
    assert "192.0.2.99" not in provider.exec("lb1", ["ip", "addr", "show", "dev", "lo"]).stdout
    wait_for(lambda: http(provider, PUBLIC["lb1"]), 30, f"nginx on lb1 after the {how}")
    done = subprocess.run(["ssh", "-F", str(provider.ssh_config()), "lb1", "hostname"],
                          capture_output=True, text=True, timeout=30)
    assert done.stdout.strip() == "lb1", done.stderr


def test_up_again_is_harmless(provider):
    provider.up(Progress(quiet=True))
    assert provider.status() == {"lb0": "running", "lb1": "running"}
    assert http(provider, PUBLIC["lb0"]) == (True, "hello from lb0")


def test_second_lab_same_addresses_and_failed_provisioning(provider, tmp_path):
    """Same addresses side by side; a failing provisioner names its log; down cleans it all."""
    before_other = snapshot()
    other = make_lab(tmp_path / "other", f"{NAMESPACE}2", page="other lab {node}")
    (other.lab.path / "provision" / "lb1.sh").write_text("echo broken on purpose; exit 3\n")
    try:
        with pytest.raises(LabgenError, match=r"provisioning lb1 failed .*provision-lb1\.log"):
            other.up(Progress(quiet=True))
        assert "broken on purpose" in (other.lab.path / "logs/provision-lb1.log").read_text()
        assert http(other, PUBLIC["lb0"]) == (True, "other lab lb0")
        assert http(provider, PUBLIC["lb0"]) == (True, "hello from lb0")
        for pid_file in (other.lab.path / "state").glob("*.pid"):
            pid_file.unlink()  # as after an interrupted up: down must find the nodes by name
    finally:
        other.down()
    assert other.status() == {"lb0": "absent", "lb1": "absent"}
    assert leftovers(before_other, [f"{NAMESPACE}2", str(other.lab.path)]) == {}


def test_a_process_is_in_its_own_network_namespace_only_once_it_has_left_the_hosts():
    """What _plug waits for before it names a node's namespace: nspawn's init is PID 1 inside
    a moment before it has its own network namespace."""
    assert not host.in_own_network_namespace(os.getpid())
    child = subprocess.Popen(["unshare", "--net", "sleep", "30"])
    try:
        wait_for(lambda: (host.in_own_network_namespace(child.pid), host.cmdline(child.pid)), 10,
                 "the unshared sleep in a network namespace of its own")
    finally:
        host.stop([child.pid])


def test_plugging_refuses_a_name_that_is_the_hosts_own_namespace(tmp_path):
    """The last guard of the network rule: no veth is made in, nor link deleted from, nor process
    stopped in, the host's namespace."""
    name = f"{NAMESPACE}-hostcheck"
    subprocess.run(["ip", "netns", "attach", name, str(os.getpid())], check=True)
    try:
        spec = make_lab(tmp_path, NAMESPACE).spec
        with pytest.raises(LabgenError, match="host's own network namespace"):
            netns.add_node_link(spec, name, netns.MGMT, "eth0")
        assert netns.pids(name) == [], "the host's processes were offered as a lab's to stop"
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=True)


def test_down_leaves_nothing_behind(provider, before):
    # what a container killed behind labgen's back (or an earlier run on this host) leaves in
    # nspawn's tmpfs: it must not keep the tmpfs mounted once no container runs
    stale = NSPAWN_RUN / "propagate" / "labgen-gone.lb9"
    stale.mkdir(parents=True)
    begun = time.monotonic()
    provider.down()
    print(f"down: {time.monotonic() - begun:.1f} s")
    assert provider.status() == {"lb0": "absent", "lb1": "absent"}
    assert leftovers(before, [NAMESPACE, str(provider.lab.path)]) == {}
    assert not stale.exists()
    assert not (provider.lab.path / "state").exists()
    provider.down()  # idempotent


def _negate(result: tuple[bool, str]) -> tuple[bool, str]:
    return not result[0], result[1]
