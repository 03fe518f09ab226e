"""labgen reset: a lab back to the state `up` left it in, without taking it down."""

from __future__ import annotations

from labgen.cli.options import LabName
from labgen.cli.output import console


def reset(lab: LabName) -> None:
    """Throw away everything done inside the lab's nodes: back to the lab `up` left.

    Containers drop their writable layer and are provisioned again; VMs are restored from the saved
    lab they stand on (else revert to the snapshot `up` took). The lab keeps its name, networks,
    addresses and secrets."""
    from labgen.exercises import closed_by_reset
    from labgen.labs import find_lab, provider_for
    from labgen.locks import lab_lock
    from labgen.observe import wait_settled
    from labgen.progress import Progress

    found = find_lab(lab)
    provider = provider_for(found)
    progress = Progress(console=console)
    with lab_lock(lab, "reset"):
        try:
            provider.reset(progress)
            ready = progress.elapsed()
            with progress.step(f"{found.spec.daemon} elects {found.spec.preferred.name} to hold the VIP"):
                # settled, not only elected: a restored director's LVS pool may still be refilling
                wait_settled(provider, on=found.spec.preferred.name, hold=0)
        except BaseException:
            console.print(f"[red]reset did not finish[/]; logs in {found.logs_dir}; "
                          f"`labgen reset {lab}` again, or `labgen down {lab}`")
            raise
        closed_by_reset(found)
    console.print(f"lab {lab} is as new in {progress.elapsed():.1f} s "
                  f"(nodes ready in {ready:.1f} s, then the election)", highlight=False)
