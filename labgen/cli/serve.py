"""labgen serve: the class dashboard and each lab live, in a browser (labgen.web)."""

from __future__ import annotations

import ipaddress
import secrets
import socket
from typing import Annotated

import typer

from labgen.cli.output import console
from labgen.errors import LabgenError

WILDCARDS = ("0.0.0.0", "::")


def serve(
    listen: Annotated[
        str,
        typer.Option(
            "--listen",
            metavar="ADDRESS[:PORT]",
            help="Where to listen: 127.0.0.1 (this machine only) by default; 0.0.0.0 or an address "
            "of the classroom network opens the pages to the room. Port 0 picks a free one.",
        ),
    ] = "127.0.0.1:8765",
    watches: Annotated[
        int, typer.Option("--watches", min=1, max=32, help="Labs watched live at once (a probe each).")
    ] = 4,
) -> None:
    """Serve the class dashboard (every lab: state, VIP holder, last verify claim by claim, exercise,
    idle time) and each lab live (nodes, VIP holder, the client's service, a timeline, the topology)
    to a browser. Anyone who reaches the pages reads them; faults, resets and exercises take the
    teacher's address printed at the start (the page keeps the token in its tab, then leaves the
    address bar)."""
    import uvicorn

    from labgen.web.app import Server, create_app

    host, port = _parse_listen(listen)
    sock = _bind(host, port)
    token = secrets.token_urlsafe(18)
    server = Server(token, watches)
    port = sock.getsockname()[1]
    room = _addresses() if host in WILDCARDS else [host]
    for address in room:
        console.print(f"the class, read-only: {_url(address, port)}/", highlight=False, soft_wrap=True)
    # the teacher's token goes to an address this server holds alone: the one it listens on, or
    # loopback under a wildcard (a name could resolve to a port another user took on another family)
    own = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    console.print(f"the teacher (faults, resets, exercises), in your browser only: "
                  f"{_url(own, port)}/login?token={token}", highlight=False, soft_wrap=True)
    console.print("Ctrl-C stops serving (and undoes a fault still in place)", highlight=False)
    names = {"127.0.0.1", "localhost", "[::1]", *(_url(a, port)[7:].rpartition(":")[0] for a in room)}
    if host in WILDCARDS:  # the names this machine goes by in the room: a rebinding page's are not
        names |= {socket.gethostname(), socket.getfqdn()}
    hosts = sorted(names | {f"[{host}]" if ":" in host else host})
    config = uvicorn.Config(create_app(server, hosts), log_level="warning", access_log=False,
                            timeout_graceful_shutdown=3)
    uvicorn.Server(config).run(sockets=[sock])


def _url(address: str, port: int) -> str:
    return f"http://[{address}]:{port}" if ":" in address else f"http://{address}:{port}"


def _addresses() -> list[str]:
    """This machine's addresses, loopback's first (what a wildcard listens on, as psutil reads it)."""
    import psutil

    found = [a.address.split("%")[0] for addrs in psutil.net_if_addrs().values() for a in addrs
             if a.family in (socket.AF_INET, socket.AF_INET6)]
    return sorted(set(found), key=lambda a: (not a.startswith(("127.", "::1")), ":" in a, a))


def _parse_listen(listen: str) -> tuple[str, int]:
    """ADDRESS[:PORT], [IPv6]:PORT or :PORT, as an address and a port (8765 when not given)."""
    if listen.startswith("["):  # [IPv6]:PORT or [IPv6]
        host, closed, rest = listen[1:].partition("]")
        port = rest.removeprefix(":") if closed and rest[:1] in ("", ":") else "bad"
    elif listen.count(":") == 1:  # IPv4:PORT or :PORT
        host, port = listen.split(":")
    else:  # IPv4, or a bare IPv6
        host, port = listen, ""
    host = host or "127.0.0.1"
    try:
        number = int(port) if port else 8765
        ipaddress.ip_address(host)
        if not 0 <= number <= 65535:
            raise ValueError
    except ValueError:
        raise LabgenError(f"--listen {listen}: give ADDRESS[:PORT] with an IP address and a port "
                          "from 0 to 65535, e.g. 127.0.0.1:8765 or 0.0.0.0:8765") from None
    return host, number


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise LabgenError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(64)
    return sock
