from labgen.testing import GROUP, cluster_state

"""Tutorial: the shared secret, the cluster's network, and lb0 the master for the IP; the pacemaker
way (corosync's authkey, corosync.conf, a location preference in the cluster's configuration)."""



def test_authkey_is_private(host):
    authkey = host.file("/etc/corosync/authkey")
    assert authkey.mode == 0o400, f"the authkey is mode {authkey.mode:o}; corosync wants 400"
    assert authkey.user == "root"
    assert authkey.size >= 128, f"corosync needs a key of 128 bytes or more, this one has {authkey.size}"


def test_both_nodes_share_the_secret(hosts):
    keys = {name: h.file("/etc/corosync/authkey").content_string for name, h in hosts.items()}
    assert len(set(keys.values())) == 1, "the authkeys differ between the nodes"


def test_both_nodes_are_members_with_quorum(host, spec, node):
    """corosync's own view on each node: both nodes in the membership, the partition quorate."""
    status = host.check_output("corosync-quorumtool -s")
    assert "Quorate:          Yes" in status, status
    for other in spec.nodes:
        assert f" {other.name}" in status, f"{other.name} is not a member seen from {node}:\n{status}"


def test_the_group_prefers_lb0(host, spec):
    """The location constraint as the cluster holds it (the CIB), not only as the file says."""
    constraints = host.check_output("crm configure show type:location")
    assert f"location site-prefers-{spec.preferred.name} {GROUP} 100: {spec.preferred.name}" in constraints


def test_resource_stickiness_moves_the_group_back(host, spec):
    """Heartbeat's auto_failback on: a stickiness below the preference lets the group return."""
    query = "crm_attribute --type rsc_defaults --name resource-stickiness --query --quiet"
    stickiness = host.check_output(query)
    assert int(stickiness) < 100, f"resource-stickiness {stickiness} keeps the group where it runs"


def test_stonith_is_off_as_the_departure_says(host):
    query = "crm_attribute --type crm_config --name stonith-enabled --query --quiet"
    assert host.check_output(query) == "false"


def test_the_token_timeout_is_the_blueprints(host, spec):
    token = host.check_output("corosync-cmapctl -g runtime.config.totem.token").rsplit("=", 1)[-1].strip()
    assert int(token) == spec.params["token"]


def test_the_group_runs_on_lb0(provider, spec):
    assert cluster_state(provider, spec.preferred.name).running_on == {spec.preferred.name}
