"""Fixtures for the end-to-end tests.

handmade_lab: a hand-made lab directory (lab.json + Vagrantfile + trivial provisioners) for provider tests.

It stands in for `labgen render` so the provider can be tested on its own: nodes lb0/lb1, a VLAN
(eth1, br-vlan) and a public network (eth2, br-pub), a provisioner that only sets the hostname and
the two addresses, and marks the node as provisioned.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jinja2
import pytest

from labgen import paths
from labgen.lab import Lab, LabSpec

PROVISION = """\
#!/bin/sh
# test provisioner: hostname and lab addresses only; idempotent
set -eu
hostname {hostname}
echo {hostname} > /etc/hostname
ip link set eth1 up
ip addr replace {vlan}/24 dev eth1
ip link set eth2 up
ip addr replace {public}/24 dev eth2
touch /var/tmp/labgen-provisioned
"""


def lab_spec(name: str) -> dict:
    nodes = [
        ("lb0", "preferred", "10.0.0.11", "203.0.113.11"),
        ("lb1", "backup", "10.0.0.12", "203.0.113.12"),
    ]
    return {
        "name": name,
        "blueprint": "handmade",
        "title": "Hand-made two-node lab (provider test)",
        "provider": "libvirt",
        "service": "keepalived",
        "daemon": "keepalived",
        "web": "nginx",
        "vip": "203.0.113.10",
        "vip_network": "public",
        "networks": {
            "vlan": {"name": "vlan", "cidr": "10.0.0.0/24", "interface": "eth1", "bridge": "br-vlan"},
            "public": {"name": "public", "cidr": "203.0.113.0/24", "interface": "eth2", "bridge": "br-pub"},
        },
        "nodes": [
            {
                "name": n,
                "hostname": n,
                "role": role,
                "box": "debian-12",
                "addresses": {"vlan": vlan, "public": public},
            }
            for n, role, vlan, public in nodes
        ],
        "client": ["203.0.113.100"],
        "namespace": f"lg-{name}",
        "features": {"ip_vs": True},
        "params": {},
        "pages": {"lb0": "lb0", "lb1": "lb1"},
    }


def make_lab(folder: Path, name: str) -> Lab:
    """Write the lab directory and return it as a Lab."""
    from labgen.providers.libvirt import render_context

    folder.mkdir(parents=True, exist_ok=True)
    data = lab_spec(name)
    (folder / "lab.json").write_text(json.dumps(data, indent=2) + "\n")
    spec = LabSpec.model_validate(data)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(paths.data_dir())),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    vagrantfile = env.get_template("Vagrantfile.j2").render(lab=spec, libvirt=render_context(spec))
    (folder / "Vagrantfile").write_text(vagrantfile)
    (folder / "provision").mkdir(exist_ok=True)
    for node in spec.nodes:
        script = folder / "provision" / f"{node.name}.sh"
        script.write_text(PROVISION.format(hostname=node.hostname, **node.addresses))
        script.chmod(0o755)
    return Lab(folder)


@pytest.fixture(scope="session")
def handmade_lab() -> Callable[[Path, str], Lab]:
    """make_lab(folder, name): a hand-made lab directory, as `labgen render` would write it."""
    return make_lab
