"""labgen failover: inject a fault on the VIP holder and measure the failover from the client."""

from __future__ import annotations

from typing import Annotated

import typer

from labgen.cli.options import Json, LabName
from labgen.cli.output import console, print_json
from labgen.cli.watch import measure_watched

FAULT_HELP = "stop, crash, freeze, link-down, reboot (systemctl reboot in the node) or reset (power cut)."


def failover(
    lab: LabName,
    fault: Annotated[str, typer.Option(help=FAULT_HELP)] = "stop",
    as_json: Json = False,
    live: Annotated[
        bool, typer.Option("--watch", help="Show the lab live while measuring (labgen watch's view).")
    ] = False,
) -> None:
    """Fault the node holding the VIP, measure until the other serves, undo, measure failback."""
    from labgen.labs import find_lab, running_provider
    from labgen.locks import lab_lock
    from labgen.verify.failover import measure
    from labgen.verify.faults import check_fault

    check_fault(fault)
    provider = running_provider(find_lab(lab))
    with lab_lock(lab, "failover"):
        if live and console.is_terminal:
            report = measure_watched(provider, fault)
        else:
            with console.status(f"{fault} on the VIP holder, probing every 50 ms from the client seat"):
                report = measure(provider, fault)
    if as_json:
        print_json(report.as_dict())
        return
    _print_report(report)


def _print_report(report) -> None:
    console.print(f"[bold]{report.fault}[/] on {report.node}: VIP {report.vip_before} → {report.vip_after}")
    for at_ms, text in report.timeline:
        console.print(f"  {at_ms / 1000:>8.2f} s  {text}", highlight=False)
    expected = f"{report.expected_ms / 1000:.2f} s" if report.expected_ms else "about 1 s"
    earliest = f", no sooner than {report.earliest_ms / 1000:.2f} s" if report.earliest_ms else ""
    console.print(
        f"VIP moved after {_s(report.vip_moved_ms)}, seen within {report.vip_moved_error_ms:.0f} ms "
        f"(protocol: {expected}{earliest}; {report.expected_rule}); service restored after "
        f"{_s(report.service_restored_ms)}, seen within {report.service_restored_error_ms:.0f} ms; "
        f"failback {_s(report.failback_ms)}",
        highlight=False,
    )
    console.print(
        f"{report.requests_failed} of {report.requests_sent} requests failed "
        f"(one every {report.probe_interval_ms:.0f} ms); {report.pings_lost} of {report.pings_sent} pings "
        "lost until it was served again (one a second)",
        highlight=False,
    )


def _s(ms: float | None) -> str:
    return "—" if ms is None else f"{ms / 1000:.2f} s"
