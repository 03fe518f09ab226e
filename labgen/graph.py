"""The lab's topology as a picture: nodes, their NICs, the networks with addresses, the VIP, the
client seat. Laid out by Graphviz's `dot` (the Debian `graphviz` package) through the `graphviz`
binding, so nothing is hand-placed and every label is escaped by the library.

Networks are drawn as boxes of their own (a network is a shared segment, not an edge), each node is a
record with one row per NIC, and the VIP is a dashed box on its network, with an edge to whoever
holds it now when that is known (a running lab), else to the preferred node ("normally").
"""

from __future__ import annotations

import subprocess

import graphviz

from labgen.errors import LabgenError
from labgen.lab import LabSpec

FORMATS = ("svg", "png", "dot")
MGMT_NOTE = "eth0: Vagrant's management network (DHCP, ssh)"


def topology(spec: LabSpec, holders: list[str] | None = None) -> graphviz.Graph:
    """The drawing of spec; holders: who has the VIP now (None: not running, draw the preferred)."""
    g = graphviz.Graph(spec.name, engine="dot")
    g.attr(rankdir="TB", label=_text(f"{spec.name}: {spec.title}"), labelloc="t", fontname="Helvetica",
           fontsize="14", nodesep="0.6", ranksep="0.9")
    g.attr("node", fontname="Helvetica", fontsize="11")
    g.attr("edge", fontname="Helvetica", fontsize="10")
    _networks(g, spec)
    _nodes(g, spec)
    _vip(g, spec, holders)
    _client(g, spec)
    return g


def _networks(g: graphviz.Graph, spec: LabSpec) -> None:
    for net in spec.networks.values():
        g.node(f"net-{net.name}", _text(f"{net.name} network", net.cidr), shape="box", style="rounded,filled",
               fillcolor="#dbeafe", color="#1d4ed8", width="3")


def _nodes(g: graphviz.Graph, spec: LabSpec) -> None:
    with g.subgraph(name="nodes") as same:
        same.attr(rank="same")
        for node in spec.nodes:
            nics = "".join(
                f'<tr><td port="{net.name}" align="left">{net.interface}: {_html(node.addresses[net.name])}'
                f"/{net.cidr.split('/')[1]}</td></tr>"
                for net in sorted(spec.networks.values(), key=lambda n: n.interface)
                if net.name in node.addresses
            )
            label = (
                '<<table border="0" cellborder="1" cellspacing="0" cellpadding="4">'
                f'<tr><td bgcolor="#fef3c7"><b>{_html(node.name)}</b> ({_html(node.hostname)}, '
                f"{node.role})</td></tr>"
                f'<tr><td align="left"><font point-size="9">{_html(MGMT_NOTE)}</font></td></tr>'
                f"{nics}</table>>"
            )
            same.node(f"n-{node.name}", label, shape="plain")
    for node in spec.nodes:
        for name in node.addresses:
            g.edge(f"n-{node.name}:{name}", f"net-{name}")


def _vip(g: graphviz.Graph, spec: LabSpec, holders: list[str] | None) -> None:
    net = spec.networks[spec.vip_network]
    g.node("vip", _text(f"VIP {spec.vip}", f"(floating, on {net.interface})"), shape="box",
           style="dashed,bold", color="#b91c1c", fontcolor="#b91c1c")
    g.edge("vip", f"net-{net.name}", style="dashed", color="#b91c1c")
    if holders is None:
        targets, label = [spec.preferred.name], "normally held by"
    else:
        targets, label = holders, "held now by" if len(holders) == 1 else "SPLIT BRAIN: held by"
    if not targets:
        g.node("vip-none", "nobody holds the VIP now", shape="plaintext", fontcolor="#b91c1c")
        g.edge("vip", "vip-none", style="dotted", color="#b91c1c")
    for node in targets:
        g.edge("vip", f"n-{node}", label=label, style="dashed", color="#b91c1c",
               fontcolor="#b91c1c", constraint="false")


def _client(g: graphviz.Graph, spec: LabSpec) -> None:
    net = spec.networks[spec.vip_network]
    addresses = ", ".join(spec.client)
    g.node("client", _text("client seat (your computer)", addresses), shape="box", style="filled",
           fillcolor="#dcfce7", color="#15803d")
    g.edge("client", f"net-{net.name}", color="#15803d")


def _text(*lines: str) -> str:
    """A plain label of one or more lines; blueprint text is data: its backslashes, newlines and
    quotes never reach dot as syntax (graphviz.escape, then the binding's own quoting), and dot
    does not decode its entities (&amp; stays &amp;)."""
    return "\\n".join(graphviz.escape(" ".join(line.replace("&", "&amp;").split())) for line in lines)


def _html(text: str) -> str:
    """Text inside a Graphviz HTML-like label: &, <, > and quotes escaped, on one line."""
    text = " ".join(text.split())
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def draw(spec: LabSpec, fmt: str = "svg", holders: list[str] | None = None) -> bytes:
    """The picture as bytes in fmt (svg, png, or dot: the Graphviz source)."""
    if fmt not in FORMATS:
        raise LabgenError(f"--format {fmt}: use one of {', '.join(FORMATS)}")
    g = topology(spec, holders)
    if fmt == "dot":
        return g.source.encode()
    try:
        return g.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise LabgenError("Graphviz's dot is missing: apt-get install graphviz") from None
    except (graphviz.CalledProcessError, subprocess.CalledProcessError) as exc:
        raise LabgenError(f"dot failed drawing lab {spec.name!r}: {exc}") from None
