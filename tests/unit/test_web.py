"""labgen serve's guards, without a lab: who may change a lab, from where, under which Host, and
what a bad --listen says. (The pages with a real lab and a real browser: tests/integration.)"""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from labgen.cli.serve import _parse_listen
from labgen.errors import LabgenError
from labgen.web.app import HEADERS, Server, create_app
from tests.labs import labgen

TOKEN = "the-teachers-token"


@pytest.fixture
def client():
    with TestClient(create_app(Server(TOKEN), ["testserver"]), follow_redirects=False) as client:
        yield client


def test_anyone_reads_nobody_changes_without_the_token(client):
    assert client.get("/api/me").json() == {"teacher": False}
    assert client.get("/").status_code == 200 and "the class" in client.get("/").text
    for path in ("/api/labs/t-x/undo", "/api/labs/t-x/fault/stop", "/api/labs/t-x/reset"):
        refused = client.post(path)
        assert refused.status_code == 403, (path, refused.status_code)
        assert "teacher's token" in refused.json()["error"]
    assert client.post("/api/labs/t-x/undo", headers={"Authorization": "Bearer wrong"}).status_code == 403


TEACHER = {"Authorization": f"Bearer {TOKEN}"}


def test_the_token_is_never_a_cookie_and_the_teachers_page_gets_a_viewer_pass(client):
    """A browser sends a cookie to every port of the host (a student's server on another port
    too): /login is a page that keeps the token in its tab, and sets no cookie."""
    login = client.get("/login", params={"token": TOKEN})
    assert login.status_code == 200 and "set-cookie" not in login.headers and "sessionStorage" in (
        client.get("/static/labgen.js").text)
    assert client.get("/api/me").json() == {"teacher": False}
    me = client.get("/api/me", headers=TEACHER).json()
    assert me["teacher"] is True and len(me["pass"]) > 16 and me["pass"] != TOKEN, me


def test_the_teacher_is_told_in_one_line_what_is_wrong(client):
    missing = client.post("/api/labs/t-nolab/undo", headers=TEACHER)
    assert missing.status_code == 404 and missing.json()["error"].startswith("no lab named 't-nolab'")
    bad_name = client.post("/api/labs/..%2fetc/undo", headers=TEACHER)
    assert bad_name.status_code in (400, 404), bad_name.text


def test_another_sites_page_may_not_change_a_lab(client):
    refused = client.post("/api/labs/t-x/undo", headers={**TEACHER, "Origin": "http://evil.example"})
    assert refused.status_code == 403 and "evil.example" in refused.json()["error"]


def test_a_host_header_not_ours_is_refused_against_dns_rebinding(client):
    assert client.get("/api/me", headers={"Host": "evil.example"}).status_code == 400


def test_every_answer_carries_the_security_headers(client):
    for path in ("/", "/static/labgen.js", "/api/me", "/api/board"):
        headers = client.get(path).headers
        assert all(headers.get(name) == value for name, value in HEADERS.items()), (path, headers)


def test_the_board_of_a_host_without_labs_is_empty(client):
    assert client.get("/api/board").json()["rows"] == []


@pytest.mark.parametrize(
    ("given", "wanted"),
    [
        ("127.0.0.1:8765", ("127.0.0.1", 8765)),
        ("0.0.0.0", ("0.0.0.0", 8765)),
        (":0", ("127.0.0.1", 0)),
        ("[::1]:9000", ("::1", 9000)),
        ("::", ("::", 8765)),
    ],
)
def test_listen_takes_an_address_and_a_port(given, wanted):
    assert _parse_listen(given) == wanted


@pytest.mark.parametrize("given", ["localhost:80", "127.0.0.1:70000", "127.0.0.1:http", "[::1", "1.2.3:4"])
def test_listen_refuses_anything_else(given):
    with pytest.raises(LabgenError, match="ADDRESS"):
        _parse_listen(given)


def test_a_bad_listen_is_one_line():
    result = labgen("serve", "--listen", "nowhere:1")
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "--listen nowhere:1" in result.stderr
