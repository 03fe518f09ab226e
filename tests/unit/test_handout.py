"""The handout a rendered lab carries: topology.svg names every address and the VIP, README.md's
commands parse (labgen lines with the real CLI, every shell block with bash -n), the drawing shows in a
real browser, and the quick-start scripts re-run themselves through sudo only when not root."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from labgen.lab import Lab
from tests.conftest import BLUEPRINTS
from tests.labs import labgen, ok
from tests.unit.test_docs import COMMAND, check_values, code_lines, parse, synopsis_variants

ROOT = Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module", params=BLUEPRINTS)
def rendered(request, tmp_path_factory) -> Lab:
    out = tmp_path_factory.mktemp("handout") / request.param
    ok("render", request.param, "-o", str(out))
    return Lab(out)


def svg_texts(path: Path) -> list[str]:
    """Every text the drawing shows, each <text> element whole (addresses are never split)."""
    root = ET.parse(path).getroot()
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def test_svg_names_every_address_the_vip_and_the_client(rendered: Lab) -> None:
    spec = rendered.spec
    texts = svg_texts(rendered.path / "topology.svg")
    shown = "\n".join(texts)
    wanted = [spec.vip, *spec.client]
    wanted += [net.cidr for net in spec.networks.values()]
    wanted += [address for node in spec.nodes for address in node.addresses.values()]
    for value in wanted:
        assert re.search(rf"(?<![\d.]){re.escape(value)}(?![\d])", shown), f"{value} not drawn: {texts}"
    for node in spec.nodes:
        assert node.name in shown and node.hostname in shown
    assert any(t.startswith(f"VIP {spec.vip}") for t in texts)


def test_graph_cli_formats_and_bad_format(tmp_path: Path) -> None:
    ok("graph", "keepalived-rr", "-o", str(tmp_path / "t.png"), "--format", "png")
    assert (tmp_path / "t.png").read_bytes().startswith(b"\x89PNG")
    dot = ok("graph", "heartbeat-nginx", "--format", "dot")
    assert dot.startswith('graph "heartbeat-nginx"') and "198.51.100.10" in dot
    bad = labgen("graph", "keepalived-rr", "--format", "gif")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr


@pytest.mark.parametrize(
    ("holders", "says"),
    [(None, "normally held by"), (["lb1"], "held now by"), ([], "nobody holds"), (["lb0", "lb1"], "SPLIT")],
)
def test_graph_draws_who_holds_the_vip(rendered: Lab, holders, says) -> None:
    from labgen import graph

    dot = graph.draw(rendered.spec, "dot", holders).decode()
    assert says in dot
    drawn = set(re.findall(r'^\s*vip -- "n-(\w+)"', dot, re.M))
    assert drawn == set(holders if holders is not None else [rendered.spec.preferred.name])


@pytest.mark.parametrize(
    "argv",
    [["graph", "no-such-blueprint"], ["graph", "keepalived-rr", "-o", "/nonexistent/x.svg"],
     ["box", "export", "-o", "/tmp"]],
)
def test_handout_commands_refuse_bad_input_in_one_line(argv) -> None:
    done = labgen(*argv)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr


def readme_blocks(text: str) -> list[str]:
    """The body of every ```sh block."""
    return re.findall(r"^\s*```sh\n(.*?)^\s*```", text, re.M | re.S)


def test_readme_commands_parse(rendered: Lab) -> None:
    text = (rendered.path / "README.md").read_text()
    blocks = readme_blocks(text)
    assert len(blocks) >= 3, "README.md lost its command blocks"
    for block in blocks:
        done = subprocess.run(["bash", "-n"], input=block, capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"bash -n:\n{block}\n{done.stderr}"
    commands = [line for _, line in code_lines(text) if COMMAND.match(line)]
    assert len(commands) >= 4
    for line in commands:
        for argv in synopsis_variants(COMMAND.match(line).group("args") or ""):
            command, params = parse(argv)
            check_values(f"{rendered.path}/README.md", command, params)
    nodes = {node.name for node in rendered.spec.nodes}
    for node in re.findall(r"^\s*vagrant ssh (\S+)", text, re.M):
        assert node in nodes, f"README: vagrant ssh {node}: the lab has {nodes}"


def test_readme_says_what_the_lab_is(rendered: Lab) -> None:
    text = (rendered.path / "README.md").read_text()
    spec = rendered.spec
    assert "![The lab's topology](topology.svg)" in text
    for departure in spec.departures:
        assert " ".join(departure.what.split()) in text
    for node in spec.nodes:
        for address in node.addresses.values():
            assert f" {address} |" in text
    assert "vagrant up\n" in text and "vagrant destroy -f" in text and "pytest tests" in text
    has_claims = bool(getattr(spec, "claims", None))
    assert ("### The tutorial's claims" in text) == has_claims  # never made up


def test_topology_in_a_real_browser(rendered: Lab, tmp_path: Path) -> None:
    """Headless Chromium draws the SVG: a screenshot with the drawing's colours in it."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (scripts/install installs it)")
    shot = tmp_path / "topology.png"
    argv = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars", "--window-size=1300,500",
        f"--screenshot={shot}", (rendered.path / "topology.svg").as_uri(),
    ]
    subprocess.run(argv, capture_output=True, timeout=120, check=False)
    assert shot.is_file() and shot.read_bytes().startswith(b"\x89PNG"), "no screenshot"
    keep = os.environ.get("LABGEN_SCREENSHOTS")
    if keep:  # for a person to look at: LABGEN_SCREENSHOTS=DIR pytest -k browser
        shutil.copy(shot, Path(keep) / f"{rendered.spec.blueprint}-topology.png")
    colours = _colours(shot)
    for colour in ((0xDB, 0xEA, 0xFE), (0xFE, 0xF3, 0xC7), (0xDC, 0xFC, 0xE7)):  # networks, nodes, client
        assert colour in colours, f"{colour} not on the screenshot: the SVG did not render"


def _colours(png: Path) -> set[tuple[int, int, int]]:
    """The distinct RGB colours of an 8-bit RGB(A) PNG (the standard library has no PNG reader)."""
    import struct
    import zlib

    data = png.read_bytes()
    pos, chunks = 8, {}
    idat = b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            chunks["ihdr"] = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, ctype = chunks["ihdr"][:4]
    assert depth == 8 and ctype in (2, 6), f"unexpected PNG format {depth}/{ctype}"
    channels = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    found: set[tuple[int, int, int]] = set()
    for y in range(height):
        row_start = y * (stride + 1)
        line = bytearray(raw[row_start + 1 : row_start + 1 + stride])
        _unfilter(raw[row_start], line, previous, channels)
        for x in range(0, stride, channels * 4):  # every 4th pixel is plenty for fills
            found.add((line[x], line[x + 1], line[x + 2]))
        previous = line
    return found


def _unfilter(kind: int, line: bytearray, prev: bytearray, bpp: int) -> None:
    for i in range(len(line)):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if kind == 1:
            line[i] = (line[i] + a) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + b) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (a + b) // 2) & 0xFF
        elif kind == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF


def test_scripts_rerun_through_sudo_only_when_not_root() -> None:
    """scripts/as-root: as root nothing happens; as anyone else the script starts again via sudo."""
    folder = Path(tempfile.mkdtemp(prefix="labgen-as-root-", dir="/var/tmp"))
    try:
        folder.chmod(0o755)  # the unprivileged run must read it
        _as_root_cases(folder)
    finally:
        shutil.rmtree(folder)


def _as_root_cases(folder: Path) -> None:
    (folder / "bin").mkdir()
    (folder / "bin" / "sudo").write_text('#!/bin/sh\necho "sudo $*"\n')
    shutil.copy(ROOT / "scripts" / "as-root", folder / "as-root")
    script = folder / "demo"
    script.write_text('#!/bin/bash\nset -euo pipefail\n. "$(dirname "$0")/as-root"\necho "ran as $(id -u)"\n')
    for path in (script, folder / "bin" / "sudo", folder / "as-root"):
        path.chmod(0o755)
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]

    def run(argv: list[str], path: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, capture_output=True, text=True, env={"PATH": path}, check=False)

    assert run([str(script), "a b"], f"{folder}/bin:/usr/bin:/bin").stdout == "ran as 0\n"
    as_user = run([*nobody, str(script), "a b"], f"{folder}/bin:/usr/bin:/bin")
    assert as_user.stdout == f"sudo -- {script} a b\n", as_user.stderr
    bare = folder / "no-sudo"  # a PATH without sudo, as on a fresh root-only Debian
    bare.mkdir()
    for tool in ("id", "dirname"):
        (bare / tool).symlink_to(shutil.which(tool))
    no_sudo = run(["/usr/bin/setpriv", *nobody[1:], str(script)], str(bare))
    assert no_sudo.returncode == 1 and "needs root" in no_sudo.stderr, no_sudo.stderr


HOSTILE = "x\nputs 'ruby ran'; system('touch /tmp/labgen-pwned')\n#{`touch /tmp/labgen-pwned`}'\"<b>&amp;\\"


def test_hostile_title_stays_text_in_the_handout(tmp_path: Path) -> None:
    """Blueprint text with newlines, quotes, tags, entities and a final backslash: the drawing still
    renders and shows it verbatim on one line, the README shows it without HTML."""
    as_yaml = '"' + HOSTILE.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    ok("render", "keepalived-rr", "-o", str(tmp_path / "lab"), "--set", f"title={as_yaml}",
       "--set", f"source.publisher={as_yaml}")
    texts = svg_texts(tmp_path / "lab" / "topology.svg")
    assert f"keepalived-rr: {' '.join(HOSTILE.split())}" in texts, texts[:2]
    readme = (tmp_path / "lab" / "README.md").read_text()
    first = readme.splitlines()[0]
    assert not re.search(r"(?<!\\)<[A-Za-z/!?]|(?<!\\)&#?\w+;", first), first  # no tag, no entity
    assert "\\<b>\\&amp;" in first and first.endswith("\\\\"), first  # escaped, shown as written


def test_the_readme_keeps_ordinary_text_as_written(tmp_path: Path) -> None:
    """`&` and `->` read as they are in the raw file, not as &amp; and -&gt;."""
    ok("render", "keepalived-rr", "-o", str(tmp_path / "lab"))
    readme = (tmp_path / "lab" / "README.md").read_text()
    assert "Cloud Failover & High Availability Solution" in readme
    assert "router_id LVS_MASTER -> router_id LVS_SLAVE" in readme
    assert "&amp;" not in readme and "&gt;" not in readme
