"""Both blueprints as real container labs, through the CLI a user types: up, verify, failover with
figures checked against the protocols, deliberately broken labs caught by the suite, down."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from labgen.observe import wait_settled
from tests.browser import browser, click, serving, wait_for, wait_text
from tests.labs import NSPAWN, VipPoll, lab_fixture, labgen, ok
from tests.terminal import Terminal

pytestmark = NSPAWN
NO_IP_VS = not Path("/proc/net/ip_vs").exists()

keepalived = lab_fixture("keepalived-rr", "t-kars")
heartbeat = lab_fixture("heartbeat-nginx", "t-hbng")
keepalived_fast = lab_fixture(
    "keepalived-rr",
    "t-kafast",
    sets=["keepalived.vrrp_version=3", "keepalived.auth_type=none", "keepalived.advert_int=0.1"],
)
heartbeat_fast = lab_fixture(
    "heartbeat-nginx", "t-hbfast", sets=["heartbeat.keepalive=200ms", "heartbeat.deadtime=1"]
)


def status(lab) -> dict:
    return json.loads(ok("status", lab.name, "--json"))


# ---- keepalived-rr ------------------------------------------------------------------------


def test_keepalived_up_ends_with_vip_on_lb0_and_http_from_the_client(keepalived):
    assert status(keepalived)["vip_holders"] == ["lb0"]
    page = keepalived.exec("client", "curl -s --max-time 3 http://203.0.113.10/")
    assert page.strip() == "Welcome to WebServer 1"


def test_graph_of_a_running_lab_draws_who_holds_the_vip_now(keepalived):
    dot = ok("graph", keepalived.name, "--format", "dot")
    assert re.search(r'^\s*vip -- "n-lb0" \[.*label="held now by"', dot, re.M), dot
    assert "normally held by" not in dot


def assert_up_timing(lab) -> None:
    """up records where its time went: the machines' part, then the protocol's first election,
    which cannot beat the protocol's own delay by more than the provisioners' skew."""
    timing = status(lab)["up_timing"]
    assert timing["ready_s"] + timing["election_s"] == pytest.approx(timing["total_s"], abs=0.02)
    expected = timing["election_expected_s"]
    assert expected - 1 <= timing["election_s"] <= expected + 5, timing


def test_keepalived_up_records_ready_then_the_vrrp_election(keepalived):
    assert_up_timing(keepalived)


def test_heartbeat_up_records_ready_then_its_resource_request_delay(heartbeat):
    assert_up_timing(heartbeat)


def test_keepalived_up_again_changes_nothing(keepalived):
    assert "already up" in ok("up", "keepalived-rr", "--provider", "nspawn", "--name", keepalived.name)


def test_exec_reads_stdin_only_when_asked(keepalived):
    copy = ["exec", keepalived.name, "lb1", "--", "sh", "-c", "cat > /root/stdin.txt; cat /root/stdin.txt"]
    assert ok(*copy[:1], "-i", *copy[1:], input="page\n") == "page\n"
    assert ok(*copy, input="ignored\n") == ""
    assert ok("exec", "-i", keepalived.name, "client", "--", "cat", input="seat\n") == "seat\n"


@pytest.mark.skipif(not NO_IP_VS, reason="this host has ip_vs: LVS runs in the containers")
def test_lvs_skip_is_stated_in_status_and_verify(keepalived, tmp_path):
    assert "no ip_vs" in status(keepalived)["skipped"][0]["reason"]
    result = keepalived.verify("-k", "lvs")
    assert "LVS check skipped: this host's kernel has no ip_vs" in result.stdout


def test_keepalived_verify_passes(keepalived, tmp_path):
    """As a checklist: a line per claim, in the order their last tests finished (the configuration's
    before the failover's), then the counts; pytest's log in a file."""
    result = keepalived.verify("--junit", str(tmp_path / "junit.xml"))
    assert result.returncode == 0, result.stdout[-4000:]
    assert "testcase" in (tmp_path / "junit.xml").read_text()
    claims = [line for line in result.stdout.splitlines() if line.startswith(("✓ passed", "~ not proven"))]
    assert len(claims) == len(json.loads(ok("show", "keepalived-rr", "--json"))["claims"]), result.stdout
    order = [line.rpartition("(")[2].rstrip(")") for line in claims]
    assert order.index("unique-hostnames") < order.index("slave-takes-over"), order
    log = re.search(r"the pytest log: (\S+)", result.stdout).group(1)
    assert "PASSED" in Path(log).read_text() and "PASSED" not in result.stdout, result.stdout[-2000:]


def test_keepalived_crash_fails_over_after_the_vrrp_master_down_interval(keepalived):
    report = keepalived.failover("crash")
    # 3 x 1 s + (256-50)/256 s = 3.805 s after the last advert, which came up to 1 s before the crash
    assert report.moved_within(2600, 4400), report
    assert report.vip_after == "lb1" and report.failback_ms is not None
    assert report.probe_interval_ms <= 50 and report.requests_sent > 40


def test_keepalived_clean_stop_fails_over_in_about_a_second(keepalived):
    report = keepalived.failover("stop")
    assert report.moved_within(0, 1500), report


def test_watch_in_a_terminal_injects_a_fault_by_key_and_shows_the_move(keepalived):
    """labgen watch in a pseudo-terminal, as on a projector: s stops keepalived on the VIP holder,
    the view shows the fault and the move; u undoes it and the VIP comes back; q quits, nothing
    stays."""
    with Terminal([sys.executable, "-m", "labgen", "watch", keepalived.name]) as term:
        term.wait_until(lambda text: "points to lb0" in text, "the VIP on lb0 in the view")
        term.press("s")
        term.wait_until(
            lambda text: "stop injected on lb0" in text and "points to lb1" in text,
            "the stop on lb0 and the VIP's move to lb1",
        )
        term.press("u")
        undone = "stop undone on lb0 (its command"
        term.wait_until(
            lambda text: undone in text and "points to lb0" in text.rsplit(undone, 1)[1],
            "the stop undone and the VIP back on lb0",
        )
        term.press("q")
        assert term.exit_code(timeout=30) == 0, term.text()[-2000:]
    assert status(keepalived)["units"]["lb0"]["keepalived"] == "active"


def test_failover_watch_shows_the_measurement_live_then_its_report(keepalived):
    with Terminal(
        [sys.executable, "-m", "labgen", "failover", keepalived.name, "--fault", "stop", "--watch"]
    ) as term:
        assert term.exit_code(timeout=120) == 0, term.text()[-3000:]
        shown = term.text()
    live, _, report = shown.partition("stop on lb0: VIP lb0 → lb1")
    assert "stop injected on lb0" in live and "points to lb1" in live, shown[-3000:]
    assert "VIP moved after" in report and "requests failed" in report, shown[-3000:]


def test_serve_shows_the_class_and_a_failover_in_a_real_browser(keepalived, tmp_path):
    """labgen serve in headless Chromium: the board lists the lab up with its VIP on lb0; the lab's
    page, logged in as the teacher, stops keepalived on lb0 by its button, and shows the VIP on lb1
    within 2 s of the VIP reaching lb1 (seen there by a poll of its own, against which the page's
    lateness is counted from the poll before: an upper bound); undo brings it back."""
    provider = keepalived.provider()
    with serving() as served, browser(tmp_path / "chromium") as page:
        page.get(served.teacher)  # logs in, then the board
        row = f"#labs tr[data-lab='{keepalived.name}']"
        wait_text(page, f"{row} td.holder", "lb0", timeout=30)
        assert page.find_element(By.ID, "role").text == "teacher"
        page.get(f"{served.base}/labs/{keepalived.name}")
        wait_text(page, "#holder", "lb0", timeout=30)
        moved = VipPoll(provider, "lb1")
        click(page, "button[data-fault='stop']")
        wait_text(page, "#holder", "lb1", timeout=30)
        shown_at = int(page.find_element(By.ID, "holder").get_attribute("data-changed-at")) / 1000
        not_before, seen_at = moved.result(timeout=10)
        assert not_before - 0.05 <= shown_at <= not_before + 2.0, (
            f"the page showed lb1 {shown_at - not_before:+.2f} s after the last look that did not "
            f"find the VIP on lb1 (found {seen_at - not_before:.2f} s after it)"
        )
        wait_text(page, "#timeline", "stop injected on lb0", timeout=30, within=True)
        if folder := os.environ.get("LABGEN_SCREENSHOTS"):  # docs/images, for docs/workshop.md
            wait_for(page, "#topology", lambda img: img.get_attribute("src").endswith("holders=lb1")
                     and img.get_property("complete"), "the VIP drawn on lb1", timeout=30)
            page.save_screenshot(f"{folder}/serve-lab.png")
        wait_text(page, "#notice", "stop on lb0: undo it before the next fault", timeout=10)
        click(page, "#undo")
        wait_text(page, "#holder", "lb0", timeout=60)
        wait_text(page, "#timeline", "stop undone on lb0", timeout=30, within=True)
        if folder:
            page.get(served.base)
            wait_text(page, f"{row} td.holder", "lb0", timeout=30)
            page.save_screenshot(f"{folder}/serve-board.png")
    wait_settled(provider, on="lb0", hold=0)


def test_capture_shows_the_masters_adverts_as_text_and_as_pcap(keepalived, tmp_path):
    text = ok("capture", keepalived.name, "lb1", "--on", "public", "-c", "2", "vrrp")
    adverts = [line for line in text.splitlines() if "VRRPv2, Advertisement" in line]
    assert len(adverts) == 2 and all("203.0.113.11 > 224.0.0.18" in a and "prio 100" in a for a in adverts), (
        text
    )
    pcap = tmp_path / "adverts.pcap"
    ok("capture", keepalived.name, "lb1", "--on", "public", "-c", "3", "-w", str(pcap), "vrrp")
    data = pcap.read_bytes()
    assert data[:4] in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1"), data[:24]
    assert len(data) >= 24 + 3 * (16 + 40), f"3 adverts need more than {len(data)} bytes"
    assert "VRRPv2" in ok("capture", keepalived.name, "lb0", "--on", "public", "--for", "2.5", "vrrp")


def test_impair_on_containers_works_or_says_the_host_kernel_lacks_netem(keepalived):
    """Containers share the host's kernel: with netem the delay shows in the client's pings, without
    it impair says so in one line (and doctor had said so: nspawn's features)."""
    netem = json.loads(ok("doctor", "--json"))["nspawn"]["features"]["netem"]
    done = labgen("impair", keepalived.name, "lb1", "public", "--delay", "200ms")
    if not netem:
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        assert "no netem (sch_netem): containers share the host's" in done.stderr, done.stderr
        return
    try:
        assert done.returncode == 0, done.stderr
        pings = ok("exec", keepalived.name, "client", "--", "ping", "-n", "-c", "2", "-W", "3",
                   "203.0.113.12")
        assert float(pings.split(" = ")[-1].split("/")[0]) >= 190, pings
    finally:
        ok("impair", keepalived.name, "lb1", "public", "--clear")


def test_watch_into_a_pipe_prints_each_moment_as_a_line(keepalived):
    out = ok("watch", keepalived.name, "--for", "3")
    assert out.startswith(f"watching {keepalived.name}: VIP ") and "points to lb0" in out, out
    assert re.search(r"last 5 s: \d+\.\d requests/s served, 0\.0 failed", out), out


def test_broken_vrrp_password_is_caught_by_the_suite(keepalived):
    conf = "/etc/keepalived/keepalived.conf"
    keepalived.exec("lb1", f"cp {conf} /root/conf.good && sed -i 's/auth_pass .*/auth_pass wrong1/' {conf}")
    keepalived.exec("lb1", "systemctl restart keepalived")
    try:
        result = keepalived.verify("-k", "share_the_vrrp_password")
        assert result.returncode != 0
        assert "the nodes run with different auth_pass" in result.stdout
    finally:
        keepalived.exec("lb1", f"cp /root/conf.good {conf} && systemctl restart keepalived")


def test_vrrpv3_at_100_ms_fails_over_in_well_under_a_second(keepalived_fast):
    report = keepalived_fast.failover("crash")
    # 3 x 0.1 s + (256-50)/256 x 0.1 s = 0.38 s
    assert report.moved_within(0, 900), report


# ---- heartbeat-nginx ----------------------------------------------------------------------


def test_heartbeat_up_ends_with_vip_on_lb0_and_http_from_the_client(heartbeat):
    assert status(heartbeat)["vip_holders"] == ["lb0"]
    assert heartbeat.exec("client", "curl -s --max-time 3 http://198.51.100.10/").strip() == "Hello from lb0"


def test_heartbeat_verify_passes(heartbeat):
    result = heartbeat.verify()
    assert result.returncode == 0, result.stdout[-4000:]


def test_heartbeat_crash_fails_over_after_deadtime(heartbeat):
    report = heartbeat.failover("crash")
    assert report.moved_within(4000, 8000), report  # deadtime 5 s
    # the crashed node's stale IP is dropped before heartbeat starts again, so its gratuitous ARP
    # turns the client back at once (without it: about 50 s of failed requests)
    assert report.failback_ms is not None and report.failback_ms < 15000, report


def test_authkeys_mode_644_is_caught(heartbeat):
    heartbeat.exec("lb1", "chmod 644 /etc/ha.d/authkeys")
    try:
        result = heartbeat.verify("-k", "authkeys_is_private")
        assert result.returncode != 0 and "mode 644" in result.stdout
    finally:
        heartbeat.exec("lb1", "chmod 600 /etc/ha.d/authkeys")


def test_nginx_not_on_the_vip_is_caught(heartbeat):
    site = "/etc/nginx/sites-enabled/failovertest"
    heartbeat.exec("lb0", f"cp {site} /root/site.good && sed -i 's/listen .*;/listen 8080;/' {site}")
    try:
        result = heartbeat.verify("-k", "nginx_site_listens_on_the_vip")
        assert result.returncode != 0 and "listen 198.51.100.10:80;" in result.stdout
    finally:
        heartbeat.exec("lb0", f"cp /root/site.good {site}")


def test_heartbeat_at_200_ms_fails_over_in_about_a_second(heartbeat_fast):
    report = heartbeat_fast.failover("crash")
    assert report.moved_within(0, 2500), report  # deadtime 1 s


def test_unknown_lab_verify_is_one_line():
    result = labgen("verify", "no-such-lab")
    assert result.returncode != 0 and "no lab named 'no-such-lab'" in result.stderr
