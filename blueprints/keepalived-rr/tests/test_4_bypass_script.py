"""Tutorial step 4: bypass_ipvs.sh, executable; the BACKUP redirects VIP traffic to itself."""

SCRIPT = "/etc/keepalived/bypass_ipvs.sh"


def test_script_is_executable_and_valid_sh(host):
    script = host.file(SCRIPT)
    assert script.mode == 0o755
    assert host.run(f"sh -n {SCRIPT}").rc == 0


def test_redirect_rule_only_on_the_backup(host, spec, node):
    rules = host.check_output("iptables -t nat -S PREROUTING")
    has_rule = f"-d {spec.vip}/32 -p tcp -j REDIRECT" in rules
    if spec.node(node).role == "backup":
        assert has_rule, f"the BACKUP must redirect VIP traffic to itself; rules:\n{rules}"
    else:
        assert not has_rule, f"the MASTER must not redirect VIP traffic; rules:\n{rules}"
