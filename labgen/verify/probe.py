"""The client seat's probe: HTTP through the VIP every INTERVAL seconds, and the VIP's MAC.

Runs inside the client namespace (`ip netns exec NS python -m labgen.verify.probe VIP`) so every
timestamp is taken in the lab, on one clock. Each event is dated by when what it reports was seen
true, never by when something else began:

- a request by when it was sent and when its answer came (a request started every interval
  whether or not the previous one finished, so an outage never slows the sampling);
- the VIP's MAC by when the client's neighbour table changed (a node's gratuitous ARP as it takes
  the VIP), read every NEIGHBOUR_POLL seconds: a move is dated at most that late.

Dating a MAC by the start of the request after which it was read (as labgen did until 2026-12)
made every move look up to the request timeout (1 s) early.

Prints "ready", then one JSON line per event until stdin closes:
{"sent": T, "answered": T, "page": TEXT or null, "mac": MAC} for a request (mac: the neighbour
entry as the answer came), {"neighbour": T, "mac": MAC or null} for a change of the VIP's MAC.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time

NEIGHBOUR_POLL = 0.01


def http_get(vip: str, port: int, timeout: float) -> str | None:
    """The body of GET / on vip:port, or None on any failure."""
    try:
        with socket.create_connection((vip, port), timeout=timeout) as conn:
            conn.settimeout(timeout)
            conn.sendall(f"GET / HTTP/1.0\r\nHost: {vip}\r\n\r\n".encode())
            data = b""
            while chunk := conn.recv(4096):
                data += chunk
    except OSError:
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    return (
        body.decode(errors="replace").strip()
        if head.startswith(b"HTTP/1.1 200") or head.startswith(b"HTTP/1.0 200")
        else None
    )


def vip_mac(vip: str) -> str | None:
    """The VIP's MAC in this namespace's neighbour table (changes when another node takes it)."""
    with open("/proc/net/arp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            if fields[0] == vip and fields[3] != "00:00:00:00:00:00":
                return fields[3]
    return None


class Events:
    """The probe's output: one JSON line per event, whole lines from every thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def emit(self, event: dict) -> None:
        with self.lock:
            print(json.dumps(event), flush=True)


def watch_neighbour(vip: str, events: Events, stop: threading.Event) -> None:
    """Each change of the VIP's MAC, dated within NEIGHBOUR_POLL of the change."""
    seen = vip_mac(vip)
    events.emit({"neighbour": time.time(), "mac": seen})
    while not stop.wait(NEIGHBOUR_POLL):
        if (mac := vip_mac(vip)) != seen:
            events.emit({"neighbour": time.time(), "mac": mac})
            seen = mac


def run(vip: str, port: int, interval: float, timeout: float) -> None:
    events, stop = Events(), threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    watcher = threading.Thread(target=watch_neighbour, args=(vip, events, stop), daemon=True)
    watcher.start()

    def request(sent: float) -> None:
        page = http_get(vip, port, timeout)
        events.emit({"sent": sent, "answered": time.time(), "page": page, "mac": vip_mac(vip)})

    workers = []
    next_at = time.time()
    while not stop.is_set():
        worker = threading.Thread(target=request, args=(time.time(),), daemon=True)
        worker.start()
        workers.append(worker)
        next_at += interval
        stop.wait(max(0.0, next_at - time.time()))
    for worker in [*workers, watcher]:
        worker.join(timeout + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("vip")
    parser.add_argument("--port", type=int, default=80)
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument("--timeout", type=float, default=1.0)
    args = parser.parse_args()
    print("ready", flush=True)
    run(args.vip, args.port, args.interval, args.timeout)


if __name__ == "__main__":
    main()
