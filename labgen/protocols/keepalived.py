"""keepalived: VRRP between the nodes, and LVS in front of the real servers where the kernel has it."""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, field_validator, model_validator

from labgen.grammar import ConfigWord, Float, Int, Strict
from labgen.lab import Skip
from labgen.protocols.base import Loc, NodeView, Protocol

if TYPE_CHECKING:
    from labgen.providers.base import Provider

Priority = Annotated[Int, Field(ge=1, le=254)]

_REAL_SERVER = re.compile(r"^\s*->\s+(\d+\.\d+\.\d+\.\d+):\d+\s", re.MULTILINE)


# ---- the blueprint's `keepalived:` section ----------------------------------------------------


class LVS(Strict):
    """The tutorial's virtual_server block."""

    delay_loop: Int = Field(30, ge=1, description="seconds between health checks")
    lb_algo: Literal["rr", "wrr", "lc", "wlc", "sh", "dh"] = Field(
        "rr", description="the LVS scheduler (rr: round robin)"
    )
    lb_kind: Literal["DR", "NAT", "TUN"] = Field(
        "DR", description="forwarding method (DR: the real servers answer clients directly)"
    )
    persistence_timeout: Int = Field(
        50, ge=0, description="seconds one client address sticks to one real server"
    )
    protocol: Literal["TCP", "UDP"] = Field("TCP", description="the virtual server's protocol")


class HealthCheck(Strict):
    """HTTP_GET with a digest of the page: a real server whose page changes leaves the pool."""

    url: str = Field("/", pattern=r"^/[A-Za-z0-9._~/%-]*$", description="the path fetched and digested")
    connect_timeout: Int = Field(3, ge=1, description="seconds")
    retry: Int = Field(3, ge=0, description="the tutorial's nb_get_retry, deprecated in keepalived 2")
    delay_before_retry: Int = Field(2, ge=0, description="seconds")


class Keepalived(Strict):
    vrrp_version: Literal[2, 3] = Field(
        2, description="3 allows a sub-second `advert_int` and has no authentication"
    )
    virtual_router_id: Int = Field(1, ge=1, le=255, description="the VRRP router id, the same on both nodes")
    advert_int: Float = Field(
        1.0,
        gt=0,
        le=255,
        description="seconds between VRRP adverts; a crash fails over after about 3 of them",
    )
    priorities: dict[Literal["preferred", "backup"], Priority] = Field(
        {"preferred": 100, "backup": 50},
        description="VRRP priority by role; the higher one holds the VIP and takes it back",
    )
    network: str = Field("public", description="where VRRP speaks and the VIP lives (the tutorial's eth0)")
    auth_type: Literal["PASS", "none"] = Field("PASS", description="`PASS` (VRRPv2) or `none`")
    auth_pass: ConfigWord | None = Field(None, description="generated per lab when unset")
    router_ids: dict[Literal["preferred", "backup"], ConfigWord] = Field(
        {"preferred": "LVS_MASTER", "backup": "LVS_SLAVE"}, description="global_defs router_id by role"
    )
    garp_master_refresh: Int = Field(
        10,
        ge=0,
        le=3600,
        description="seconds between the master's repeated gratuitous ARPs (0: only on becoming"
        " master, as the tutorial): after a healed split brain the master never becomes master"
        " again, so clients that learned the backup's MAC keep it, and the backup serves them"
        " behind LVS's back",
    )
    lvs: LVS = Field(LVS(), description="the LVS virtual server on the VIP")
    health_check: HealthCheck = Field(HealthCheck(), description="the HTTP_GET check of each real server")

    @field_validator("priorities", "router_ids")
    @classmethod
    def _both_roles(cls, value: dict) -> dict:
        if missing := {"preferred", "backup"} - value.keys():
            raise ValueError(f"give both preferred and backup (missing: {', '.join(sorted(missing))})")
        return value

    @field_validator("auth_pass")
    @classmethod
    def _vrrp_keeps_eight(cls, value: str | None) -> str | None:
        if value is not None and not 1 <= len(value) <= 8:
            raise ValueError(
                f"{len(value)} characters; VRRP PASS authentication keeps only the first 8,"
                " so use 1 to 8 characters"
            )
        return value

    @model_validator(mode="after")
    def _version_rules(self) -> Keepalived:
        if self.vrrp_version == 3 and self.auth_type != "none":
            raise ValueError("VRRPv3 has no authentication: set auth_type to none")
        if self.vrrp_version == 2 and self.advert_int != int(self.advert_int):
            raise ValueError("VRRPv2 advert_int is whole seconds: use vrrp_version 3 for less")
        return self


# ---- the protocol ------------------------------------------------------------------------------


def master_down_ms(advert: float, priority: int) -> tuple[float, str]:
    """VRRP's master down interval (RFC 5798 6.1) in ms, and how it was computed."""
    return round((3 * advert + (256 - priority) / 256 * advert) * 1000, 1), (
        f"3 x advert_int + (256 - {priority})/256 x advert_int"
    )


def skew_ms(advert: float, priority: int) -> tuple[float, str]:
    """A backup that hears priority 0 (the master stopping) takes over after its skew time
    (RFC 5798 6.4.2), in ms, and how it was computed."""
    return round((256 - priority) / 256 * advert * 1000, 1), (
        f"a stopping master sends priority 0; the backup takes over after its skew time, "
        f"(256 - {priority})/256 x advert_int")


def genhash_command(version: tuple[int, ...]) -> str:
    """The tutorial's `genhash`: its own program up to keepalived 2.1, `keepalived --genhash` since
    2.2 (Debian 12 and 13 ship no genhash)."""
    return "genhash" if version < (2, 2) else "keepalived --genhash"


def real_servers_in(table: str) -> set[str]:
    """The real servers in `ipvsadm -L -n` output (its "-> RemoteAddress:Port" heading is not one)."""
    return set(_REAL_SERVER.findall(table))


def lvs_pool(provider: Provider, director: str) -> set[str]:
    """The real servers in the director's LVS table (a failed health check removes one)."""
    spec = provider.lab.spec
    table = provider.exec(director, ["ipvsadm", "-L", "-n", "-t", f"{spec.vip}:{spec.http_port}"], timeout=10)
    return real_servers_in(table.stdout)


# keepalived writes what it runs with (the configuration it read, each VRRP instance's state) to
# this file on SIGUSR1, the same on keepalived 2.1, 2.2 and 2.3: the file on disk may have been
# edited since the daemon read it, the dump cannot have been.
DATA_DUMP = "/tmp/keepalived.data"
DUMP_COMMAND = (
    f"rm -f {DATA_DUMP}; kill -USR1 \"$(cat /run/keepalived.pid 2>/dev/null)\" 2>/dev/null"
    " || { echo 'keepalived is not running' >&2; exit 1; }; "
    # the VRRP process writes the topology section whole before the sockpool's heading
    f"for i in $(seq 50); do grep -qs '^------< VRRP Sockpool' {DATA_DUMP} && exec cat {DATA_DUMP}; "
    f"sleep 0.1; done; echo 'keepalived wrote no {DATA_DUMP} within 5 s of SIGUSR1' >&2; exit 1"
)
_INSTANCE = re.compile(r"^ VRRP Instance = (\S+)\n(.*?)(?=^ VRRP Instance = |^------<)",
                       re.MULTILINE | re.DOTALL)
_SETTING = re.compile(r"^   (\S[^=\n]*?) = (.*)$", re.MULTILINE)


@dataclass(frozen=True)
class RunningVRRP:
    """What a node's keepalived runs with: its router_id and each VRRP instance's settings as the
    dump words them ("Virtual Router ID", "Priority", "Authentication type", "Password", ...)."""

    router_id: str
    instances: dict[str, dict[str, str]]

    def only_instance(self) -> dict[str, str]:
        if len(self.instances) != 1:
            raise ValueError(f"keepalived runs {len(self.instances)} VRRP instances, the tutorial one")
        return next(iter(self.instances.values()))


def running_vrrp(dump: str) -> RunningVRRP:
    """The keepalived data dump (DUMP_COMMAND's output), read."""
    router_id = re.search(r"^ Router ID = (.*)$", dump, re.MULTILINE)
    instances = {name: dict(_SETTING.findall(body)) for name, body in _INSTANCE.findall(dump)}
    return RunningVRRP(router_id.group(1).strip() if router_id else "", instances)


def has_lvs(spec) -> bool:
    """Whether the lab's kernel has LVS (containers share the host's, which may lack ip_vs)."""
    return spec.features.get("ip_vs", True)


class KeepalivedProtocol(Protocol):
    name = "keepalived"
    unit = "keepalived"
    secret_field = "auth_pass"
    network_fields = ("network",)
    vip_network_field = "network"
    takeover_faults = ("stop", "crash", "freeze", "link-down")

    def checks(self, bp) -> Iterator[tuple[Loc, str]]:
        k = bp.keepalived
        if k.vrrp_version == 3:
            centis = k.advert_int * 100
            if not 1 <= centis <= 4095 or abs(centis - round(centis)) > 1e-6:
                yield ("keepalived", "advert_int"), (
                    f"{k.advert_int:g}: VRRPv3 adverts are whole centiseconds from 0.01 to 40.95 s"
                )
        prio = k.priorities
        if prio.get("preferred", 100) <= prio.get("backup", 50):
            yield ("keepalived", "priorities"), (
                f"preferred {prio.get('preferred')} is not above backup {prio.get('backup')}:"
                " the preferred node would never hold the VIP"
            )

    def with_secret(self, section):
        if section.auth_type != "PASS" or section.auth_pass:
            return section
        alphabet = string.ascii_letters + string.digits
        password = "".join(secrets.choice(alphabet) for _ in range(8))  # VRRP keeps 8 characters
        return section.model_copy(update={"auth_pass": password})

    def skips(self, features: dict[str, bool]) -> list[Skip]:
        if features.get("ip_vs", True):
            return []
        return [
            Skip(
                what="LVS: the virtual server, ipvsadm, round robin and digest health checks",
                reason="this host's kernel has no ip_vs, which containers share; keepalived"
                " runs VRRP only (-P) and each node serves the VIP itself",
            )
        ]

    def cluster_traffic(self, params: dict) -> list[str]:
        return ["-p", "vrrp"]

    def settle_time(self, params: dict) -> float:
        return 10 * params["advert_int"] + 20

    def quiet_time(self, params: dict) -> float:
        return 3 * params["advert_int"]

    def expected_failover(self, params: dict, fault: str) -> tuple[float | None, str]:
        if fault in ("stop", "reboot"):  # the daemon is stopped in order, a reboot's shutdown included
            return skew_ms(params["advert_int"], params["priorities"]["backup"])
        expected, rule = master_down_ms(params["advert_int"], params["priorities"]["backup"])
        return expected, f"{rule} (VRRP master down interval)"

    def earliest_failover(self, params: dict, fault: str) -> tuple[float | None, str]:
        if fault in ("stop", "reboot"):
            return skew_ms(params["advert_int"], params["priorities"]["backup"])
        advert = params["advert_int"]
        interval, _ = master_down_ms(advert, params["priorities"]["backup"])
        return round(interval - advert * 1000, 1), (
            "the master down interval less one advert_int (the backup heard the last advert at most "
            "one advert_int before the fault)")

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


PROTOCOL = KeepalivedProtocol()
