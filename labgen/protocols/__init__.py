"""The HA protocols labgen knows, one module each: what the daemon is, how it is timed, how a node
shows its state. The rest of labgen asks `of(spec)` and names no daemon."""

from __future__ import annotations

from labgen.protocols import heartbeat, keepalived, pacemaker
from labgen.protocols.base import NodeView, Protocol

PROTOCOLS: dict[str, Protocol] = {
    p.name: p for p in (keepalived.PROTOCOL, heartbeat.PROTOCOL, pacemaker.PROTOCOL)
}


def of(spec) -> Protocol:
    """The protocol a lab (LabSpec) or blueprint runs, by its `service`."""
    return PROTOCOLS[spec.service]


__all__ = ["PROTOCOLS", "NodeView", "Protocol", "of"]
