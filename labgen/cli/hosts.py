"""labgen hosts: the machines a class may span, reached over ssh (labgen.remote.hosts)."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated

import typer

from labgen.cli.options import Json
from labgen.cli.output import console, print_json, print_table

app = typer.Typer(help="The hosts a class may span: each reached over ssh, with labgen installed.",
                  no_args_is_help=True)


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="A short name for the host (a-z, 0-9, -).")],
    url: Annotated[str, typer.Argument(help="ssh://USER@ADDRESS[:PORT]")],
    key: Annotated[Path | None, typer.Option("--key", help="The private key to log in with.")] = None,
    ssh_options: Annotated[
        list[str] | None,
        typer.Option("--ssh-option", metavar="KEY=VALUE", help="An ssh -o option, e.g. ProxyJump=bastion."),
    ] = None,
) -> None:
    """Add a host: reached over ssh now (its host key pinned), refused unless it runs this labgen."""

    from labgen.errors import LabgenError
    from labgen.remote import hosts

    host = hosts.parse(name, url, key, ssh_options or [])
    known = hosts.load()
    if name in known:
        raise LabgenError(f"host {name} exists already ({known[name].url}); labgen hosts remove {name} first")
    try:
        with console.status(f"reaching {host.url}"):
            theirs = hosts.check_same(host)
    except BaseException:
        hosts.unpin(name)
        raise
    hosts.save({**known, name: host})
    console.print(f"host {name} added: {host.url}, labgen {theirs}", highlight=False)


@app.command("remove")
def remove(name: Annotated[str, typer.Argument(help="The host's name.")]) -> None:
    """Forget a host and its pinned host key (nothing on it is touched)."""
    from labgen.remote import hosts

    hosts.get(name)
    hosts.forget(name)
    console.print(f"host {name} removed", highlight=False)


@app.command("list")
def list_hosts(as_json: Json = False) -> None:
    """Every host, asked now: reachable, its labgen, its boxes, the seats it holds per blueprint."""
    from labgen.remote import hosts

    known = [None, *hosts.load().values()]  # None: this machine
    with console.status(f"asking {len(known)} hosts"), ThreadPoolExecutor(max_workers=8) as pool:
        rows = list(pool.map(_describe, known))
    if as_json:
        print_json(rows)
        return
    from rich.table import Table

    table = Table("host", "address", "state", "labgen", "boxes", "seats (containers)", "seats (VMs)",
                  box=None, pad_edge=False)
    for row in rows:
        table.add_row(row["host"], row["url"], row["state"], row["labgen"] or "-",
                      " ".join(row["boxes"]) or "-", _seats(row, "nspawn"), _seats(row, "libvirt"))
    print_table(table)


def _describe(host) -> dict:
    """A host's row: its doctor's and box list's answers, or why it gave none."""
    from importlib.metadata import version

    from labgen.boxes import transfer
    from labgen.errors import LabgenError
    from labgen.remote import hosts

    row = {"host": host.name if host else hosts.LOCAL, "url": host.url if host else "this machine",
           "state": "reachable", "labgen": None, "boxes": [], "capacity": {}, "missing": {}}
    try:
        row["labgen"] = version("labgen") if host is None else hosts.check(host)
    except LabgenError as exc:
        return {**row, "state": f"unreachable: {exc}"}
    if row["labgen"] != version("labgen"):  # its answers may not read as ours: not asked
        return {**row, "state": f"labgen {row['labgen']}, not this one's {version('labgen')}"}
    try:
        if host is None:
            doctor, boxes = _local_json(["doctor"]), _local_json(["box", "list"])
        else:
            doctor, boxes = host.labgen_json(["doctor"]), host.labgen_json(["box", "list"])
        row["boxes"] = sorted({b["name"] for b in boxes if b.get("built") and b.get("kind") == transfer.KIND})
        for provider in ("nspawn", "libvirt"):
            row["capacity"][provider] = doctor[provider]["classroom"]["seats"]
            row["missing"][provider] = [missing["piece"] for missing in doctor[provider]["missing"]]
    except (LabgenError, subprocess.TimeoutExpired, KeyError, TypeError, ValueError) as exc:
        return {**row, "state": f"answered, but not as expected: {str(exc)[:200]}"}
    return row


def _local_json(args: list[str]):
    import json

    from labgen.host import labgen_argv

    done = subprocess.run(labgen_argv([*args, "--json"]), capture_output=True, text=True, timeout=120,
                          check=False, stdin=subprocess.DEVNULL, cwd="/")
    return json.loads(done.stdout)


def _seats(row: dict, provider: str) -> str:
    """Seats per blueprint by the host's memory and disk, and what it lacks to run them yet."""
    seats = row["capacity"].get(provider)
    said = " ".join(f"{bp} {n}" for bp, n in seats.items()) if seats else "-"
    lacking = row["missing"].get(provider)
    return f"{said} (lacks {', '.join(lacking)})" if lacking else said
