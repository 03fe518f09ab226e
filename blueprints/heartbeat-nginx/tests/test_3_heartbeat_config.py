"""Tutorial: the shared secret (authkeys), ha.cf and haresources with lb0 the master for the IP."""

import re

from labgen.testing import assert_read_since_changed

AUTHKEYS = "/etc/ha.d/authkeys"
# heartbeat signs its packets with the key `auth N` picks; crc signs nothing (anyone may forge
# a packet), so it is no secret
SIGNING = ("sha1", "md5")
# what heartbeat's cl_str_to_boolean takes for yes, as ha.cf's auto_failback accepts it
YES = ("on", "yes", "true", "y", "1")


def test_authkeys_is_private(host):
    authkeys = host.file(AUTHKEYS)
    assert authkeys.mode == 0o600, f"heartbeat refuses authkeys with mode {authkeys.mode:o}"
    assert authkeys.user == "root"


def key_in_use(authkeys: str) -> tuple[str, str]:
    """(method, secret) of the key authkeys' `auth N` line picks, or ("", "")."""
    chosen = re.search(r"^\s*auth\s+(\d+)\s*$", authkeys, re.M)
    keys = {index: (method, secret.strip()) for index, method, secret in
            re.findall(r"^\s*(\d+)\s+(\S+)[ \t]*(.*)$", authkeys, re.M)}
    return keys.get(chosen.group(1), ("", "")) if chosen else ("", "")


def test_both_nodes_share_the_secret(hosts):
    """The key heartbeat runs with (it has read authkeys since it changed), a real one (sha1 or
    md5 with a secret), the same on both."""
    keys = {}
    for name, h in hosts.items():
        assert_read_since_changed(h, "heartbeat", [AUTHKEYS])
        keys[name] = key_in_use(h.file(AUTHKEYS).content_string)
        method, secret = keys[name]
        assert method in SIGNING and secret, f"{name}: authkeys signs with {method or 'no key'}, not a secret"
    assert len(set(keys.values())) == 1, "authkeys differ between the nodes"


def test_ha_cf_names_both_nodes_and_the_peer(host, spec, node):
    assert_read_since_changed(host, "heartbeat", ["/etc/ha.d/ha.cf", "/etc/ha.d/haresources"])
    conf = host.file("/etc/ha.d/ha.cf").content_string
    assert re.findall(r"^node (\S+)", conf, re.M) == [n.hostname for n in spec.nodes]
    for other in spec.nodes:
        if other.name != node:
            assert f"ucast eth1 {other.addresses['vlan']}" in conf
    failback = re.findall(r"^\s*auto_failback\s+(\S+)", conf, re.M)
    assert failback and failback[-1].lower() in YES, f"lb0 takes the IP back if auto_failback on: {failback}"


def test_haresources_makes_lb0_the_master_of_the_vip(hosts, spec):
    lines = {h.file("/etc/ha.d/haresources").content_string.strip().splitlines()[-1] for h in hosts.values()}
    assert len(lines) == 1, f"haresources differ between the nodes: {lines}"
    assert lines.pop().startswith(f"{spec.preferred.name} IPaddr::{spec.vip}/")
