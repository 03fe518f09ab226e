"""The rendered configs pass the daemons' own config tests, on each release's packages.

Each node's files are laid over a release's cached root in a throwaway overlay inside private
mount, UTS and network namespaces (gone when the command ends; the network one holds a veth pair
named eth1/eth2 carrying the node's addresses, because keepalived -t checks that the interfaces it
names exist and corosync -t looks for its own ring address) and checked with keepalived -t,
apache2ctl -t, nginx -t, corosync -t and crm_verify. A release whose root is not built is skipped
with the command that builds it (scripts/test builds them all).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from labgen.boxes import rootfs
from labgen.boxes.releases import releases
from labgen.lab import NodeSpec
from labgen.model.load import load_blueprint
from labgen.render import render_lab

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount an overlay of the box root")

DEBIAN = [r.name for r in releases().values() if r.distro == "debian"]
# the cluster configuration loaded into an empty CIB file, then checked by pacemaker itself
# (crmsh's own checks need a running cluster to read the resource agents' metadata)
CRM_VERIFY = (
    "cibadmin --empty > /tmp/cib.xml && export CIB_file=/tmp/cib.xml"
    " && crm options check-frequency never && crm configure load update /etc/labgen/cluster.crm"
    " && crm_verify --xml-file /tmp/cib.xml"
)
CHECKS = {
    "keepalived-rr": ["keepalived -t -f /etc/keepalived/keepalived.conf", "apache2ctl -t"],
    "heartbeat-nginx": ["nginx -t"],
    "pacemaker-nginx": ["corosync -t", CRM_VERIFY],
}


def built(box: str) -> str:
    if not rootfs.is_current(box):
        pytest.skip(f"needs `labgen box build {box} --for nspawn`")
    return box


def run_in_node_root(
    files: Path,
    work: Path,
    command: str,
    node: NodeSpec,
    box: str = rootfs.DEFAULT,
    sysctl: dict | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run command chrooted in the box root with this node's rendered files on top, as the node
    (its addresses, hostname and the blueprint's network sysctls, which are the namespace's own)."""
    settings = " ".join(f"{key}={value}" for key, value in (sysctl or {}).items() if key.startswith("net."))
    for part in ("upper", "work", "merged"):
        (work / part).mkdir(parents=True, exist_ok=True)
    layers = f"lowerdir={rootfs.root_path(box)},upperdir={work}/upper,workdir={work}/work"
    addresses = "; ".join(f"ip addr add {address}/32 dev eth1" for address in node.addresses.values())
    script = f"""
        set -e
        ip link add eth1 type veth peer name eth2
        {addresses}
        ip link set eth1 up
        {f"sysctl -q -w {settings}" if settings else ""}
        hostname {node.hostname}
        mount -t overlay overlay -o {layers} {work}/merged
        cp -a --remove-destination {files}/. {work}/merged/  # absolute links in the root point at host paths
        mount -t proc proc {work}/merged/proc
        mount -t tmpfs tmpfs {work}/merged/run && mkdir {work}/merged/run/lock
        exec chroot {work}/merged sh -c '{command}'
    """
    return subprocess.run(
        ["unshare", "--mount", "--net", "--uts", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("box", DEBIAN)
@pytest.mark.parametrize(("blueprint", "command"), [(bp, cmd) for bp, cmds in CHECKS.items() for cmd in cmds])
def test_rendered_config_passes_its_daemons_test(tmp_path, blueprint, command, box):
    sets = [f"box={built(box)}"]
    lab = render_lab(blueprint, tmp_path / "lab", name=None, provider="libvirt", sets=sets, force=False)
    sysctl = load_blueprint(blueprint, sets)[0].sysctl
    for node in lab.spec.nodes:
        files = lab.path / "files" / node.name
        result = run_in_node_root(files, tmp_path / node.name, command, node, box, sysctl)
        assert result.returncode == 0, (
            f"{node.name} on {box}: `{command}` exited {result.returncode} (keepalived: 5 = errors, 6 ="
            f" script security):\n{result.stdout}{result.stderr}"
        )
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.mark.skipif(shutil.which("vagrant") is None, reason="needs vagrant")
@pytest.mark.parametrize("blueprint", list(CHECKS))
def test_vagrantfile_validates(tmp_path, blueprint):
    """Vagrant itself reads the file; the libvirt part is validated for real by `up` in the e2e test."""
    lab = render_lab(blueprint, tmp_path / "lab", name=None, provider="libvirt", sets=[], force=False)
    result = subprocess.run(
        ["vagrant", "validate", "--ignore-provider"],
        cwd=lab.path,
        capture_output=True,
        text=True,
        env={**os.environ, "VAGRANT_HOME": str(tmp_path / "vagrant.d")},
    )
    assert result.returncode == 0, result.stdout + result.stderr


BYPASS_SCENARIO = """
    set -e
    script=/etc/keepalived/bypass_ipvs.sh vip={vip}
    rules() {{ iptables -t nat -S PREROUTING | grep -c "$vip/32 -p tcp -j REDIRECT" || true; }}
    ip link set eth1 up
    $script add $vip; $script add $vip; echo "backup twice: $(rules)"
    $script del $vip; echo "stale del on the backup: $(rules)"
    for i in 1 2 3 4 5 6 7 8; do $script del $vip & $script add $vip & done; wait
    echo "racing calls on the backup: $(rules)"
    ip addr add $vip/24 dev eth1
    $script add $vip; echo "director: $(rules)"
    $script nonsense $vip 2>/dev/null || echo "bad action refused"
    $script add 300.1.2.3 2>/dev/null || echo "bad address refused"
"""


def test_bypass_script_follows_the_vip_not_the_call_order(tmp_path):
    """keepalived runs notify scripts concurrently: the rule must end up where the VIP is not."""
    built(rootfs.DEFAULT)
    lab = render_lab("keepalived-rr", tmp_path / "lab", name=None, provider="libvirt", sets=[], force=False)
    node = lab.spec.nodes[1]
    scenario = BYPASS_SCENARIO.format(vip=lab.spec.vip).replace("'", "'\"'\"'")
    result = run_in_node_root(lab.path / "files" / node.name, tmp_path / node.name, scenario, node)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "backup twice: 1",
        "stale del on the backup: 1",
        "racing calls on the backup: 1",
        "director: 0",
        "bad action refused",
        "bad address refused",
    ], result.stdout + result.stderr
    shutil.rmtree(tmp_path, ignore_errors=True)
