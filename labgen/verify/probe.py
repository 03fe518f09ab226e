"""The client seat's probe: HTTP through the VIP every INTERVAL seconds, and the VIP's MAC.

Runs inside the client namespace (`ip netns exec NS python -m labgen.verify.probe VIP`) so every
timestamp is taken in the lab, on one clock. A request is started every interval whether or not
the previous one finished, so an outage never slows the sampling. Prints "ready", then one JSON
line per finished request, [sent_at, ok, page, vip_mac], until stdin closes.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time


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


def run(vip: str, port: int, interval: float, timeout: float) -> None:
    lock = threading.Lock()
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()

    def probe(started: float) -> None:
        page = http_get(vip, port, timeout)
        sample = [started, page is not None, page, vip_mac(vip)]
        with lock:
            print(json.dumps(sample), flush=True)

    workers = []
    next_at = time.time()
    while not stop.is_set():
        worker = threading.Thread(target=probe, args=(time.time(),), daemon=True)
        worker.start()
        workers.append(worker)
        next_at += interval
        stop.wait(max(0.0, next_at - time.time()))
    for worker in workers:
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
