"""labgen show: what a blueprint builds, and where it departs from its tutorial."""

from __future__ import annotations

from labgen.cli.options import Blueprint, Json, Sets
from labgen.cli.output import console, print_json


def show(blueprint: Blueprint, set_: Sets = None, as_json: Json = False) -> None:
    """Nodes, networks, addresses, VIP, service settings and departures from the tutorial."""
    from labgen.model.load import load_blueprint
    from labgen.providers import PROVIDERS, provider_class
    from labgen.render.resolve import skips

    bp, _ = load_blueprint(blueprint, set_ or [])
    skipped = {p: [s.model_dump() for s in skips(bp, provider_class(p).features())] for p in PROVIDERS}
    if as_json:
        print_json({**bp.model_dump(mode="json"), "skipped_by_provider": skipped})
        return
    _print_human(bp, skipped)


def _print_human(bp, skips: dict[str, list[dict]]) -> None:
    from rich.table import Table

    from labgen import protocols

    console.print(f"[bold]{bp.name}[/]: {bp.title}")
    console.print(f'tutorial: {bp.source.publisher}, "{bp.source.title}"  box: {bp.box}')
    nodes = Table("node", "hostname", "role", *bp.networks, box=None)
    for node in bp.nodes:
        nodes.add_row(
            node.name, node.hostname or node.name, node.role, *(str(node.addresses[n]) for n in bp.networks)
        )
    console.print(nodes)
    for name, net in bp.networks.items():
        console.print(f"network {name}: {net.cidr} on {net.interface}  {net.purpose}")
    console.print(f"VIP {bp.vip} on {bp.vip_network}; client seat {', '.join(map(str, bp.client))}")
    params = bp.protocol_params.model_dump(exclude={protocols.of(bp).secret_field})
    console.print(f"{bp.service}: {params}", highlight=False)
    for provider, items in skips.items():
        for skip in items:
            console.print(f"[yellow]skipped with {provider} here:[/] {skip['what']}: {skip['reason']}")
    console.print("[bold]departures from the tutorial[/]")
    for d in bp.departures:
        console.print(f" • {d.what}\n   [dim]why: {d.why}[/]", highlight=False)
    if bp.claims:
        console.print("[bold]the tutorial's claims and their tests[/] (labgen verify LAB --claim ID)")
    for c in bp.claims:
        note = f"\n   [dim]note: {c.note}[/]" if c.note else ""
        console.print(f" • {c.id}: \"{c.quote}\"\n   [dim]{', '.join(c.tests)}[/]{note}", highlight=False)
