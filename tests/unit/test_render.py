"""Rendering: every file the tutorials write, digests computed, output written all or nothing."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess

import pytest

from labgen.errors import LabgenError
from labgen.render import render_lab
from tests.conftest import BLUEPRINTS


def render(name: str, out, sets=(), **kw):
    return render_lab(
        name, out, name=kw.get("lab"), provider="libvirt", sets=list(sets), force=kw.get("force", False)
    )


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_lab_directory_has_every_part(tmp_path, blueprint):
    lab = render(blueprint, tmp_path / "lab")
    for part in ["Vagrantfile", "lab.json", "provision/lb0.sh", "provision/lb1.sh", "tests/conftest.py"]:
        assert (lab.path / part).is_file(), part
    assert json.loads((lab.path / "lab.json").read_text())["blueprint"] == blueprint


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_provisioners_pass_bash_n(tmp_path, blueprint):
    lab = render(blueprint, tmp_path / "lab")
    for script in (lab.path / "provision").iterdir():
        result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert result.returncode == 0, f"{script.name}: {result.stderr}"


def test_keepalived_digests_equal_the_md5_of_each_served_page(tmp_path):
    lab = render("keepalived-rr", tmp_path / "lab")
    for node in ("lb0", "lb1"):
        conf = (lab.path / f"files/{node}/etc/keepalived/keepalived.conf").read_text()
        digests = dict(re.findall(r"real_server (\S+) 80 \{.*?digest ([0-9a-f]{32})", conf, re.S))
        for server in lab.spec.nodes:
            page = (lab.path / f"files/{server.name}/var/www/html/index.html").read_bytes()
            assert digests[server.addresses["vlan"]] == hashlib.md5(page).hexdigest()


def test_keepalived_master_and_backup_differ_as_the_tutorial_says(tmp_path):
    lab = render("keepalived-rr", tmp_path / "lab")
    master, backup = (
        (lab.path / f"files/{n}/etc/keepalived/keepalived.conf").read_text() for n in ("lb0", "lb1")
    )
    assert "state MASTER" in master and "priority 100" in master and "router_id LVS_MASTER" in master
    assert "state BACKUP" in backup and "priority 50" in backup and "router_id LVS_SLAVE" in backup
    assert not re.search(r"^\s*nb_get_retry", master, re.M) and "enable_script_security" in master
    assert re.search(r"auth_pass (\S+)", master).group(1) == re.search(r"auth_pass (\S+)", backup).group(1)


def test_secrets_are_fresh_per_lab_unless_set(tmp_path):
    one, two = (render("keepalived-rr", tmp_path / n) for n in ("a", "b"))
    assert one.spec.params["auth_pass"] != two.spec.params["auth_pass"]
    fixed = render("keepalived-rr", tmp_path / "c", ["keepalived.auth_pass=abcdefgh"])
    assert fixed.spec.params["auth_pass"] == "abcdefgh"


def test_heartbeat_files(tmp_path):
    lab = render("heartbeat-nginx", tmp_path / "lab")
    files = lab.path / "files/lb0/etc"
    assert (files / "ha.d/authkeys").stat().st_mode & 0o777 == 0o600
    assert re.search(r"^1 sha1 [0-9a-f]{32}$", (files / "ha.d/authkeys").read_text(), re.M)
    assert "lb0 IPaddr::198.51.100.10/24/eth2" in (files / "ha.d/haresources").read_text()
    assert "ucast eth1 10.10.0.11" in (files / "ha.d/ha.cf").read_text()
    assert "listen 198.51.100.10:80;" in (files / "nginx/sites-enabled/failovertest").read_text()
    assert "net.ipv4.ip_nonlocal_bind = 1" in (lab.path / "provision/lb1.sh").read_text()


def test_sub_second_variant_renders_vrrpv3_without_auth(tmp_path):
    sets = ["keepalived.vrrp_version=3", "keepalived.auth_type=none", "keepalived.advert_int=0.1"]
    conf = (
        render("keepalived-rr", tmp_path / "lab", sets).path / "files/lb0/etc/keepalived/keepalived.conf"
    ).read_text()
    assert "vrrp_version 3" in conf and "advert_int 0.1" in conf and "auth_type" not in conf


def test_a_folder_labgen_did_not_render_is_never_replaced(tmp_path):
    out = tmp_path / "lab"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    for force in (False, True):
        with pytest.raises(LabgenError, match="labgen did not write"):
            render("keepalived-rr", out, force=force)
    assert (out / "notes.txt").read_text() == "mine"


def test_failed_render_leaves_nothing(tmp_path, blueprint_copy):
    folder = blueprint_copy("keepalived-rr")
    (folder / "templates/keepalived.conf.j2").write_text("{{ no_such_variable }}")
    with pytest.raises(Exception, match="no_such_variable"):
        render(str(folder), tmp_path / "out" / "lab")
    assert list((tmp_path / "out").iterdir()) == []


def test_lab_name_is_checked(tmp_path):
    with pytest.raises(LabgenError, match="lab name 'Bad_Name'"):
        render("keepalived-rr", tmp_path / "lab", lab="Bad_Name")
