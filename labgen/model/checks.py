"""Rules that span fields (addresses in their networks, unique names); each names its field."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from ipaddress import IPv4Address

from labgen import protocols
from labgen.boxes.releases import unknown
from labgen.model.blueprint import Blueprint
from labgen.protocols.base import Loc


def problems(bp: Blueprint) -> Iterator[tuple[Loc, str]]:
    """Every cross-field problem as (location in the YAML, message); empty when all is well."""
    yield from _names(bp)
    yield from _roles(bp)
    yield from _network_refs(bp)
    yield from _addresses(bp)
    yield from _unique_addresses(bp)
    yield from _interfaces(bp)
    yield from _protocol_on_vip_network(bp)
    yield from _hostnames_are_node_names(bp)
    yield from protocols.of(bp).checks(bp)
    yield from _page_in_web_root(bp)
    yield from _claim_ids(bp)
    yield from _known_boxes(bp)


def _known_boxes(bp: Blueprint) -> Iterator[tuple[Loc, str]]:
    boxes = [(("box",), bp.box)] + [(("nodes", i, "box"), n.box) for i, n in enumerate(bp.nodes) if n.box]
    for loc, box in boxes:
        if problem := unknown(box):
            yield loc, problem


def _names(bp: Blueprint) -> Iterator[tuple[Loc, str]]:
    for i in _repeated([node.name for node in bp.nodes]):
        yield ("nodes", i, "name"), f"duplicate node name {bp.nodes[i].name!r}; names must be unique"


def _repeated(values: list[str]) -> Iterator[int]:
    """The index of every value seen before it."""
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            yield i
        seen.add(value)


def _roles(bp: Blueprint) -> Iterator[tuple[Loc, str]]:
    roles = Counter(node.role for node in bp.nodes)
    if roles["preferred"] != 1:
        yield ("nodes",), "exactly one node must have role preferred and the other role backup"


def _network_refs(bp: Blueprint) -> Iterator[tuple[Loc, str]]:
    refs: list[tuple[Loc, str]] = [(("vip_network",), bp.vip_network)]
    for field in protocols.of(bp).network_fields:
        refs.append(((bp.service, field), getattr(bp.protocol_params, field)))
    known = ", ".join(bp.networks)
    for loc, name in refs:
        if name not in bp.networks:
            yield loc, f"unknown network {name!r}; the blueprint's networks are: {known}"


def _addresses(bp: Blueprint) -> Iterator[tuple[Loc, str]]:
    yield from _inside(("vip",), bp.vip, bp, bp.vip_network)
    for i, address in enumerate(bp.client):
        yield from _inside(("client", i), address, bp, bp.vip_network)
    for i, node in enumerate(bp.nodes):
        for missing in bp.networks.keys() - node.addresses.keys():
            yield ("nodes", i, "addresses"), f"node {node.name} has no address on {missing!r}"
        for net, address in node.addresses.items():
            yield from _inside(("nodes", i, "addresses", net), address, bp, net)


def _inside(loc: Loc, address: IPv4Address, bp: Blueprint, net: str) -> Iterator[tuple[Loc, str]]:
    network = bp.networks.get(net)
    if network is None:
        yield loc, f"unknown network {net!r}; the blueprint's networks are: {', '.join(bp.networks)}"
    elif address not in network.cidr or address in (
        network.cidr.network_address,
        network.cidr.broadcast_address,
    ):
        yield loc, f"{address} is not a host address of the {net} network {network.cidr}"


def _unique_addresses(bp: Blueprint) -> Iterator[tuple[Loc, str]]:
    owners: dict[IPv4Address, str] = {bp.vip: "the VIP"}
    for i, address in enumerate(bp.client):
        yield from _claim(owners, address, ("client", i), "the client seat")
    for i, node in enumerate(bp.nodes):
        for net, address in node.addresses.items():
            yield from _claim(owners, address, ("nodes", i, "addresses", net), f"node {node.name}")


def _claim(
    owners: dict[IPv4Address, str], address: IPv4Address, loc: Loc, who: str
) -> Iterator[tuple[Loc, str]]:
    if address in owners:
        yield loc, f"duplicate address {address}: {owners[address]} has it already"
    else:
        owners[address] = who


def _interfaces(bp: Blueprint) -> Iterator[tuple[Loc, str]]:
    seen: dict[str, str] = {}
    for name, network in bp.networks.items():
        if network.interface in seen:
            yield ("networks", name, "interface"), (
                f"{network.interface} already carries the {seen[network.interface]} network;"
                " give each network its own interface"
            )
        seen.setdefault(network.interface, name)


def _protocol_on_vip_network(bp: Blueprint) -> Iterator[tuple[Loc, str]]:
    """The daemon that moves the VIP must speak on the VIP's network, or it moves it nowhere."""
    field = protocols.of(bp).vip_network_field
    network = getattr(bp.protocol_params, field)
    if network in bp.networks and network != bp.vip_network:
        yield (bp.service, field), (
            f"{network!r}: the VIP lives on {bp.vip_network!r}, so {bp.service} must manage it there"
        )


def _page_in_web_root(bp: Blueprint) -> Iterator[tuple[Loc, str]]:
    page = f"{bp.web_root}/index.html"
    if not any(f.path == page for f in bp.files):
        pages = [f.path for f in bp.files if f.path.endswith("/index.html")]
        yield ("web_root",), (
            f"{bp.web_root}: no file is written to {page}, so {bp.web} would not serve the page"
            + (f" (the page is written to {', '.join(pages)})" if pages else "")
        )


def _claim_ids(bp: Blueprint) -> Iterator[tuple[Loc, str]]:
    for i in _repeated([claim.id for claim in bp.claims]):
        yield ("claims", i, "id"), f"duplicate claim {bp.claims[i].id!r}; ids must be unique"


def _hostnames_are_node_names(bp: Blueprint) -> Iterator[tuple[Loc, str]]:
    if protocols.of(bp).names_nodes_by_uname:
        for i, node in enumerate(bp.nodes):
            if node.hostname not in (None, node.name):
                yield ("nodes", i, "hostname"), (
                    f"{node.hostname!r}: {bp.service} names nodes by host name, so it must equal the"
                    f" node's name {node.name!r} (or be left out)"
                )
