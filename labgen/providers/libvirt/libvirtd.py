"""A private libvirtd (+ virtlogd) per lab, living inside the lab's network namespace.

Why private: the lab's bridges exist only in the lab's network namespace, and libvirt attaches a
VM's NIC to a bridge in the namespace *libvirtd* runs in. A host-wide libvirtd would also put its
management network (and its `default` network) in the host namespace, which the network rule
forbids. So every lab gets its own daemon, started with `ip netns exec NS`.

Why a private mount namespace, and why its directories live under paths.home(), not LAB/state:
two labs' daemons must not share /etc/libvirt (domain and network definitions), /run/libvirt
(sockets, pid files) or /var/lib/libvirt (qemu runtime dirs, dnsmasq leases). `ip netns exec`
already gives the daemon a mount namespace of its own (a slave of the host's, with a fresh /sys);
inside it we bind-mount per-lab directories over those paths, so the daemon runs with its stock
paths and nothing is mounted in the host namespace: the mounts vanish with the last process of
the namespace. The per-lab directories are under paths.home()/libvirt/NAMESPACE because qemu runs
as libvirt-qemu and must traverse them (a lab rendered under /root would not be readable), and
because a unix socket path must stay under 108 bytes. Clients (vagrant, virsh) reach the daemon
through that socket on the host file system, so they need the network namespace only (to ssh to
the guests), never the mount namespace.

No cgroup re-mount: the fresh /sys has no cgroup file systems, so libvirt starts qemu without
cgroups of its own (`virsh suspend` does not need them). Instead the daemons start inside the lab's
cgroup labgen/LAB/machines (labgen.cgroups), joined before `ip netns exec`, and qemu and dnsmasq
inherit it: the lab's VMs are bounded there (pids, memory), and found and killed through it, never
by a pid file alone or a command name. The daemon's config has no networks at all, so no `default`
network can ever autostart.

The storage pool `default` is per lab too; the box image is hard-linked into it under the name
vagrant-libvirt looks for, so no lab uploads the box (and `down` deletes the pool wholesale).

TCG memory: QEMU 7.2 keeps a 1 GiB translation cache per VM. libvirt 9.0 can cap it
(<features><tcg><tb-cache>) but vagrant-libvirt cannot express that element, so the Vagrantfile
points `libvirt.emulator_path` at a tiny wrapper (tcg_emulator()) that turns libvirt's
`-accel tcg` into `-accel tcg,tb-size=128`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape as _xml_escape

from labgen import cgroups, host, paths
from labgen.errors import LabgenError
from labgen.host import HOST_TIMEOUT, alive, wait_reaped
from labgen.poll import wait_for

QEMU = "/usr/bin/qemu-system-x86_64"
TB_CACHE_MIB = 128
# What a lab's daemons may hold besides its VMs' memory: libvirtd, virtlogd, dnsmasq and qemu's
# own (measured: 858 MiB a keepalived-rr seat of two 640 MiB VMs with a 128 MiB TCG cache each)
DAEMONS_MEMORY_MIB = 256
QEMU_OVERHEAD_MIB = TB_CACHE_MIB + 192
LAB_PIDS = 1024  # libvirtd's and virtlogd's threads, a qemu's (a dozen each) and vagrant's helpers

_LIBVIRTD_CONF = """\
# labgen: private libvirtd for one lab (see labgen/libvirtd.py)
unix_sock_group = "root"
unix_sock_ro_perms = "0770"
unix_sock_rw_perms = "0770"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
"""

_QEMU_CONF = """\
# labgen: private libvirtd for one lab (see labgen/libvirtd.py)
# The box's backing image is hard-linked into every lab's pool: never record or restore owners
# through xattrs on it, two daemons would fight over the record.
remember_owner = 0
stdio_handler = "logd"
"""

# Runs inside the mount namespace `ip netns exec` creates; $ROOT, $CACHE, $LOGS come from _launch.
_START_SCRIPT = """\
set -e
mount --make-rslave /
mount --bind "$ROOT/etc" /etc/libvirt
mount --bind "$ROOT/run" /run/libvirt
mount --bind "$ROOT/lib" /var/lib/libvirt
mount --bind "$CACHE" /var/cache/libvirt
mount --bind "$LOGS" /var/log/libvirt
ip link set lo up
virtlogd -d -p "$ROOT/virtlogd.pid"
libvirtd -d -p "$ROOT/libvirtd.pid"
"""


@dataclass(frozen=True)
class Daemon:
    """The private libvirtd of one lab, addressed by the lab's network namespace."""

    namespace: str

    @property
    def root(self) -> Path:
        return paths.home() / "libvirt" / self.namespace

    @property
    def socket(self) -> Path:
        return self.root / "run" / "libvirt-sock"

    @property
    def uri(self) -> str:
        return f"qemu:///system?socket={self.socket}"

    @property
    def pool(self) -> Path:
        return self.root / "images"

    @property
    def group(self) -> cgroups.Group:
        """The cgroup the daemons run in, and every qemu and dnsmasq they start."""
        return cgroups.lab_group(self.namespace).child("machines")

    def pids(self) -> dict[str, int]:
        """The daemons' pids from their pid files, only those alive, root's and in the lab's cgroup:
        a pid file outlives its process, and the pid may be anyone's by now."""
        found = {}
        for name in ("libvirtd", "virtlogd"):
            pid = _read_pid(self.root / f"{name}.pid")
            if pid and alive(pid) and host.owner(pid) == 0 and self.group.contains(pid):
                found[name] = pid
        return found

    def running(self) -> bool:
        return "libvirtd" in self.pids() and self.socket.exists()


def netns_argv(namespace: str, argv: list[str]) -> list[str]:
    """argv run inside the lab's network namespace (vagrant, virsh, ssh, socat)."""
    return ["ip", "netns", "exec", namespace, *argv]


def run(
    namespace: str,
    argv: list[str],
    *,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
    check: bool = False,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run argv in the lab's network namespace, capturing text output."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        netns_argv(namespace, argv),
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
        input=input,
    )


def virsh(namespace: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """virsh against the lab's private daemon (the socket is on the host file system)."""
    argv = ["virsh", "-q", "-c", Daemon(namespace).uri, *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


def start(namespace: str, log_dir: Path, machines: int, machine_mib: int, timeout: float = 30) -> Daemon:
    """Start the lab's libvirtd + virtlogd in its namespace and cgroup; no-op when already running.

    The cgroup is bounded for `machines` VMs of `machine_mib` each, with qemu's own overhead. The
    lab namespace must exist (netns.create_lab_network). Returns once the daemon answers and the
    storage pool `default` is active.
    """
    d = Daemon(namespace)
    if not d.running():
        _stop(d)  # a half-dead pair from an interrupted run
        _prepare_dirs(d, log_dir)
        d.group.create()
        d.group.limit(cgroups.Limits(pids=LAB_PIDS, memory_mb=DAEMONS_MEMORY_MIB
                                     + machines * (machine_mib + QEMU_OVERHEAD_MIB)))
        _launch(d, log_dir)
        wait_for(lambda: virsh(namespace, "version").returncode, lambda rc: rc == 0,
                 expected="libvirtd to answer `virsh version`", timeout=timeout, interval=0.2)
    _ensure_pool(d)
    return d


def stop(namespace: str, timeout: float = 20) -> None:
    """Stop the lab's daemons, then every qemu/dnsmasq left in their cgroup; remove their dirs.

    Idempotent. Call after the domains are destroyed; a qemu still running is killed.
    """
    d = Daemon(namespace)
    _stop(d, timeout)
    if remains := d.group.remains():
        raise LabgenError(f"{remains[0]}: a process of the lab's VMs is left in it; run labgen down again")
    if d.root.exists():
        shutil.rmtree(d.root)


def stop_namespace_processes(namespace: str, timeout: float = 5) -> None:
    """Stop every process still in the lab's network namespace, by pid.

    All of them were started for this lab: an ssh ProxyCommand (socat) whose ssh was killed,
    a vagrant interrupted mid-run. Left alive, they would keep the deleted namespace alive.
    """
    if not Path("/run/netns", namespace).exists():
        return
    done = subprocess.run(
        ["ip", "netns", "pids", namespace], capture_output=True, text=True, check=False, timeout=HOST_TIMEOUT
    )
    pids = [int(word) for word in done.stdout.split() if int(word) != os.getpid()]
    for pid in pids:
        _kill(pid, timeout)
    wait_reaped(pids)


def _prepare_dirs(d: Daemon, log_dir: Path) -> None:
    for sub in ("etc", "run", "lib", "images"):
        (d.root / sub).mkdir(parents=True, exist_ok=True)
    d.root.chmod(0o755)
    (d.root / "lib").chmod(0o755)
    (d.root / "etc" / "qemu" / "networks" / "autostart").mkdir(parents=True, exist_ok=True)
    (d.root / "etc" / "libvirtd.conf").write_text(_LIBVIRTD_CONF)
    (d.root / "etc" / "qemu.conf").write_text(_QEMU_CONF)
    for name in ("virtlogd.conf", "libvirt.conf"):
        src = Path("/etc/libvirt") / name
        if src.exists() and not (d.root / "etc" / name).exists():
            shutil.copy(src, d.root / "etc" / name)
    log_dir.mkdir(parents=True, exist_ok=True)
    _cache_dir().mkdir(parents=True, exist_ok=True)
    for target in ("/run/libvirt", "/var/lib/libvirt", "/var/cache/libvirt", "/var/log/libvirt"):
        Path(target).mkdir(parents=True, exist_ok=True)  # mount points (libvirt's own dirs)


def _cache_dir() -> Path:
    """/var/cache/libvirt, shared by every lab's daemon: its qemu capability probes (~5 s per
    emulator binary) are then done once per host, not once per lab. libvirt replaces those
    files atomically, so daemons sharing them cannot read a torn one."""
    return paths.home() / "libvirt-cache"


def _launch(d: Daemon, log_dir: Path) -> None:
    """The start script in the lab's cgroup (joined before `ip netns exec`: the fresh /sys it gives
    has no cgroup file systems), so the daemons and all they start inherit it."""
    env = {**os.environ, "ROOT": str(d.root), "LOGS": str(log_dir), "CACHE": str(_cache_dir())}
    done = subprocess.run(
        d.group.argv(netns_argv(d.namespace, ["sh", "-c", _START_SCRIPT])),
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if done.returncode != 0:
        raise LabgenError(
            f"could not start the private libvirtd of namespace {d.namespace}: "
            f"{done.stderr.strip() or done.stdout.strip()} (see {log_dir}/libvirtd.log)"
        )


def _ensure_pool(d: Daemon) -> None:
    """The `default` dir pool vagrant-libvirt expects, defined in this lab's daemon only."""
    if virsh(d.namespace, "pool-info", "default").returncode != 0:
        _virsh_ok(d, "pool-define-as", "default", "dir", "--target", str(d.pool))
    info = virsh(d.namespace, "pool-info", "default").stdout
    if "running" not in info:
        _virsh_ok(d, "pool-start", "default")


def define_networks(namespace: str, bridges: dict[str, str]) -> None:
    """Isolated libvirt networks (no IP, no DHCP, no forward) named as in the Vagrantfile, each on
    the lab's own bridge name: vagrant-libvirt finds them by name and only attaches the NICs, and
    labgen plugs its client seat into the same bridges. Idempotent."""
    d = Daemon(namespace)
    for name, bridge in bridges.items():
        if virsh(namespace, "net-info", name).returncode != 0:
            xml = d.root / f"network-{name}.xml"
            xml.write_text(_NETWORK_XML.format(name=_xml(name), bridge=_xml(bridge)))
            _virsh_ok(d, "net-define", str(xml))
        if "Active:         yes" not in virsh(namespace, "net-info", name).stdout:
            _virsh_ok(d, "net-start", name)


_NETWORK_XML = """\
<network>
  <name>{name}</name>
  <bridge name="{bridge}" stp="off" delay="0"/>
</network>
"""


def _virsh_ok(d: Daemon, *args: str) -> str:
    done = virsh(d.namespace, *args)
    if done.returncode != 0:
        raise LabgenError(f"virsh {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def _stop(d: Daemon, timeout: float = 20) -> None:
    """The daemons asked to leave (libvirtd first: it talks to virtlogd), then whatever is left in
    the lab's machines cgroup killed; the cgroup removed."""
    daemons = d.pids()
    for name in ("libvirtd", "virtlogd"):
        if name in daemons:
            _kill(daemons[name], timeout)
    d.group.kill()
    wait_reaped(list(daemons.values()))
    d.group.remove()
    cgroups.lab_group(d.namespace).remove()
    cgroups.remove_top()


def _kill(pid: int, timeout: float) -> None:
    """SIGTERM, then SIGKILL after `timeout`; returns once the pid is gone."""
    host.stop([pid], timeout)


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None




# --- TCG translation-cache cap -----------------------------------------------------------------


def tcg_emulator_path() -> Path:
    """Where the wrapper lives (render needs only the path; up writes it)."""
    return paths.home() / "bin" / f"qemu-system-x86_64-tb{TB_CACHE_MIB}"


def tcg_emulator() -> Path:
    """The qemu wrapper that caps the TCG translation cache; (re)written when missing."""
    wrapper = tcg_emulator_path()
    if not wrapper.exists():
        wrapper.parent.mkdir(parents=True, exist_ok=True)
        wrapper.write_text(_WRAPPER.format(qemu=QEMU, mib=TB_CACHE_MIB))
        wrapper.chmod(0o755)
        paths.home().chmod(0o755)
    return wrapper


_WRAPPER = """\
#!/bin/sh
# labgen: QEMU 7.2 under TCG keeps a 1 GiB translation cache per VM (1.5 GB RSS).
# libvirt runs "{qemu} ... -accel tcg ..."; pass "-accel tcg,tb-size={mib}" instead
# (~440 MB RSS, no slower). Every other argument is passed unchanged.
prev=
for arg in "$@"; do
  shift
  if [ "$prev" = "-accel" ] && [ "$arg" = "tcg" ]; then
    set -- "$@" "tcg,tb-size={mib}"
  else
    set -- "$@" "$arg"
  fi
  prev=$arg
done
exec {qemu} "$@"
"""


# --- KVM probe ---------------------------------------------------------------------------------


def kvm_cache() -> Path:
    return paths.home() / "probe" / "kvm.json"


def cached_kvm() -> bool | None:
    """The last probe's answer for this kernel and qemu, or None (never probes: render uses it)."""
    try:
        data = json.loads(kvm_cache().read_text())
    except (FileNotFoundError, ValueError):
        return None
    return data["kvm"] if data.get("key") == _probe_key() else None


def kvm_works() -> bool:
    """Whether qemu can really run a Linux kernel under KVM here, found by trying; cached under
    paths.home().

    /dev/kvm existing proves nothing, nor does a vcpu that starts: on one machine kind vcpu setup
    aborts (`failed to set MSR 0x10a`), on another a paused machine starts and quits fine, a boot
    sector runs, yet a Linux kernel never prints a line (and vagrant waits 15 min for an IP). So the
    probe boots a kernel with no root file system and waits for its panic: about 1 s under KVM.
    """
    if (known := cached_kvm()) is not None:
        return known
    ok = _try_kvm()
    kvm_cache().parent.mkdir(parents=True, exist_ok=True)
    kvm_cache().write_text(json.dumps({"kvm": ok, "key": _probe_key()}))
    return ok


KVM_PROBE_TIMEOUT = 30.0  # TCG takes 4 s to the same panic; a working KVM, about 1 s


def _try_kvm() -> bool:
    kernel = _probe_kernel()
    if not os.path.exists("/dev/kvm") or not os.path.exists(QEMU) or kernel is None:
        return False
    argv = [QEMU, "-accel", "kvm", "-machine", "pc", "-cpu", "host", "-m", "128", "-nodefaults",
            "-display", "none", "-no-reboot", "-serial", "stdio", "-kernel", str(kernel),
            "-append", "console=ttyS0 panic=-1"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=KVM_PROBE_TIMEOUT,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return False
    return "Kernel panic" in done.stdout


def _probe_kernel() -> Path | None:
    """A Linux kernel to boot: the host's, else one from labgen's container roots."""
    found = sorted(Path("/boot").glob("vmlinuz-*")) + sorted(paths.boxes_dir().glob("*/root/boot/vmlinuz-*"))
    return found[0] if found else None


def _probe_key() -> str:
    """Kernel release + qemu binary mtime: the probe is redone when either changes."""
    try:
        qemu_mtime = int(os.stat(QEMU).st_mtime)
    except FileNotFoundError:
        qemu_mtime = 0
    return f"boots-a-kernel:{os.uname().release}:{qemu_mtime}"


def _xml(text: str) -> str:
    """Text for an XML attribute or element (names come from blueprints)."""
    return _xml_escape(text, {'"': "&quot;"})
