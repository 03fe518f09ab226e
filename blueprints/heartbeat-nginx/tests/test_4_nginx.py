"""Tutorial: sample data under /www, nonlocal bind, and nginx serving it on the shared IP."""


def test_sample_data(host, spec, node):
    assert host.file("/www/index.html").content_string.strip() == spec.pages[node]


def test_nonlocal_bind(host):
    assert host.sysctl("net.ipv4.ip_nonlocal_bind") == 1


def test_nginx_site_listens_on_the_vip(host, spec):
    site = host.file("/etc/nginx/sites-enabled/failovertest").content_string
    assert f"listen {spec.vip}:{spec.http_port};" in site
    assert "root /www;" in site


def test_nginx_config_is_valid(host):
    result = host.run("nginx -t")
    assert result.rc == 0, result.stderr


def test_nginx_serves_the_vip_page_locally(host, spec, node):
    page = host.check_output(f"curl -s --max-time 2 --resolve x:80:{spec.vip} http://x/ || true")
    if node == spec.preferred.name:
        assert page == spec.pages[node], f"nginx on {node} answers {page!r} on the VIP"
