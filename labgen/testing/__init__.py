"""labgen.testing: what a blueprint's suite imports from labgen, and nothing else (its fixtures
come from the plugins the lab's conftest.py loads).

A stable API: a lab directory handed to a student imports these names, so they keep their meaning
across labgen's releases; API_VERSION changes when one is removed or changes meaning. Everything
else in labgen may move. `blueprints/ruff.toml` (TID251) refuses any other labgen import in a
blueprint, and the shared tests a suite runs by name live in `labgen.testing.suites`.
"""

from labgen.grammar import seconds
from labgen.observe import quiet_time, serving_bound, settle_time, vip_holders, wait_vip_on
from labgen.poll import said, wait_for
from labgen.protocols import of as protocol_of
from labgen.protocols.heartbeat import RQSTDELAY_S
from labgen.protocols.keepalived import (
    DUMP_COMMAND,
    RunningVRRP,
    genhash_command,
    lvs_pool,
    real_servers_in,
    running_vrrp,
)
from labgen.protocols.pacemaker import GROUP, cluster_state, consensus_ms, membership_s
from labgen.verify.behaviour import (
    assert_read_since_changed,
    backup_name,
    bypass_rules,
    new_client_addresses,
    wait_vip_seen_on,
)
from labgen.verify.failover import measure
from labgen.verify.fixtures import no_lvs

API_VERSION = "1"

__all__ = [
    "API_VERSION",
    "DUMP_COMMAND",
    "GROUP",
    "RQSTDELAY_S",
    "RunningVRRP",
    "assert_read_since_changed",
    "backup_name",
    "bypass_rules",
    "cluster_state",
    "consensus_ms",
    "genhash_command",
    "lvs_pool",
    "measure",
    "membership_s",
    "new_client_addresses",
    "no_lvs",
    "protocol_of",
    "quiet_time",
    "real_servers_in",
    "running_vrrp",
    "said",
    "seconds",
    "serving_bound",
    "settle_time",
    "vip_holders",
    "wait_for",
    "wait_vip_on",
    "wait_vip_seen_on",
]
