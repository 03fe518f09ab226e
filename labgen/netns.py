"""The lab's own network: one namespace per lab holding every bridge, plus the client seat.

Common to both providers. Nothing of a lab ever appears in the host namespace: bridges live in
the lab namespace, veth pairs are created there and their peer is created directly inside the
node's (or the client's) namespace. So two labs with the same addresses coexist side by side.

    lab namespace  spec.namespace         br-mgmt (MGMT_GATEWAY), one bridge per spec.networks
    client seat    spec.client_namespace  eth0 on the bridge of spec.vip_network, all spec.client
    node           any namespace          eth0 on br-mgmt, network.interface on network.bridge
"""

from __future__ import annotations

import hashlib
import ipaddress
import subprocess
from pathlib import Path

from labgen.errors import LabgenError
from labgen.host import HOST_TIMEOUT, is_host_network_namespace, last_line
from labgen.host import run as _host
from labgen.lab import LabSpec, NetworkSpec

MGMT = "mgmt"  # the management network's name in add_node_link/set_link
MGMT_BRIDGE = "br-mgmt"
MGMT_IFNAME = "eth0"
MGMT_CIDR = "192.168.122.0/24"  # private to each lab namespace, so every lab can use it
MGMT_GATEWAY = "192.168.122.1"  # the lab namespace itself: ssh from there reaches every node
CLIENT_VETH = "client0"  # lab-side end of the client seat's link


def mgmt_address(spec: LabSpec, node: str) -> str:
    """The node's static management address: .11, .12, ... in node order."""
    index = [n.name for n in spec.nodes].index(spec.node(node).name)
    return str(ipaddress.ip_network(MGMT_CIDR)[11 + index])


def mgmt_prefix() -> int:
    return ipaddress.ip_network(MGMT_CIDR).prefixlen


def netns_exists(name: str) -> bool:
    return Path("/run/netns", name).exists()


def _refuse_host_namespace(name: str) -> None:
    """The network rule's last guard: a name that turns out to be the host's own namespace is
    never plugged into or deleted from."""
    if is_host_network_namespace(Path("/run/netns", name)):
        raise LabgenError(f"namespace {name} is the host's own network namespace: labgen leaves it "
                          f"alone; fix: labgen down, then up again")


def create_lab_network(spec: LabSpec, *, mgmt: bool = True) -> None:
    """The lab namespace with its bridges and the client seat; safe to call again.

    mgmt=False leaves out br-mgmt for providers that bring their own management network.
    """
    ns = spec.namespace
    _ensure_netns(ns)
    bridges = [net.bridge for net in spec.networks.values()]
    for bridge in [*bridges, *([MGMT_BRIDGE] if mgmt else [])]:
        _ensure_bridge(spec, bridge)
    if mgmt:
        run_in(ns, ["ip", "addr", "replace", f"{MGMT_GATEWAY}/{mgmt_prefix()}",
                    "dev", MGMT_BRIDGE])
    _create_client_seat(spec)


def create_namespace(spec: LabSpec) -> None:
    """Only the lab namespace, for providers whose bridges are made by someone else (libvirt)."""
    _ensure_netns(spec.namespace)


def create_client_seat(spec: LabSpec) -> None:
    """The client seat, once the bridge of the VIP's network exists in the lab namespace."""
    _create_client_seat(spec)


def _create_client_seat(spec: LabSpec) -> None:
    """The tutorial's "your local computer": every client address on the VIP's network."""
    cns = spec.client_namespace
    _ensure_netns(cns)
    network = spec.networks[spec.vip_network]
    if not _link_exists(cns, "eth0"):
        _delete_link(spec.namespace, CLIENT_VETH)
        _ip(spec.namespace, ["link", "add", CLIENT_VETH, "address", mac(spec, CLIENT_VETH),
                             "type", "veth", "peer", "name", "eth0",
                             "address", mac(spec, "client/eth0"), "netns", cns])
    _ip(spec.namespace, ["link", "set", CLIENT_VETH, "master", network.bridge, "up"])
    prefix = ipaddress.ip_network(network.cidr, strict=False).prefixlen
    for address in spec.client:
        _ip(cns, ["addr", "replace", f"{address}/{prefix}", "dev", "eth0"])
    _ip(cns, ["link", "set", "eth0", "up"])


def add_node_link(spec: LabSpec, node_netns: str, network: str, ifname: str) -> None:
    """Plug a node into a lab bridge: veth in the lab namespace, peer born in the node's.

    network is a key of spec.networks or MGMT. Safe to call again (an existing link is kept).
    """
    _refuse_host_namespace(node_netns)
    node = _node_of(spec, node_netns)
    bridge = MGMT_BRIDGE if network == MGMT else spec.networks[network].bridge
    lab_side = veth_name(node, ifname)
    if not (_link_exists(node_netns, ifname) and _link_exists(spec.namespace, lab_side)):
        _delete_link(spec.namespace, lab_side)
        _delete_link(node_netns, ifname)
        _ip(spec.namespace, ["link", "add", lab_side, "address", mac(spec, lab_side),
                             "type", "veth", "peer", "name", ifname,
                             "address", mac(spec, f"{node}/{ifname}"), "netns", node_netns])
    _ip(spec.namespace, ["link", "set", lab_side, "master", bridge, "up"])


def set_link(spec: LabSpec, node: str, network: str, up: bool) -> None:
    """Cut (or restore) a node's link: the lab side goes down, the node sees NO-CARRIER."""
    ifname = MGMT_IFNAME if network == MGMT else _network(spec, network).interface
    _ip(spec.namespace, ["link", "set", veth_name(node, ifname), "up" if up else "down"])


def block_node(spec: LabSpec, node: str, blocked: bool) -> None:
    """Drop every frame to and from a node at its bridge ports, without any carrier change.

    This is how a hung machine looks from the wire: it answers nothing (not even ARP for a VIP
    it still holds), yet its NICs stay up, unlike set_link.
    """
    state = "0" if blocked else "3"  # bridge port state: disabled / forwarding
    ifnames = [MGMT_IFNAME, *(net.interface for net in spec.networks.values())]
    for ifname in ifnames:
        name = veth_name(node, ifname)
        if _link_exists(spec.namespace, name):
            run_in(spec.namespace, ["bridge", "link", "set", "dev", name, "state", state])


def mac(spec: LabSpec, what: str) -> str:
    """A stable, locally administered MAC: a rebooted node keeps its NICs' addresses, so the
    neighbours' ARP caches stay right (as with a real NIC), and br-mgmt's MAC never changes."""
    digest = hashlib.sha1(f"{spec.namespace}/{what}".encode()).digest()
    return ":".join(f"{b:02x}" for b in (0x02, *digest[:5]))


def without_stp(spec: LabSpec, bridge: str) -> None:
    """No spanning tree on a bridge of the lab's namespace: it has no loop to guard against, and
    under STP a new port forwards only after about 3 s."""
    _ip(spec.namespace, ["link", "set", "dev", bridge, "type", "bridge", "stp_state", "0"])


def veth_name(node: str, ifname: str) -> str:
    """Lab-side veth name, deterministic and within the kernel's 15 characters."""
    name = f"{node}-{ifname}"
    if len(name) <= 15:
        return name
    return "v" + hashlib.sha1(name.encode()).hexdigest()[:14]


def delete_lab_network(spec: LabSpec) -> None:
    """Remove the client seat and the lab namespace (with every bridge and veth); idempotent."""
    for ns in (spec.client_namespace, spec.namespace):
        delete_netns(ns)


def delete_netns(name: str) -> None:
    if netns_exists(name):
        argv = ["ip", "netns", "delete", name]
        subprocess.run(argv, capture_output=True, check=False, timeout=HOST_TIMEOUT)


def pids(name: str) -> list[int]:
    """The processes living in network namespace `name`: none when it does not exist, and none
    when the name is the host's own namespace (its processes are no lab's to stop)."""
    if not netns_exists(name) or is_host_network_namespace(Path("/run/netns", name)):
        return []
    done = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True, check=False,
                          timeout=HOST_TIMEOUT)
    return [int(pid) for pid in done.stdout.split()]


def run_in(
    ns: str, argv: list[str], *, check: bool = True, input: str | None = None,
    timeout: float | None = HOST_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """Run argv in network namespace ns; with check, a failure is one clear LabgenError."""
    done = subprocess.run(["ip", "netns", "exec", ns, *argv], capture_output=True, text=True,
                          input=input, timeout=timeout, check=False)
    if check and done.returncode != 0:
        raise LabgenError(f"in namespace {ns}: {' '.join(argv)} failed: {last_line(done)}")
    return done


def _ensure_netns(name: str) -> None:
    if not netns_exists(name):
        _host(["ip", "netns", "add", name])
    _ip(name, ["link", "set", "lo", "up"])


def _ensure_bridge(spec: LabSpec, bridge: str) -> None:
    ns = spec.namespace
    if not _link_exists(ns, bridge):
        _ip(ns, ["link", "add", bridge, "address", mac(spec, bridge), "type", "bridge"])
    _ip(ns, ["link", "set", bridge, "up"])


def _link_exists(ns: str, name: str) -> bool:
    probe = ["ip", "-n", ns, "link", "show", "dev", name]
    return subprocess.run(probe, capture_output=True, check=False, timeout=HOST_TIMEOUT).returncode == 0


def _delete_link(ns: str, name: str) -> None:
    """Delete a link if it is there. A veth whose peer's namespace was just deleted goes away by
    itself, a moment later: it may vanish between the look and the delete, which is no error."""
    if netns_exists(ns) and _link_exists(ns, name):
        subprocess.run(["ip", "-n", ns, "link", "delete", name], capture_output=True, check=False,
                       timeout=HOST_TIMEOUT)
        if _link_exists(ns, name):
            raise LabgenError(f"in namespace {ns}: the link {name} cannot be deleted")


def _ip(ns: str, args: list[str]) -> None:
    _host(["ip", "-n", ns, *args])




def _node_of(spec: LabSpec, node_netns: str) -> str:
    """The node a namespace belongs to (LabSpec.node_namespace)."""
    for node in spec.nodes:
        if node_netns in (spec.node_namespace(node.name), node.name):
            return node.name
    raise LabgenError(f"{node_netns} is not a node namespace of lab {spec.name!r}")


def _network(spec: LabSpec, network: str) -> NetworkSpec:
    try:
        return spec.networks[network]
    except KeyError:
        known = ", ".join([*spec.networks, MGMT])
        message = f"lab {spec.name!r} has no network {network!r}; its networks: {known}"
        raise LabgenError(message) from None
