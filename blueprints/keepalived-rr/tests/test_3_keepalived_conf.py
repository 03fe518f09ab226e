"""Tutorial step 3: keepalived.conf, MASTER on one node and BACKUP on the other, valid as written."""

import re

import pytest

from labgen.testing import DUMP_COMMAND, RunningVRRP, genhash_command, running_vrrp, said

CONF = "/etc/keepalived/keepalived.conf"


def test_config_passes_keepalived_t(host):
    result = host.run(f"keepalived -t -f {CONF}")
    assert result.rc == 0, f"keepalived -t exit {result.rc} (5: errors, 6: script security):\n{result.stderr}"


# "router_id LVS_MASTER -> router_id LVS_SLAVE state MASTER -> state BACKUP priority 100 -> priority 50"
TUTORIAL = {"preferred": ("LVS_MASTER", "MASTER", 100), "backup": ("LVS_SLAVE", "BACKUP", 50)}


@pytest.fixture(scope="module")
def running(hosts) -> dict[str, RunningVRRP]:
    """What each node's keepalived runs with (its data dump), not the file, which may have been
    edited since it was read."""
    dumps = {name: h.run(DUMP_COMMAND) for name, h in hosts.items()}
    for name, dump in dumps.items():
        assert dump.rc == 0, f"{name}: {dump.stderr.strip()}"
    return {name: running_vrrp(dump.stdout) for name, dump in dumps.items()}


def test_master_and_backup_as_the_tutorial_says(host, spec, node, running):
    """The tutorial's own values, not the blueprint's: a blueprint that drifted fails here too.
    router_id and priority as keepalived runs them; `state`, the state it starts in, as written
    (the dump shows only the state it is in now)."""
    router_id, state, priority = TUTORIAL[spec.node(node).role]
    vrrp = running[node]
    assert vrrp.router_id == router_id, f"{node}: keepalived runs with router_id {vrrp.router_id}"
    runs_with = vrrp.only_instance().get("Priority")
    assert runs_with == str(priority), f"{node}: keepalived runs with priority {runs_with}, not {priority}"
    conf = host.file(CONF).content_string
    assert re.search(rf"^\s*state {state}\s*$", conf, re.M), f"{node}: keepalived.conf lacks `state {state}`"


ADVERT = re.compile(r"IP (\S+) > 224\.0\.0\.18: VRRPv\d, Advertisement, vrid (\d+), prio (\d+)")


def test_the_wire_carries_the_masters_adverts_alone(spec, backup):
    """The election as the network sees it (tcpdump on the backup, on the VIP's network): every
    advert comes from the master, with its priority and the shared virtual router id; the backup
    stays silent. A backup that outbids the master, or two nodes on different router ids (two
    masters), show here whatever the files say."""
    params, net = spec.params, spec.networks[spec.vip_network]
    master = spec.preferred
    count, wait = 3, 3 * params["advert_int"] + 2
    seen = backup.run(f"timeout {wait:g} tcpdump -nnl -i {net.interface} -c {count} vrrp 2>/dev/null")
    adverts = ADVERT.findall(seen.stdout)
    assert len(adverts) == count, f"{count} VRRP adverts expected within {wait:g} s, saw: {seen.stdout!r}"
    wanted = (master.addresses[spec.vip_network], str(params["virtual_router_id"]),
              str(params["priorities"]["preferred"]))
    odd = [advert for advert in adverts if advert != wanted]
    assert not odd, (f"adverts from {wanted[0]} (the master) with vrid {wanted[1]} and prio {wanted[2]} "
                     f"expected, saw (from, vrid, prio): {sorted(set(odd))}")


# keepalived.conf's keyword -> the dump's words for it
AS_RUN = {"priority": "Priority", "virtual_router_id": "Virtual Router ID", "advert_int": "Advert interval"}


def dumped_number(text: str | None) -> float | None:
    """"1 sec", "500 milli-sec", "50" -> seconds or a plain number."""
    if not text:
        return None
    number = float(text.split()[0])
    return number / 1000 if "milli" in text else number


def test_keepalived_runs_the_file_as_written(host, node, running):
    """keepalived reads its file at start and reload only: one edited since says one thing while
    the daemon does another, until the next restart does it (in an exam, or at 3 a.m.)."""
    conf = host.file(CONF).content_string
    written = re.search(r"^\s*router_id\s+(\S+)", conf, re.M)
    assert written and written.group(1) == running[node].router_id, (
        f"{node}: keepalived.conf says router_id {written and written.group(1)}, keepalived runs "
        f"{running[node].router_id}: reload it")
    instance = running[node].only_instance()
    for keyword, words in AS_RUN.items():
        value = re.search(rf"^\s*{keyword}\s+(\S+)", conf, re.M)
        runs = dumped_number(instance.get(words))
        assert value and runs is not None and float(value.group(1)) == runs, (
            f"{node}: keepalived.conf says {keyword} {value and value.group(1)}, keepalived runs {runs}: "
            "reload it")


def test_both_nodes_run_one_virtual_router(running):
    """The same virtual_router_id on both, whichever: the number only has to match."""
    ids = {name: vrrp.only_instance().get("Virtual Router ID") for name, vrrp in running.items()}
    assert len(set(ids.values())) == 1, f"the nodes run different virtual_router_ids: {said(ids)}"


def test_both_nodes_share_the_vrrp_password(spec, running):
    """A password, the same on both, as the daemons run them (VRRP keeps its first 8 characters)."""
    if spec.params["auth_type"] == "none":
        pytest.skip("this blueprint runs VRRP without authentication (VRRPv3 has none)")
    auth = {name: (vrrp.only_instance().get("Authentication type"), vrrp.only_instance().get("Password"))
            for name, vrrp in running.items()}
    for name, (kind, password) in auth.items():
        assert kind == "SIMPLE_PASSWORD" and password, f"{name}: keepalived runs with authentication {kind}"
    passwords = {name: password for name, (_, password) in auth.items()}
    assert len(set(passwords.values())) == 1, "the nodes run with different auth_pass"


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
