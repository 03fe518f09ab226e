"""Tutorial: the shared secret (authkeys), ha.cf and haresources with lb0 the master for the IP."""

import re


def test_authkeys_is_private(host):
    authkeys = host.file("/etc/ha.d/authkeys")
    assert authkeys.mode == 0o600, f"heartbeat refuses authkeys with mode {authkeys.mode:o}"
    assert authkeys.user == "root"


def test_both_nodes_share_the_secret(hosts):
    secrets = {
        name: h.file("/etc/ha.d/authkeys").content_string.split("\n1 ")[-1] for name, h in hosts.items()
    }
    assert len(set(secrets.values())) == 1, "authkeys differ between the nodes"


def test_ha_cf_names_both_nodes_and_the_peer(host, spec, node):
    conf = host.file("/etc/ha.d/ha.cf").content_string
    assert re.findall(r"^node (\S+)", conf, re.M) == [n.hostname for n in spec.nodes]
    for other in spec.nodes:
        if other.name != node:
            assert f"ucast eth1 {other.addresses['vlan']}" in conf
    assert re.search(r"^auto_failback on$", conf, re.M), "lb0 takes the IP back (auto_failback on)"


def test_haresources_makes_lb0_the_master_of_the_vip(hosts, spec):
    lines = {h.file("/etc/ha.d/haresources").content_string.strip().splitlines()[-1] for h in hosts.values()}
    assert len(lines) == 1, f"haresources differ between the nodes: {lines}"
    assert lines.pop().startswith(f"{spec.preferred.name} IPaddr::{spec.vip}/")
