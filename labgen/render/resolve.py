"""Resolve a validated blueprint into one lab instance: names, secrets, skips."""

from __future__ import annotations

from labgen import protocols
from labgen.boxes.releases import release
from labgen.lab import ClaimSpec, Departure, LabSpec, NetworkSpec, NodeSpec, Resources, Skip, check_lab_name
from labgen.model.blueprint import Blueprint


def with_secrets(bp: Blueprint, secret: str | None = None) -> Blueprint:
    """Fill unset secrets with fresh random ones, so no two labs share a password; or with
    `secret`, the one of the saved lab this lab is restored from (providers/libvirt/saved.py)."""
    protocol = protocols.of(bp)
    section = bp.protocol_params
    if secret:
        section = section.model_copy(update={protocol.secret_field: secret})
    return bp.model_copy(update={bp.service: protocol.with_secret(section)})


def resolve(bp: Blueprint, name: str, provider: str, features: dict[str, bool]) -> LabSpec:
    """The LabSpec for one instance of bp; bp must already carry its secrets."""
    check_lab_name(name)
    return LabSpec(
        name=name,
        blueprint=bp.name,
        title=bp.title,
        provider=provider,
        service=bp.service,
        daemon=protocols.of(bp).unit,
        secret_field=protocols.of(bp).secret_field,
        web=bp.web,
        vip=str(bp.vip),
        vip_network=bp.vip_network,
        networks={
            net_name: NetworkSpec(
                name=net_name, cidr=str(net.cidr), interface=net.interface, bridge=f"br-{net_name}"
            )
            for net_name, net in bp.networks.items()
        },
        nodes=[
            NodeSpec(
                name=node.name,
                hostname=node.hostname or node.name,
                role=node.role,
                box=node.box or bp.box,
                daemons=release(node.box or bp.box).daemons,
                addresses={net: str(addr) for net, addr in node.addresses.items()},
            )
            for node in bp.nodes
        ],
        client=[str(address) for address in bp.client],
        namespace=f"labgen-{name}",
        features=features,
        skipped=skips(bp, features),
        params=bp.protocol_params.model_dump(mode="json"),
        pages={node.name: node.page for node in bp.nodes},
        packages=list(bp.packages),
        services=list(bp.services),
        departures=[Departure(**d.model_dump()) for d in bp.departures] + release_departures(bp),
        claims=[ClaimSpec(**c.model_dump()) for c in bp.claims],
        resources=Resources(**bp.resources.model_dump()),
    )


def release_departures(bp: Blueprint) -> list[Departure]:
    """What differs on the releases the lab's nodes boot, each said once."""
    boxes = sorted({node.box or bp.box for node in bp.nodes})
    found = [d for box in boxes for d in release(box).departures_for(bp.packages)]
    return [Departure(what=d.what, why=d.why) for d in found]


def skips(bp: Blueprint, features: dict[str, bool]) -> list[Skip]:
    return protocols.of(bp).skips(features)
