"""Lab nodes as systemd-nspawn containers: systemd boots inside, seconds instead of minutes.

Each node is an overlay over the one cached Debian root (labgen.boxes.rootfs), its own network
namespace plugged into the lab's bridges (labgen.netns), and a `systemd-nspawn -b` process whose
PID and start time are kept in LAB/state/NODE.pid. A node runs in a private user namespace: its root
is a UID of the lab's own range on the host (labgen.providers.nspawn.uids), so root in a node is not
root on the host, and the node owns its network namespace (nspawn makes it; labgen names it and
plugs it).

A node's processes are found through the cgroup labgen made for it (labgen.cgroups), never by a
command line or a machine name, which any user can put in `ps`: nspawn is the recorded process,
root's, running the real systemd-nspawn, inside that cgroup. The cgroup also bounds the node (pids,
memory without swap, CPU weight) and its writable layer is a tmpfs of a fixed size, so no node can
starve the host or fill its disk. down() kills whatever is left in the lab's cgroups, which an
interrupted up(), a killed nspawn or a deleted namespace cannot hide.

Host facts this relies on (docs/platform.md): no systemd as PID 1 and no host bus
(--register=no --keep-unit), /run is not a tmpfs (a tmpfs on /run/systemd/nspawn), cgroup v1
(a freezer per node for freeze()), CAP_NET_ADMIN for keepalived's VIP.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ClassVar

from labgen import cgroups, host, netns
from labgen.boxes import rootfs
from labgen.errors import LabgenError
from labgen.host import HOST_TIMEOUT, alive, wait_reaped
from labgen.host import run as _host
from labgen.lab import Lab
from labgen.locks import host_lock
from labgen.poll import wait_for
from labgen.progress import Progress
from labgen.providers.base import EXEC_TIMEOUT, Provider, stdin_from
from labgen.providers.nspawn import idmap, uids

NSPAWN_RUN = Path("/run/systemd/nspawn")
TMPFS_SOURCE = "labgen-nspawn"  # marks the tmpfs labgen mounted (and may unmount)
TMPFS_LOCK = "nspawn-tmpfs.lock"  # one lab at a time mounts, spawns on or unmounts it
# Each node has its own cgroup in every hierarchy, the ones a container's systemd tracks its
# services in included. With --keep-unit every container would otherwise sit in the caller's cgroup,
# all of them in one: a systemd that tracks on the unified hierarchy (257, Debian 13) then sees
# another container's keepalived in its own keepalived.service and waits out the stop timeout
# before a killed service counts as stopped.
LAYER_SOURCE = "labgen-layer"  # the tmpfs under a node's writable layer
NSPAWN = os.path.realpath(shutil.which("systemd-nspawn") or "/usr/bin/systemd-nspawn")
BOOT_TIMEOUT = 90.0
NIC_WAIT_TIMEOUT = 60  # seconds a boot waits for its lab NICs (labgen-nics.service)
NODE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CAPABILITIES = "CAP_NET_ADMIN,CAP_IPC_LOCK,CAP_SYS_NICE,CAP_SYS_RESOURCE"


class NspawnProvider(Provider):
    name: ClassVar[str] = "nspawn"
    # measured: 39 MiB per two-node keepalived-rr seat; a node's writable layer after up
    box_kind: ClassVar[str] = "nspawn root"
    node_memory_mb: ClassVar[int] = 40
    node_disk_mb: ClassVar[int] = 20
    shares_host_kernel: ClassVar[bool] = True

    def __init__(self, lab: Lab):
        super().__init__(lab)
        self.spec = lab.spec
        self._inits: dict[str, int] = {}  # node -> init PID, checked against its parent on use

    # ---- host probes -------------------------------------------------------------------------

    @classmethod
    def features(cls) -> dict[str, bool]:
        """Host-kernel features, which containers share: LVS only if the host has ip_vs loaded;
        `labgen impair` only if its kernel has netem (loaded, built in, or a module to load)."""
        return {"ip_vs": Path("/proc/net/ip_vs").exists(), "netem": _kernel_has_netem()}

    @classmethod
    def missing(cls, boxes: Iterable[str] = (rootfs.DEFAULT,)) -> list[tuple[str, str]]:
        tools = {
            "systemd-nspawn": "apt-get install systemd-container",
            "debootstrap": "apt-get install debootstrap",
            "socat": "apt-get install socat",
            "ip": "apt-get install iproute2",
            "nsenter": "apt-get install util-linux",
            "ssh": "apt-get install openssh-client",
        }
        lacking = [(tool, cmd) for tool, cmd in tools.items() if shutil.which(tool) is None]
        for box in sorted(set(boxes)):
            if not rootfs.is_current(box):
                lacking.append((f"container root {box}", f"labgen box build {box} --for nspawn"))
        if os.geteuid() != 0:
            lacking.append(("root privileges", "run labgen with sudo"))
        return lacking

    # ---- names and paths ---------------------------------------------------------------------

    def machine(self, node: str) -> str:
        """Machine name and node namespace name: unique per lab and node."""
        return self.spec.node_namespace(node)

    def _node_dir(self, node: str) -> Path:
        return self.lab.path / "state" / node

    def _merged(self, node: str) -> Path:
        return self._node_dir(node) / "root"

    def _layer(self, node: str) -> Path:
        """The tmpfs holding the node's writable layer (upper) and overlayfs's work folder."""
        return self._node_dir(node) / "layer"

    def _lower(self, node: str) -> Path:
        """The box's root, mounted again with its owners shifted into the lab's UID range."""
        return self._node_dir(node) / "lower"

    def _pid_file(self, node: str) -> Path:
        return self.lab.path / "state" / f"{node}.pid"

    def _key(self) -> Path:
        return self.lab.path / "state" / "id_ed25519"

    def _lab_group(self) -> cgroups.Group:
        return cgroups.lab_group(self.spec.namespace)

    def _group(self, node: str) -> cgroups.Group:
        """The node's cgroup: all its processes, nspawn included, and its limits."""
        return self._lab_group().child(node)

    # ---- up ----------------------------------------------------------------------------------

    def up(self, progress: Progress, *, fresh: bool = False) -> None:
        """Networks, overlays, boot and provisioning (nodes in parallel), setup of each node; always
        fresh: a container boots in about a second, there is nothing to save."""
        missing = self.missing(self.spec.boxes)
        if missing:
            piece, command = missing[0]
            raise LabgenError(f"nspawn provider: {piece} is missing; fix: {command}")
        with progress.step(f"lab network {self.spec.namespace}"):
            netns.create_lab_network(self.spec)
        self._boot_and_provision(progress)

    def _boot_and_provision(self, progress: Progress) -> None:
        names = [n.name for n in self.spec.nodes]
        with progress.step(f"booting {', '.join(names)}"):
            for node in names:
                self._start(node)
            for node in names:
                self._wait_booted(node)
        self._ensure_key()
        for node in names:
            with progress.step(f"setting up {node} (hostname, ssh key, management address)"):
                self._configure(node)
        self._write_ssh_config()
        with progress.step(f"provisioning {', '.join(names)} (in parallel)"), ThreadPoolExecutor() as pool:
            list(pool.map(self._provision, names))  # re-raises the first failure

    def _start(self, node: str) -> None:
        """Overlay + node namespace + links + nspawn, each only if not already there."""
        if self._nspawn_pid(node):
            if self._frozen(node):  # up means up: a node left frozen by a fault is thawed
                self.freeze(node, False)
            return
        self._group(node).kill()  # what is left of an earlier boot: nothing of it may live on
        netns.delete_netns(self.machine(node))  # a name left by an earlier boot: this one makes its own
        self._mount_overlay(node)
        # another lab's down must not unmount the tmpfs between its mount and this nspawn's start
        with host_lock(TMPFS_LOCK, "nspawn's tmpfs", HOST_TIMEOUT):
            _ensure_nspawn_tmpfs()
            self._spawn(node)
        self._plug(node)

    def _mount_overlay(self, node: str) -> None:
        """The box's root (read-only, shared) under the node's own writable layer.

        The upper layer holds what the node wrote, owned by the lab's UIDs as the host sees them;
        its root directory belongs to the node's root like the mapped lower one. It lives on a
        tmpfs of the node's disk limit: a node that fills it fills its own layer, never the host's
        disk (and its pages count against the node's memory limit too)."""
        merged, lower, layer = self._merged(node), self._lower(node), self._layer(node)
        if host.is_mount(merged):
            return
        if not host.is_mount(lower):
            with idmap.user_namespace(self._uid_base()) as userns:
                idmap.bind_mapped(rootfs.root_path(self.spec.node(node).box), lower, userns)
        for folder in (layer, merged):
            folder.mkdir(parents=True, exist_ok=True)
        if not host.is_mount(layer):
            size = f"size={self.spec.resources.disk_mb}m,mode=0700"
            _host(["mount", "-t", "tmpfs", "-o", size, LAYER_SOURCE, str(layer)])
        for sub in ("upper", "work"):
            (layer / sub).mkdir(exist_ok=True)
        os.chown(layer / "upper", self._uid_base(), self._uid_base())
        options = f"lowerdir={lower},upperdir={layer / 'upper'},workdir={layer / 'work'}"
        _host(["mount", "-t", "overlay", "overlay", "-o", options, str(merged)])

    def _uid_base(self) -> int:
        return uids.base(self.lab)

    def _plug(self, node: str) -> None:
        """Name the network namespace nspawn made for the node, then eth0 on br-mgmt and one NIC
        per lab network in it."""
        ns = self.machine(node)
        init = wait_for(lambda: self._init_pid(node),
                        lambda pid: (pid is not None and host.in_own_network_namespace(pid))
                        or not self._nspawn_pid(node),
                        expected=f"the init of {node} to start in its own network namespace",
                        timeout=10, interval=0.02)
        if init is None or not host.in_own_network_namespace(init):
            raise LabgenError(f"node {node}: systemd-nspawn exited while starting; see "
                              f"{self.lab.logs_dir / f'nspawn-{node}.log'}")
        _host(["ip", "netns", "attach", ns, str(init)])
        netns.add_node_link(self.spec, ns, netns.MGMT, netns.MGMT_IFNAME)
        for name, network in self.spec.networks.items():
            netns.add_node_link(self.spec, ns, name, network.interface)

    def _spawn(self, node: str) -> None:
        """systemd-nspawn -b in the background, inside the node's bounded cgroup from the start;
        recorded as PID and start time, the only way labgen finds it again."""
        group = self._group(node)
        node_limits = cgroups.Limits(self.spec.resources.pids, self.spec.resources.memory_mb,
                                     self.spec.resources.cpu_weight)
        self._lab_group().create()
        nodes = len(self.spec.nodes)  # the lab weighs what its nodes weigh, against other labs
        self._lab_group().limit(cgroups.Limits(node_limits.pids * nodes, node_limits.memory_mb * nodes,
                                               min(cgroups.MAX_CPU_WEIGHT, node_limits.cpu_weight * nodes)))
        group.create()
        group.limit(node_limits)
        argv = [
            NSPAWN, "-b", "-D", str(self._merged(node)), "-M", self.machine(node),
            # nspawn makes the node's network namespace inside the node's user namespace, so the
            # node's root may set its addresses, routes, iptables and sysctls; _plug adds the NICs
            "--private-network", f"--private-users={self._uid_base()}:{idmap.RANGE}",
            "--private-users-ownership=off",  # the layers are mapped already (_mount_overlay)
            "--register=no", "--keep-unit", "--console=passive", "--link-journal=no",
            "--resolv-conf=off", "--timezone=off", f"--capability={CAPABILITIES}",
        ]
        log = (self.lab.logs_dir / f"nspawn-{node}.log").open("a")
        with log:
            # /proc/sys/net writable: provisioners set per-namespace sysctls (ip_forward, rp_filter)
            env = {**os.environ, "SYSTEMD_NSPAWN_API_VFS_WRITABLE": "network"}
            proc = subprocess.Popen(group.argv(argv), stdin=subprocess.DEVNULL, env=env,
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        recorded = host.process_id(proc.pid)
        self._pid_file(node).write_text(f"{recorded}\n")
        # until the exec, the process runs python (before sh's exec) or sh
        wait_for(lambda: host.executable(proc.pid),
                 lambda _: proc.poll() is not None or self._nspawn_pid(node) is not None,
                 expected=f"systemd-nspawn of {node} to start", timeout=10, interval=0.05)

    def _wait_booted(self, node: str) -> None:
        """Poll until systemd in the node says running/degraded; bounded, says what it saw."""
        seen = "no answer"
        deadline = time.monotonic() + BOOT_TIMEOUT
        while time.monotonic() < deadline:
            if not self._nspawn_pid(node):
                log = self.lab.logs_dir / f"nspawn-{node}.log"
                raise LabgenError(f"node {node}: systemd-nspawn exited while booting; see {log}")
            if self._init_pid(node):
                done = self.exec(node, ["systemctl", "is-system-running"], timeout=10)
                seen = done.stdout.strip() or done.stderr.strip() or seen
                if seen in ("running", "degraded"):
                    return
            time.sleep(0.2)
        raise LabgenError(
            f"node {node} did not finish booting in {BOOT_TIMEOUT:.0f} s "
            f"(systemctl is-system-running said {seen!r}); see "
            f"{self.lab.logs_dir / f'nspawn-{node}.log'}"
        )

    def _ensure_key(self) -> None:
        key = self._key()
        if not key.exists():
            _host(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                   f"labgen-{self.spec.name}", "-f", str(key)])

    def _configure(self, node: str) -> None:
        """Hostname, labgen's ssh key for root, eth0's management address, and the unit that holds
        the next boot until the lab NICs are plugged (all written from inside, at every boot)."""
        hostname = self.spec.node(node).hostname
        address = f"{netns.mgmt_address(self.spec, node)}/{netns.mgmt_prefix()}"
        pub = self._key().with_suffix(".pub").read_text().strip()
        script = f"""set -e
{self._nic_wait_unit()}
echo {hostname} > /etc/hostname
hostname {hostname}
grep -q '^127.0.1.1' /etc/hosts && sed -i 's/^127.0.1.1.*/127.0.1.1\\t{hostname}/' /etc/hosts \
  || echo '127.0.1.1\t{hostname}' >> /etc/hosts
install -d -m 700 /root/.ssh
keys=/root/.ssh/authorized_keys
grep -qxF '{pub}' $keys 2>/dev/null || echo '{pub}' >> $keys
chmod 600 $keys
ip addr replace {address} dev eth0
ip link set eth0 up
"""
        done = self.exec(node, ["sh", "-s"], input=script, timeout=30)
        if done.returncode != 0:
            raise LabgenError(f"node {node}: base setup failed: {done.stderr.strip()[-300:]}")

    def _nic_wait_unit(self) -> str:
        """Shell that installs labgen-nics.service. _plug adds a node's NICs from the host just
        after its init starts; under load that came after ifupdown and systemd-sysctl had run, so
        a rebooted or power-cycled node came up with its lab NICs down (keepalived in FAULT,
        nginx unreachable) and their rp_filter unset. The unit makes the boot wait for them."""
        interfaces = [network.interface for network in self.spec.networks.values()]
        present = " && ".join(f"[ -e /sys/class/net/{name} ]" for name in interfaces)
        return f"""cat > /etc/systemd/system/labgen-nics.service <<'UNIT'
# labgen (nspawn provider): wait at boot until the lab's NICs exist, before ifupdown brings them
# up and sysctl sets their rp_filter; labgen plugs them from the host just after init starts.
[Unit]
Description=Wait for the lab's NICs ({", ".join(interfaces)})
DefaultDependencies=no
Before=systemd-sysctl.service networking.service network-pre.target

[Service]
Type=oneshot
RemainAfterExit=yes
TimeoutStartSec={NIC_WAIT_TIMEOUT}
ExecStart=/bin/sh -c 'until {present}; do sleep 0.05; done'
UNIT
mkdir -p /etc/systemd/system/sysinit.target.wants
ln -sf ../labgen-nics.service /etc/systemd/system/sysinit.target.wants/labgen-nics.service"""

    def _provision(self, node: str) -> None:
        script = self.lab.path / "provision" / f"{node}.sh"
        if not script.exists():
            raise LabgenError(f"{script} is missing: render the lab again")
        log = self.lab.logs_dir / f"provision-{node}.log"
        done = self.exec(node, ["bash", "-s"], input=script.read_text())
        with log.open("a") as out:
            out.write(f"==== {time.ctime()} provision {node}\n{done.stdout}{done.stderr}")
            out.write(f"==== exit {done.returncode}\n")
        if done.returncode != 0:
            raise LabgenError(f"provisioning {node} failed (exit {done.returncode}); see {log}")

    def _write_ssh_config(self) -> None:
        """Host entries that work from the host namespace: socat through the lab namespace."""
        state = self.lab.path / "state"
        blocks = []
        for node in self.spec.nodes:
            blocks.append(
                f"Host {node.name}\n"
                f"  HostName {netns.mgmt_address(self.spec, node.name)}\n"
                "  User root\n"
                f"  IdentityFile {self._key()}\n"
                "  IdentitiesOnly yes\n"
                "  StrictHostKeyChecking no\n"
                "  UserKnownHostsFile /dev/null\n"
                "  LogLevel ERROR\n"
                f"  ProxyCommand ip netns exec {self.spec.namespace} socat - TCP:%h:%p\n"
                "  ControlMaster auto\n"
                f"  ControlPath {state}/ssh-%n\n"
                "  ControlPersist 5m\n"
            )
        self.lab.ssh_config.write_text("\n".join(blocks))

    # ---- running nodes -----------------------------------------------------------------------

    def status(self) -> dict[str, str]:
        return {node.name: self._status(node.name) for node in self.spec.nodes}

    def _status(self, node: str) -> str:
        """running or frozen: its nspawn is there; orphaned: nspawn is gone but processes of the
        node live on in its cgroup (only down or a reset mends that)."""
        if self._nspawn_pid(node):
            return "frozen" if self._frozen(node) else "running"
        if self._group(node).pids():
            return "orphaned"
        exists = self._node_dir(node).exists() or netns.netns_exists(self.machine(node))
        return "stopped" if exists else "absent"

    def exec(
        self, node: str, argv: list[str], *, timeout: float | None = EXEC_TIMEOUT, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """nsenter into every namespace of the node's init: no ssh, no network needed."""
        full = self.node_argv(node, argv)
        try:
            return subprocess.run(full, capture_output=True, text=True, timeout=timeout, check=False,
                                  **stdin_from(input))
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
            last = out.strip().splitlines()[-1:] or ["nothing"]
            # the last line says where it hung (a provisioner prints its steps)
            return subprocess.CompletedProcess(full, 124, out, f"timed out after {timeout} s; its last "
                                               f"output was: {last[0][-200:]}")

    def node_argv(self, node: str, argv: list[str]) -> list[str]:
        pid = self._init_pid(node)
        if pid is None:
            raise LabgenError(f"node {node} of lab {self.spec.name} is not running (labgen up)")
        env = ["env", "-i", f"PATH={NODE_PATH}", "HOME=/root", "LANG=C.UTF-8", "TERM=dumb"]
        # nsenter enters the node's namespaces, not its cgroup: joined first, the command counts
        # against the node's limits like everything the node runs
        return self._group(node).argv(["nsenter", "-t", str(pid), "-a", "-r", "-w", *env, *argv])

    def freeze(self, node: str, frozen: bool) -> None:
        """Freezer cgroup + bridge ports blocked: like a hung VM, not even its kernel answers.

        Thawing a node that is not frozen (or not running) does nothing, so heal-all is safe."""
        self.spec.node(node)
        if not frozen and not (self._frozen(node) and self._nspawn_pid(node)):
            return
        if not self._nspawn_pid(node):
            raise LabgenError(f"node {node} of lab {self.spec.name} is not running")
        if frozen:
            netns.block_node(self.spec, node, True)
            self._group(node).freeze(True)
        else:
            self._group(node).freeze(False)
            netns.block_node(self.spec, node, False)

    def _frozen(self, node: str) -> bool:
        return self._group(node).frozen()

    def mac(self, node: str, network: str) -> str:
        """Made from the lab and the NIC's name (netns.mac), so it is the same across boots."""
        return netns.mac(self.spec, f"{self.spec.node(node).name}/{self.spec.networks[network].interface}")

    def set_link(self, node: str, network: str, up: bool) -> None:
        self.spec.node(node)
        netns.set_link(self.spec, node, network, up)

    def power(self, node: str, on: bool) -> None:
        """Off: pull the plug (SIGKILL the container's init) and take its NICs away: the namespace's
        kernel would otherwise still answer ARP and ping for the node's addresses, the VIP too.
        On: fresh NICs, boot the same overlay."""
        self.spec.node(node)
        running = self._nspawn_pid(node) is not None
        if not on and running:
            self._kill(node)
            netns.delete_netns(self.machine(node))
        elif on and not running and self._node_dir(node).exists():
            self._boot_again(node)

    def reboot(self, node: str) -> None:
        """`systemctl poweroff` inside (services stop in order), then the fresh boot of a reset.

        nspawn could restart the container itself on `systemctl reboot`, but it would keep the node's
        network namespace, and with it the addresses, iptables rules and sysctls a reboot loses."""
        self.spec.node(node)
        self.exec(node, ["systemctl", "--no-block", "poweroff"], timeout=30)
        if not self._wait_gone(node, BOOT_TIMEOUT):
            raise LabgenError(f"node {node} did not shut down within {BOOT_TIMEOUT:.0f} s of poweroff")
        self._kill(node)  # nspawn has exited: this only tidies up after it
        self._boot_again(node)

    def _boot_again(self, node: str) -> None:
        # a real boot starts without addresses, routes, iptables and sysctls: a new namespace too
        netns.delete_netns(self.machine(node))
        self._start(node)
        self._wait_booted(node)
        self._configure(node)

    def reset(self, progress: Progress) -> None:
        """Back to the freshly provisioned lab: each node's writable layer dropped, a fresh boot of
        the box, the same provisioning as `up` (same secrets, addresses and networks)."""
        names = [n.name for n in self.spec.nodes]
        with progress.step(f"dropping what {', '.join(names)} wrote"):
            self._stop_ssh_masters()  # their connections die with the nodes
            self._kill_all(names, reaped=False)
            for node in names:
                _unmount(self._merged(node))
                _unmount(self._layer(node))
        self._boot_and_provision(progress)

    # ---- down --------------------------------------------------------------------------------

    def down(self) -> None:
        """Everything this lab made: ssh masters, every process in its cgroups, mounts, namespaces;
        its UID range is given back only once none of its processes is left."""
        names = [n.name for n in self.spec.nodes]
        self._stop_ssh_masters()
        self._kill_all(names)
        lab = self._lab_group()
        lab.kill()  # whatever else is left: a node labgen no longer knows of, an orphan
        for node in names:
            _unmount(self._merged(node))
            _unmount(self._layer(node))
            _unmount(self._lower(node))
            netns.delete_netns(self.machine(node))
        lab.remove()
        cgroups.remove_top()
        netns.delete_lab_network(self.spec)
        with host_lock(TMPFS_LOCK, "nspawn's tmpfs", HOST_TIMEOUT):
            _release_nspawn_tmpfs()
        if remains := lab.remains():
            raise LabgenError(f"{remains[0]} is still there (a process of the lab is left in it); run "
                              f"labgen down {self.lab.path.name} again")
        if (self.lab.path / "state").is_dir():
            uids.release(self.lab)
        _remove_tree(self.lab.path / "state")
        self.lab.ssh_config.unlink(missing_ok=True)

    def _kill_all(self, names: list[str], *, reaped: bool = True) -> None:
        """Pull every plug at once, then wait for each: no clean shutdown of a node whose writes
        are thrown away next (heartbeat alone takes 2 s to release its resources while systemd
        stops it). reaped: see _kill."""
        for node in names:
            self._kill_init(node)
        for node in names:
            self._kill(node, reaped=reaped)

    def _stop_ssh_masters(self) -> None:
        """SIGTERM to the lab's ssh connection masters, found by the control sockets they hold in
        the lab's state folder: `ssh -O exit` takes a second each, and the host's init reaps them
        in its time."""
        host.stop(host.holding_sockets_under(self.lab.path / "state"), reaped=False)

    def _kill(self, node: str, *, reaped: bool = True) -> None:
        """Pull the plug: SIGKILL the node's init (the whole container dies with it); nspawn then
        exits and cleans up after itself, and whatever is left in the node's cgroup (nspawn if it
        did not exit, processes that outlived an nspawn killed behind labgen's back) is killed
        with it. reaped: wait until the host's init has reaped an nspawn an earlier labgen started
        (about a second here), so that `down` leaves nothing in ps; a reset boots again at once."""
        nspawn = self._nspawn_pid(node)
        self._kill_init(node)
        self._wait_gone(node, 5)
        self._group(node).kill()
        if nspawn and reaped:
            wait_reaped([nspawn])
        self._pid_file(node).unlink(missing_ok=True)
        # nspawn leaves its propagation dir behind when its container is killed
        leftover = NSPAWN_RUN / "propagate" / self.machine(node)
        if leftover.is_dir() and not host.is_mount(leftover):
            shutil.rmtree(leftover, ignore_errors=True)

    def _kill_init(self, node: str) -> None:
        if self._frozen(node):  # a frozen process dies only once thawed
            self._group(node).freeze(False)
        if init := self._init_pid(node):
            with contextlib.suppress(ProcessLookupError):
                os.kill(init, signal.SIGKILL)

    def _wait_gone(self, node: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self._nspawn_pid(node):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    # ---- processes ---------------------------------------------------------------------------

    def _nspawn_pid(self, node: str) -> int | None:
        """The node's systemd-nspawn while it runs: the process labgen recorded when it started it
        (PID and start time), root's, running the real systemd-nspawn, inside the node's cgroup.
        Nothing else counts, whatever its command line says: any user can start a process that
        calls itself `systemd-nspawn -M labgen-LAB.NODE`."""
        recorded = host.ProcessId.parse(_read(self._pid_file(node)))
        if recorded is None or not host.is_running(recorded):
            return None
        pid = recorded.pid
        if host.owner(pid) != 0 or host.executable(pid) != NSPAWN or not self._group(node).contains(pid):
            return None
        return pid

    def _init_pid(self, node: str) -> int | None:
        """The container's PID 1 as the host sees it: nspawn's child that is PID 1 inside."""
        nspawn = self._nspawn_pid(node)
        if nspawn is None:
            return None
        cached = self._inits.get(node)
        if cached and host.parent(cached) == nspawn:
            return cached
        for pid in host.children(nspawn):
            if host.pid_in_its_namespace(pid) == 1:
                self._inits[node] = pid
                return pid
        return None


# ---- host helpers (module level: no lab state) ---------------------------------------------


def _unmount(path: Path) -> None:
    if host.is_mount(path):
        _host(["umount", str(path)])


def _ensure_nspawn_tmpfs() -> None:
    """nspawn cleans /run/systemd/nspawn/propagate only on a tmpfs; /run is not one here."""
    if host.is_mount(NSPAWN_RUN):
        return
    NSPAWN_RUN.mkdir(parents=True, exist_ok=True)
    _host(["mount", "-t", "tmpfs", "-o", "mode=0755,size=16m", TMPFS_SOURCE, str(NSPAWN_RUN)])


def _release_nspawn_tmpfs() -> None:
    """Unmount labgen's tmpfs once no container runs on the host any more.

    A propagation dir whose nspawn is gone (killed behind labgen's back, or left by an earlier run
    on this host) is stale: it is removed, so that it cannot keep the tmpfs mounted for good."""
    if not any(m.source == TMPFS_SOURCE and m.target == str(NSPAWN_RUN) for m in host.mounts()):
        return
    running = _running_machines()
    propagate = NSPAWN_RUN / "propagate"
    for entry in sorted(propagate.iterdir()) if propagate.is_dir() else []:
        if entry.name not in running and not host.is_mount(entry):
            shutil.rmtree(entry, ignore_errors=True)
    if not running:
        subprocess.run(["umount", str(NSPAWN_RUN)], capture_output=True, check=False, timeout=HOST_TIMEOUT)


def _running_machines() -> set[str]:
    """The machine names of every systemd-nspawn root runs on the host, labgen's or not: known by
    the executable the kernel runs and its owner, which no seat can forge (a root process's command
    line is root's own)."""
    found = set()
    for pid in host.pids():
        if host.executable(pid) == NSPAWN and host.owner(pid) == 0 and alive(pid):
            found.update(_after(host.cmdline(pid), "-M") or ["?"])
    return found


def _remove_tree(path: Path) -> None:
    """rm -rf, but never through a mount that is still there."""
    if not path.exists():
        return
    inside = host.mounts_inside(path)
    if inside:
        raise LabgenError(f"{inside[0]} is still mounted; unmount it, then run labgen down again")
    subprocess.run(["rm", "-rf", "--one-file-system", str(path)], check=False, timeout=HOST_TIMEOUT)


def _after(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == flag]


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _kernel_has_netem() -> bool:
    modules = Path("/lib/modules") / os.uname().release
    try:
        builtin = "sch_netem.ko" in (modules / "modules.builtin").read_text()
    except OSError:
        builtin = False
    loadable = any(modules.glob("kernel/net/sched/sch_netem.ko*"))
    return Path("/sys/module/sch_netem").exists() or builtin or loadable
