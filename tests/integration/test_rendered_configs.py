"""The rendered configs pass the daemons' own config tests, on the Debian 12 packages the labs run.

Each node's files are laid over the cached root in a throwaway overlay inside private mount and
network namespaces (gone when the command ends; the network one holds a veth pair named eth1/eth2, because
keepalived -t checks that the interfaces it names exist) and checked with keepalived -t, nginx -t,
apache2ctl -t.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from labgen.boxes import rootfs
from labgen.render import render_lab

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount an overlay of the box root"),
    pytest.mark.skipif(not rootfs.is_current(), reason="needs `labgen box build` (the cached root)"),
]

CHECKS = {
    "keepalived-rr": ["keepalived -t -f /etc/keepalived/keepalived.conf", "apache2ctl -t"],
    "heartbeat-nginx": ["nginx -t"],
}


def run_in_node_root(files: Path, work: Path, command: str) -> subprocess.CompletedProcess[str]:
    """Run command chrooted in the box root with this node's rendered files on top."""
    for part in ("upper", "work", "merged"):
        (work / part).mkdir(parents=True, exist_ok=True)
    layers = f"lowerdir={rootfs.root_path()},upperdir={work}/upper,workdir={work}/work"
    script = f"""
        set -e
        ip link add eth1 type veth peer name eth2
        mount -t overlay overlay -o {layers} {work}/merged
        cp -a --remove-destination {files}/. {work}/merged/  # absolute links in the root point at host paths
        mount -t proc proc {work}/merged/proc
        exec chroot {work}/merged sh -c '{command}'
    """
    return subprocess.run(
        ["unshare", "--mount", "--net", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(("blueprint", "command"), [(bp, cmd) for bp, cmds in CHECKS.items() for cmd in cmds])
def test_rendered_config_passes_its_daemons_test(tmp_path, blueprint, command):
    lab = render_lab(blueprint, tmp_path / "lab", name=None, provider="libvirt", sets=[], force=False)
    for node in lab.spec.nodes:
        result = run_in_node_root(lab.path / "files" / node.name, tmp_path / node.name, command)
        assert result.returncode == 0, (
            f"{node.name}: `{command}` exited {result.returncode} (keepalived: 5 = errors, 6 = script"
            f" security):\n{result.stdout}{result.stderr}"
        )
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.mark.skipif(shutil.which("vagrant") is None, reason="needs vagrant")
@pytest.mark.parametrize("blueprint", ["keepalived-rr", "heartbeat-nginx"])
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
    lab = render_lab("keepalived-rr", tmp_path / "lab", name=None, provider="libvirt", sets=[], force=False)
    node = lab.spec.nodes[1]
    scenario = BYPASS_SCENARIO.format(vip=lab.spec.vip).replace("'", "'\"'\"'")
    result = run_in_node_root(lab.path / "files" / node.name, tmp_path / node.name, scenario)
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
