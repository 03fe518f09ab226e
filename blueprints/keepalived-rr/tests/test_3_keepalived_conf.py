"""Tutorial step 3: keepalived.conf, MASTER on one node and BACKUP on the other, valid as written."""

import re

from labgen.protocols.keepalived import genhash_command

CONF = "/etc/keepalived/keepalived.conf"


def test_config_passes_keepalived_t(host):
    result = host.run(f"keepalived -t -f {CONF}")
    assert result.rc == 0, f"keepalived -t exit {result.rc} (5: errors, 6: script security):\n{result.stderr}"


# "router_id LVS_MASTER -> router_id LVS_SLAVE state MASTER -> state BACKUP priority 100 -> priority 50"
TUTORIAL = {"preferred": ("LVS_MASTER", "MASTER", 100), "backup": ("LVS_SLAVE", "BACKUP", 50)}


def test_master_and_backup_as_the_tutorial_says(host, spec, node):
    """The tutorial's own values, not the blueprint's: a blueprint that drifted fails here too."""
    conf = host.file(CONF).content_string
    router_id, state, priority = TUTORIAL[spec.node(node).role]
    for line in (f"router_id {router_id}", f"state {state}", f"priority {priority}", "virtual_router_id 1"):
        assert re.search(rf"^\s*{line}\s*$", conf, re.M), f"{node}: keepalived.conf lacks `{line}`"


def test_both_nodes_share_the_vrrp_password(hosts):
    passwords = {
        name: re.findall(r"auth_pass (\S+)", h.file(CONF).content_string) for name, h in hosts.items()
    }
    values = {tuple(p) for p in passwords.values()}
    assert len(values) == 1, f"auth_pass differs between nodes: {passwords}"
    assert all(len(p) <= 8 for p in next(iter(values))), "VRRP PASS keeps only 8 characters"


def test_health_check_digests_match_the_served_pages(host, spec, node):
    """What keepalived's check will compute: genhash on the configured path of each real server."""
    conf = host.file(CONF).content_string
    genhash_of = genhash_command(spec.node(node).daemon_version("keepalived"))
    for server in spec.nodes:
        address = server.addresses["vlan"]
        block = conf.split(f"real_server {address} ")[1].split("real_server")[0]
        configured = re.search(r"digest ([0-9a-f]{32})", block).group(1)
        path = re.search(r"path (\S+)", block).group(1)
        genhash = host.check_output(f"{genhash_of} -s {address} -p {spec.http_port} -u {path}")
        served = re.search(r"[0-9a-f]{32}", genhash.split("MD5SUM")[-1]).group(0)
        assert configured == served, (
            f"{server.name}: keepalived.conf says {configured}, genhash says {served}"
        )
