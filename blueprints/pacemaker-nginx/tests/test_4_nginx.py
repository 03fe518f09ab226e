"""Tutorial: sample data under /www, and nginx serving it on the shared IP. Here nginx is a cluster
resource: pacemaker starts it after the IP, on lb0 only, so no ip_nonlocal_bind is needed."""

from labgen.testing.suites.nginx import (
    test_nginx_log_shows_the_clients_requests,
    test_nginx_site_listens_on_the_vip,
    test_sample_data,
)


def test_nginx_runs_only_where_the_vip_is(hosts, spec):
    running = {name for name, host in hosts.items() if host.service("nginx").is_running}
    assert running == {spec.preferred.name}, f"nginx runs on {sorted(running)}"


def test_nginx_config_is_valid_where_the_vip_is(preferred):
    """`nginx -t` binds the site's address to test it, so it passes only on the node holding the
    VIP: on lb1 it fails with "Cannot assign requested address", which is why nginx runs there
    only after pacemaker has moved the IP."""
    result = preferred.run("nginx -t")
    assert result.rc == 0, result.stderr


def test_no_nonlocal_bind_is_needed(host):
    assert host.sysctl("net.ipv4.ip_nonlocal_bind") == 0
