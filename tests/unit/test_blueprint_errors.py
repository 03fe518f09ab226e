"""Every kind of bad blueprint input gets one line naming file, line and field."""

from __future__ import annotations

import pytest

from labgen.errors import LabgenError
from labgen.model.load import load_blueprint

# (what is broken, text to replace, replacement, the error's line counted from the replaced text's,
# words the message must hold)
BROKEN = [
    ("malformed YAML", "vip_network: public\n", "vip_network: [public\n", None, ["malformed YAML"]),
    (
        "unknown key",
        "  advert_int: 1\n",
        "  advert_intt: 1\n",
        0,
        ["unknown key 'advert_intt'", "did you mean 'advert_int'"],
    ),
    (
        "VIP outside the public network",
        "vip: 203.0.113.10",
        "vip: 192.0.2.10",
        0,
        ["vip", "not a host address of the public network 203.0.113.0/24"],
    ),
    (
        "duplicate node name",
        "  - name: lb1",
        "  - name: lb0",
        0,
        ["nodes[lb0].name", "duplicate node name 'lb0'"],
    ),
    (
        "duplicate address",
        "{vlan: 10.0.0.12, public",
        "{vlan: 10.0.0.11, public",
        0,
        ["duplicate address 10.0.0.11", "node lb0 has it already"],
    ),
    (
        "address outside its network",
        "{vlan: 10.0.0.12,",
        "{vlan: 10.9.0.12,",
        0,
        ["nodes[lb1].addresses.vlan", "not a host address of the vlan network"],
    ),
    (
        "virtual_router_id too big",
        "virtual_router_id: 1\n",
        "virtual_router_id: 300\n",
        0,
        ["keepalived.virtual_router_id", "300", "less than or equal to 255"],
    ),
    (
        "virtual_router_id zero",
        "virtual_router_id: 1\n",
        "virtual_router_id: 0\n",
        0,
        ["greater than or equal to 1"],
    ),
    (
        "priority too big",
        "{preferred: 100, backup: 50}",
        "{preferred: 255, backup: 50}",
        0,
        ["keepalived.priorities.preferred", "less than or equal to 254"],
    ),
    (
        "priority zero",
        "{preferred: 100, backup: 50}",
        "{preferred: 100, backup: 0}",
        0,
        ["keepalived.priorities.backup"],
    ),
    (
        "PASS password too long",
        "auth_type: PASS\n",
        "auth_type: PASS\n  auth_pass: secretpassphrase\n",
        1,
        ["keepalived.auth_pass", "16 characters", "keeps only the first 8"],
    ),
    (
        "wrong type",
        "advert_int: 1\n",
        "advert_int: fast\n",
        0,
        ["keepalived.advert_int", "'fast'", "valid number"],
    ),
]


@pytest.mark.parametrize(("what", "old", "new", "offset", "words"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_blueprint_is_one_clear_line(blueprint_copy, what, old, new, offset, words):
    folder = blueprint_copy("keepalived-rr")
    yaml_file = folder / "blueprint.yaml"
    text = yaml_file.read_text()
    assert old in text, f"test data out of date: {old!r} not in the blueprint"
    line = None if offset is None else text[: text.index(old)].count("\n") + 1 + offset
    yaml_file.write_text(text.replace(old, new, 1))
    with pytest.raises(LabgenError) as caught:
        load_blueprint(str(folder))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(yaml_file) + (f":{line}:" if line else ":")), message
    for word in words:
        assert word in message, f"{word!r} missing from: {message}"


SETS = [
    (
        ["keepalived.advert_intt=2"],
        ["--set keepalived.advert_intt=2", "unknown key", "did you mean 'advert_int'"],
    ),
    (["keepalived.advert_int=abc"], ["--set keepalived.advert_int=abc", "'abc'", "valid number"]),
    (
        ["keepalived.virtual_router_id=256"],
        ["--set keepalived.virtual_router_id=256", "less than or equal to 255"],
    ),
    (["keepalived.auth_pass=123456789"], ["--set keepalived.auth_pass=123456789", "keeps only the first 8"]),
    (["heartbeat.deadtime=3"], ["--set heartbeat.deadtime=3", "'heartbeat' is not used by this blueprint"]),
    (["nodes.lb9.page=x"], ["no entry named 'lb9'", "lb0, lb1"]),
    (["vip=198.51.100.1"], ["--set vip=198.51.100.1", "not a host address of the public network"]),
    (["novalue"], ["--set novalue: use KEY=VALUE"]),
    (["keepalived.vrrp_version=3"], ["--set keepalived.vrrp_version=3", "VRRPv3 has no authentication"]),
]


@pytest.mark.parametrize(("sets", "words"), SETS, ids=[s[0][0] for s in SETS])
def test_bad_set_is_one_clear_line(sets, words):
    with pytest.raises(LabgenError) as caught:
        load_blueprint("keepalived-rr", sets)
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message, f"{word!r} missing from: {message}"


def test_unknown_blueprint_lists_the_known_ones():
    with pytest.raises(LabgenError, match="known blueprints: heartbeat-nginx, keepalived-rr"):
        load_blueprint("keepalived-xx")


def test_sub_second_vrrpv3_variant_is_accepted():
    bp, _ = load_blueprint(
        "keepalived-rr",
        ["keepalived.vrrp_version=3", "keepalived.auth_type=none", "keepalived.advert_int=0.1"],
    )
    assert bp.keepalived.advert_int == 0.1


def test_sets_reach_nested_and_named_entries():
    bp, _ = load_blueprint(
        "heartbeat-nginx", ["heartbeat.keepalive=200ms", "heartbeat.deadtime=1", "nodes.lb1.page=B"]
    )
    assert (bp.heartbeat.keepalive, bp.heartbeat.deadtime, bp.nodes[1].page) == ("200ms", "1", "B")
