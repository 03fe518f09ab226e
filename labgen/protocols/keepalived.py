"""keepalived: VRRP between the nodes, and LVS in front of the real servers where the kernel has it."""

from __future__ import annotations

import re
import secrets
import string

from labgen.protocols.base import NodeView, Protocol
from labgen.providers.base import Provider

_REAL_SERVER = re.compile(r"^\s*->\s+(\d+\.\d+\.\d+\.\d+):\d+\s", re.MULTILINE)


def master_down_ms(advert: float, priority: int) -> tuple[float, str]:
    """VRRP's master down interval (RFC 5798 6.1) in ms, and how it was computed."""
    return round((3 * advert + (256 - priority) / 256 * advert) * 1000, 1), (
        f"3 x advert_int + (256 - {priority})/256 x advert_int"
    )


def real_servers_in(table: str) -> set[str]:
    """The real servers in `ipvsadm -L -n` output (its "-> RemoteAddress:Port" heading is not one)."""
    return set(_REAL_SERVER.findall(table))


def lvs_pool(provider: Provider, director: str) -> set[str]:
    """The real servers in the director's LVS table (a failed health check removes one)."""
    spec = provider.lab.spec
    table = provider.exec(director, ["ipvsadm", "-L", "-n", "-t", f"{spec.vip}:{spec.http_port}"], timeout=10)
    return real_servers_in(table.stdout)


def has_lvs(spec) -> bool:
    """Whether the lab's kernel has LVS (containers share the host's, which may lack ip_vs)."""
    return spec.features.get("ip_vs", True)


class Keepalived(Protocol):
    name = "keepalived"
    unit = "keepalived"

    def with_secret(self, section):
        if section.auth_type != "PASS" or section.auth_pass:
            return section
        alphabet = string.ascii_letters + string.digits
        password = "".join(secrets.choice(alphabet) for _ in range(8))  # VRRP keeps 8 characters
        return section.model_copy(update={"auth_pass": password})

    def cluster_traffic(self, params: dict) -> list[str]:
        return ["-p", "vrrp"]

    def settle_time(self, params: dict) -> float:
        return 10 * params["advert_int"] + 20

    def quiet_time(self, params: dict) -> float:
        return 3 * params["advert_int"]

    def expected_failover(self, params: dict, fault: str) -> tuple[float | None, str]:
        if fault in ("stop", "reboot"):  # the daemon is stopped in order, a reboot's shutdown included
            return None, "a stopping master sends priority 0: the backup takes over at once (~1 advert)"
        expected, rule = master_down_ms(params["advert_int"], params["priorities"]["backup"])
        return expected, f"{rule} (VRRP master down interval)"

    def expected_election(self, params: dict) -> tuple[float, str]:
        expected, rule = master_down_ms(params["advert_int"], params["priorities"]["preferred"])
        return expected, f"a starting MASTER first waits the master down interval, {rule}"

    def node_view(self, provider: Provider, node: str, holds_vip: bool) -> NodeView:
        if not (holds_vip and has_lvs(provider.lab.spec)):
            return NodeView(vip=holds_vip)
        return NodeView(vip=True, pool=(len(lvs_pool(provider, node)), len(provider.lab.spec.nodes)))

    def serving_bound(self, spec) -> float:
        """A real server's change can land just as a check cycle starts (its retries run out
        first), then the verdict waits for the next delay_loop."""
        if not has_lvs(spec):
            return super().serving_bound(spec)
        params = spec.params
        hc, lvs = params["health_check"], params["lvs"]
        cycle = (hc["retry"] + 1) * (hc["connect_timeout"] + hc["delay_before_retry"])
        return 2 * lvs["delay_loop"] + cycle + 10


PROTOCOL = Keepalived()
