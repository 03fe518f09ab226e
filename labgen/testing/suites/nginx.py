"""Tutorial: sample data under /www, and nginx serving it on the shared IP, its log showing the
client's requests."""


def test_sample_data(host, spec, node):
    assert host.file("/www/index.html").content_string.strip() == spec.pages[node]


def test_nginx_site_listens_on_the_vip(host, spec):
    site = host.file("/etc/nginx/sites-enabled/failovertest").content_string
    assert f"listen {spec.vip}:{spec.http_port};" in site
    assert "root /www;" in site


def test_nginx_config_is_valid(host):
    result = host.run("nginx -t")
    assert result.rc == 0, result.stderr


def test_nginx_log_shows_the_clients_requests(preferred, client, spec):
    """Tutorial: "If you look in the Nginx logs on lb0 (tail -f /var/log/nginx/*.log) you will see
    the activity"."""
    log = "/var/log/nginx/access.log"
    before = int(preferred.check_output(f"wc -l < {log}"))
    for _ in range(3):
        assert client.served_by() == spec.preferred.name
    lines = preferred.check_output(f"tail -n +{before + 1} {log}").splitlines()
    from_client = [line for line in lines if line.startswith(spec.client[0] + " ")]
    assert len(from_client) >= 3, f"lb0's access log shows {lines}"
