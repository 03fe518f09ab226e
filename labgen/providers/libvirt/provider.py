"""The libvirt provider: real VMs through `vagrant up --provider libvirt` on the lab's Vagrantfile.

The Vagrantfile runs unchanged with plain `vagrant up` on a laptop; labgen points it through the
environment (vagrant_env) at the lab's own network namespace and a private libvirtd inside it
(labgen/libvirtd.py). There labgen defines the lab networks itself, isolated and on its own bridge
names, so vagrant-libvirt only attaches the NICs and the client seat plugs into the same bridges;
vagrant-libvirt brings its own isolated management network. vagrant runs inside that namespace too,
because it ssh-es to the guests' management addresses.
Everything after `up` avoids vagrant (a Ruby start costs 1.5-3 s per call): status, freeze, link
and reset go to virsh on the private socket, exec goes through plain ssh with the lab's ssh_config
(as root, like every provider; ControlMaster under LAB/state/ControlPersist, ProxyCommand into the
namespace), usable from the host namespace by `ssh -F LAB/ssh_config NODE` and by testinfra.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar, TextIO
from xml.etree import ElementTree

import vagrant

from labgen import netns
from labgen.boxes.releases import DEFAULT as DEFAULT_BOX
from labgen.boxes.releases import release
from labgen.errors import LabgenError
from labgen.lab import LabSpec
from labgen.locks import host_lock
from labgen.poll import wait_for
from labgen.progress import Progress
from labgen.providers.base import EXEC_TIMEOUT, Provider
from labgen.providers.libvirt import libvirtd, saved, vagrant_box

MEMORY_MIB = 640
CPUS = 1
SNAPSHOT = "labgen-up"  # each machine's internal snapshot (disk and memory) taken at the end of up
RESET_TIMEOUT = 300.0  # saving or loading 640 MiB of memory under TCG on a loaded host
_STATES = {"running": "running", "paused": "frozen", "shut off": "stopped", "crashed": "stopped"}


def render_context(spec: LabSpec) -> dict:
    """The `libvirt` variable of Vagrantfile.j2, from the lab alone (its features say KVM or TCG)."""
    kvm = spec.features.get("kvm", False)
    return {
        "driver": "kvm" if kvm else "qemu",
        "cpu_mode": "host-passthrough" if kvm else "custom",
        "cpu_model": "" if kvm else "qemu64",
        "emulator": "" if kvm else str(libvirtd.tcg_emulator_path()),
        "tb_cache_mib": libvirtd.TB_CACHE_MIB,
        "insert_key": False,  # the machines are reachable only inside the lab namespace
        "memory": MEMORY_MIB,
        "cpus": CPUS,
        "default_prefix": plain_prefix(spec),
        "networks": {name: plain_prefix(spec) + name for name in spec.networks},
        "netmasks": {
            name: str(ipaddress.ip_network(net.cidr, strict=False).netmask)
            for name, net in spec.networks.items()
        },
        "box": ", ".join(sorted({vagrant_box_for(node.box) for node in spec.nodes})),
        "release": ", ".join(_release_text(box) for box in spec.boxes),
        "boxes": {node.name: vagrant_box_for(node.box) for node in spec.nodes},
    }


def _release_text(box: str) -> str:
    """debian-13 reads "Debian 13, trixie" in the Vagrantfile's header."""
    rel = release(box)
    return f"{rel.distro.capitalize()} {rel.version}, {rel.suite}"


# What machine and network names start with in a lab's private libvirtd (LABGEN_NAME_PREFIX in
# the Vagrantfile): the same in every lab, so that a saved lab restores as any other
NAME_PREFIX = "lab-"




def vagrant_env(spec: LabSpec) -> dict[str, str]:
    """What points the lab's Vagrantfile at labgen's private libvirtd and client seat: without
    these, the same file runs with plain `vagrant up` on the system libvirt."""
    return {
        **vagrant_box.vagrant_env(),
        "LABGEN_LIBVIRT_URI": libvirtd.Daemon(spec.namespace).uri,
        "LABGEN_CLIENT_SEAT": "netns",
        "LABGEN_NAME_PREFIX": NAME_PREFIX,
        # what labgen found working here by booting a kernel: /dev/kvm alone proves nothing
        "LABGEN_LIBVIRT_DRIVER": render_context(spec)["driver"],
    }


def _local_boxes(spec: LabSpec) -> set[str]:
    """The labgen-built boxes the nodes use (a name with a slash is a public vagrant box)."""
    return {node.box for node in spec.nodes if "/" not in node.box}


def vagrant_box_for(box: str) -> str:
    """A labgen-built box ("debian-12") by its vagrant name; a public box name ("x/y") as is."""
    return box if "/" in box else vagrant_box.box_name(box)


def plain_prefix(spec: LabSpec) -> str:
    """What names start with under plain vagrant: the lab's name, so labs on one libvirt differ."""
    return f"{spec.name}-"


def domain_name(prefix: str, node: str) -> str:
    """The libvirt domain vagrant-libvirt creates for node (its build_domain_name rule)."""
    return re.sub(r"[^-a-z0-9_.]", "", f"{prefix}{node}", flags=re.IGNORECASE)


class _NetnsVagrant(vagrant.Vagrant):
    """python-vagrant, with every vagrant command run inside the lab's network namespace."""

    def __init__(self, namespace: str, **kwargs):
        super().__init__(**kwargs)
        self.namespace = namespace

    def _make_vagrant_command(self, args):
        return libvirtd.netns_argv(self.namespace, super()._make_vagrant_command(args))


class LibvirtProvider(Provider):
    name: ClassVar[str] = "libvirt"
    box_kind: ClassVar[str] = "vagrant box"
    node_memory_mb: ClassVar[int] = MEMORY_MIB  # under TCG a VM touches about 440 MB of it as it runs
    node_disk_mb: ClassVar[int] = 400  # its disk overlay after up

    # --- host ---------------------------------------------------------------------------------

    @classmethod
    def features(cls) -> dict[str, bool]:
        """The guest kernel (Debian's) has ip_vs, whatever the host kernel lacks; KVM as the cached
        probe found it (`up` probes before rendering), recorded in lab.json so `up` never guesses."""
        return {"ip_vs": True, "kvm": libvirtd.cached_kvm() is True}

    @classmethod
    def emulates(cls, spec: LabSpec) -> bool:
        return not spec.features.get("kvm", False)

    @classmethod
    def prepare_host(cls) -> None:
        """Try KVM once (cached), so the Vagrantfile rendered for this lab uses it where it works."""
        libvirtd.kvm_works()

    @classmethod
    def missing(cls, boxes: Iterable[str] = (DEFAULT_BOX,)) -> list[tuple[str, str]]:
        found = []
        for tool, piece, package in _TOOLS:
            if shutil.which(tool) is None and not Path(tool).exists():
                found.append((piece, f"apt-get install {package}"))
        if not _plugin_installed():
            found.append(("the vagrant-libvirt plugin", "apt-get install vagrant-libvirt"))
        for box in sorted({box for box in boxes if "/" not in box}):  # not a public vagrant box
            if not vagrant_box.is_current(box):
                build = f"labgen box build {box} --for libvirt"
                found.append((f"the box {vagrant_box.box_name(box)}", build))
        return found

    # --- lifecycle ----------------------------------------------------------------------------

    def up(self, progress: Progress, *, fresh: bool = False) -> None:
        """Probe, box, namespace, daemon, then the machines restored from a saved lab of them, or
        (none yet, or fresh) `vagrant up` and the save; ssh_config. Each step skips what exists, so
        calling it again after a failure continues where it stopped."""
        spec = self.lab.spec
        with progress.step("KVM or TCG (tried once, then cached)"):
            kvm = libvirtd.kvm_works()
        tcg = not spec.features.get("kvm", False)
        progress.note("KVM works here" if kvm else "KVM does not work here: TCG, about 50 s for two VMs")
        if kvm and tcg:
            progress.note("this Vagrantfile was rendered for TCG before the probe: it runs as TCG")
        for box in sorted(_local_boxes(spec)):
            vagrant_box.build(box, progress)
        with progress.step(f"lab namespace {spec.namespace}"):
            netns.create_namespace(spec)
        with progress.step("private libvirtd inside the lab namespace"):
            libvirtd.start(spec.namespace, self.lab.logs_dir / "libvirt", len(spec.nodes), MEMORY_MIB)
            if tcg:
                libvirtd.tcg_emulator()
        with progress.step("lab networks (isolated libvirt networks) and the client seat on their bridges"):
            bridges = {self._libvirt_network(name): net.bridge for name, net in spec.networks.items()}
            libvirtd.define_networks(spec.namespace, bridges)
            netns.create_client_seat(spec)
        with progress.step("box image into the lab's storage pool (hard link)"):
            self._link_boxes()
        save = None if fresh else self._usable_save(progress)
        if save is not None:
            self._restore(save, progress)
        else:
            self._vagrant_up(progress)
            with progress.step("ssh config for ssh -F and testinfra"):
                self._write_ssh_config()
            self._save_once(progress)
        if saved.stands_on(self.lab) is None:  # no save to reset from (saving failed): a snapshot
            with progress.step(f"snapshot {SNAPSHOT} of each machine, for labgen reset"):
                self._snapshot()
        progress.note(f"ssh -F {self.lab.ssh_config} {spec.preferred.name}")

    def reset(self, progress: Progress) -> None:
        """Each machine back to the saved lab it stands on (a fresh overlay on the saved disk, its
        memory restored), else to its snapshot from the end of `up`; clocks set to now. The lab's
        networks and secrets are untouched."""
        self._close_masters()  # their TCP state is gone with the machines' memory
        record = saved.stands_on(self.lab)
        if record is None:
            self._revert(progress)
            return
        key = record["key"]
        save = saved.find(key)[0]
        if save is None:  # such a lab took no snapshot: there is nothing else to go back to
            raise LabgenError(f"lab {self.lab.name} stands on saved lab {key[:12]}, which is missing or "
                              f"damaged (`labgen box saved`): `labgen down {self.lab.name}` then up")
        nodes = [node.name for node in self.lab.spec.nodes]
        with progress.step(f"{', '.join(nodes)} restored from saved lab {key[:12]}, on fresh disk overlays"):
            for node in nodes:
                self._virsh("destroy", self._domain(node))
                disk = libvirtd.Daemon(self.lab.spec.namespace).pool / self._disk_name(save, node)
                disk.unlink(missing_ok=True)
            self._restore_machines(save, nodes)
        with progress.step("clocks set to now (a restored machine wakes at the time it was saved)"):
            self._set_clocks()

    def _revert(self, progress: Progress) -> None:
        domains = [self._domain(node.name) for node in self.lab.spec.nodes]
        with progress.step(f"{', '.join(domains)} back to snapshot {SNAPSHOT}"):
            for domain in domains:  # paused, then all resumed at once: as they were saved
                self._virsh("snapshot-revert", domain, SNAPSHOT, "--paused", "--force", timeout=RESET_TIMEOUT)
            for domain in domains:
                self._virsh("resume", domain)
        with progress.step("clocks set to now (a reverted machine wakes at the snapshot's time)"):
            self._set_clocks()

    def _set_clocks(self) -> None:
        """A reverted or restored machine wakes at the time it was saved: its clock set to now, on
        every machine at once. The ssh connection is made first (1-3 s under TCG), so that the time
        sent is the time it arrives."""

        def set_clock(node: str) -> None:
            # a machine just restored may not answer at once: ssh retried, bounded
            wait_for(lambda: self.exec(node, ["true"], timeout=60).returncode, lambda code: code == 0,
                     expected=f"ssh into {node} to answer after its restore (exit 0)", timeout=120,
                     interval=0.5)
            done = self.exec(node, ["date", "-s", f"@{time.time():.3f}"], timeout=60)
            if done.returncode != 0:
                raise LabgenError(f"{node}: its clock could not be set after its restore (exit "
                                  f"{done.returncode}): {(done.stderr or done.stdout).strip()}")

        with ThreadPoolExecutor() as pool:
            list(pool.map(set_clock, [node.name for node in self.lab.spec.nodes]))  # re-raises

    # --- saved labs (saved.py) ----------------------------------------------------------------

    def restorable_secret(self) -> str | None:
        if not all(vagrant_box.is_current(box) for box in _local_boxes(self.lab.spec)):
            return None
        save, _ = saved.find(self._save_key())
        return save.secret if save else None

    def restored_from(self) -> str | None:
        record = saved.stands_on(self.lab)
        return record["key"] if record and record["restored"] else None

    def _save_key(self) -> str:
        context = render_context(self.lab.spec)
        shape = ("driver", "cpu_mode", "cpu_model", "emulator", "tb_cache_mib", "memory", "cpus", "boxes")
        return saved.key(self.lab, {name: context[name] for name in shape})

    def _usable_save(self, progress: Progress) -> saved.Save | None:
        """The saved lab to restore: for machines not made yet, and with this lab's secret."""
        if any(self._domstate(node.name) != "absent" for node in self.lab.spec.nodes):
            return None  # an up cut short after its machines were made: vagrant finishes it
        save, why = saved.find(self._save_key())
        if why:
            progress.note(why)
        if save is not None and save.secret != self.lab.spec.secret:
            progress.note("the saved lab of these machines has another secret than this lab (--set): "
                          "this lab boots fresh")
            return None
        return save

    def _save_once(self, progress: Progress) -> None:
        """The freshly provisioned machines saved for every later lab of them, unless saved already."""
        key = self._save_key()
        with host_lock(f"saved-{key[:16]}", "saving a provisioned lab", RESET_TIMEOUT):
            if saved.find(key)[0] is not None:
                return
            saved.clear_staging()
            with progress.step(f"machines saved (memory, disk) as lab {key[:12]}: later labs restore it"):
                save = self._save(key)
            saved.stand_on(self.lab, key, restored=False)
            progress.note(f"saved lab {key[:12]}: {save.size_bytes / 2**20:.0f} MiB in {save.folder}")

    def _save(self, key: str) -> saved.Save:
        """All machines paused, each saved (it stops) and its disk copied while stopped, then all
        restored from what was saved and resumed together, as they were."""
        nodes = [node.name for node in self.lab.spec.nodes]
        domain_xml = {node: self._virsh("dumpxml", self._domain(node)) for node in nodes}
        for node in nodes:  # what the provisioners wrote on disk, not only in the saved page cache:
            self.exec(node, ["sync"], timeout=120)  # a restored lab's power cut must not lose it
        folder = saved.staging(key)
        for node in nodes:
            self._virsh("suspend", self._domain(node))
        try:
            for node in nodes:
                self._virsh("save", self._domain(node), str(folder / f"{node}.state"), timeout=RESET_TIMEOUT)
            for node in nodes:
                self._copy_disk(saved.disk_of(domain_xml[node]), folder / f"{node}.qcow2",
                                self.lab.spec.node(node).box)
            self._copy_management_network(folder)
            raw = (self.lab.state_dir / "vagrant-ssh-config").read_text()
            (folder / "vagrant-ssh-config").write_text(raw)
            meta = {"key": key, "blueprint": self.lab.spec.blueprint, "boxes": self.lab.spec.boxes,
                    "secret": self.lab.spec.secret, "saved_from": self.lab.name,
                    "disks": {node: saved.disk_of(domain_xml[node]).name for node in nodes}}
            save = saved.seal(folder, key, meta)
        finally:
            state_dir = saved.saved_dir() / key if (saved.saved_dir() / key).is_dir() else folder
            self._restore_saved_machines(state_dir, nodes)
            if folder.exists():
                shutil.rmtree(folder, ignore_errors=True)
        return save

    def _copy_disk(self, disk: Path, copy: Path, box: str) -> None:
        """The machine's overlay, sparse, its backing file the box image itself (not the lab's link)."""
        subprocess.run(["cp", "--sparse=always", str(disk), str(copy)], check=True, timeout=RESET_TIMEOUT)
        saved.qemu_img("rebase", "-u", "-F", "qcow2", "-b", str(vagrant_box.image_path(box)), str(copy))
        copy.chmod(0o644)

    def _copy_management_network(self, folder: Path) -> None:
        """vagrant-libvirt's management network and its DHCP leases: restored, a machine keeps the
        address its saved memory holds, and libvirt's dnsmasq knows it."""
        (folder / "management-network.xml").write_text(self._virsh("net-dumpxml", saved.MANAGEMENT_NETWORK))
        for lease in saved.lease_files(libvirtd.Daemon(self.lab.spec.namespace)):
            shutil.copy(lease, folder / f"lease-{lease.name}")

    def _restore_saved_machines(self, folder: Path, nodes: list[str]) -> None:
        """The machines `_save` stopped, back from their saved state (their disks are theirs)."""
        for node in nodes:
            state = folder / f"{node}.state"
            if self._domstate(node) == "stopped" and state.exists():
                self._virsh("restore", str(state), "--paused", timeout=RESET_TIMEOUT)
        for node in nodes:
            self.freeze(node, False)

    def _restore(self, save: saved.Save, progress: Progress) -> None:
        """Each machine restored (paused) from the save onto an overlay of its own, all resumed
        together; the management network with its leases first; vagrant told their ids."""
        nodes = [node.name for node in self.lab.spec.nodes]
        with progress.step(f"{', '.join(nodes)} restored from saved lab {save.folder.name[:12]} "
                           "(no boot, no provisioning)"):
            self._restore_management_network(save)
            saved.stand_on(self.lab, save.folder.name, restored=True)
            self._restore_machines(save, nodes)
            self._virsh("pool-refresh", "default")
        raw = (save.folder / "vagrant-ssh-config").read_text()
        (self.lab.state_dir / "vagrant-ssh-config").write_text(raw)
        self.lab.ssh_config.write_text(self._ssh_config_text(raw, "root"))
        with progress.step("clocks set to now (a restored machine wakes at the time it was saved)"):
            self._set_clocks()

    def _disk_name(self, save: saved.Save, node: str) -> str:
        """The machine's disk file in the pool, named as vagrant-libvirt named it when it was saved."""
        return save.meta["disks"][node]

    def _restore_management_network(self, save: saved.Save) -> None:
        if self._virsh_run("net-info", saved.MANAGEMENT_NETWORK).returncode != 0:
            leases = libvirtd.Daemon(self.lab.spec.namespace).root / "lib" / "dnsmasq"
            leases.mkdir(parents=True, exist_ok=True)
            for lease in save.folder.glob("lease-*.status"):
                shutil.copy(lease, leases / lease.name.removeprefix("lease-"))
            self._virsh("net-define", str(save.folder / "management-network.xml"))
        if "Active:         yes" not in self._virsh("net-info", saved.MANAGEMENT_NETWORK):
            self._virsh("net-start", saved.MANAGEMENT_NETWORK)

    def _restore_machines(self, save: saved.Save, nodes: list[str]) -> None:
        """All restored at once (each paused), then all resumed together, as they were saved.
        vagrant-libvirt's management bridge runs STP: a restored machine's new port forwarded only
        after about 3 s, and the first ssh into it failed (No route to host)."""
        management = ElementTree.fromstring(self._virsh("net-dumpxml", saved.MANAGEMENT_NETWORK))
        netns.without_stp(self.lab.spec, management.find("bridge").get("name"))
        with ThreadPoolExecutor() as pool:
            list(pool.map(lambda node: self._restore_machine(save, node), nodes))  # re-raises
        for node in nodes:
            self.freeze(node, False)

    def _restore_machine(self, save: saved.Save, node: str) -> None:
        """A qcow2 overlay on the saved disk, the saved state restored onto it, the machine defined
        (a restored machine is transient: a `reset` fault's power-off would remove it)."""
        xml = self._virsh("save-image-dumpxml", str(save.state(node)))
        disk = libvirtd.Daemon(self.lab.spec.namespace).pool / self._disk_name(save, node)
        if not disk.exists():
            saved.qemu_img("create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(save.disk(node)),
                           str(disk))
        path = self.lab.state_dir / f"restore-{node}.xml"
        path.write_text(saved.with_disk(xml, disk))
        self._virsh("restore", str(save.state(node)), "--xml", str(path), "--paused", timeout=RESET_TIMEOUT)
        self._virsh("define", str(path))
        machine = self.lab.path / ".vagrant" / "machines" / node / "libvirt"
        machine.mkdir(parents=True, exist_ok=True)
        (machine / "id").write_text(saved.uuid_of(xml))

    def _snapshot(self) -> None:
        """Every machine paused, saved, then all resumed together: saved one at a time while the
        other ran on, a node would miss its peer's heartbeats for seconds and the cluster would
        fail over during `up` (guest clocks stand still while paused under TCG)."""
        domains = [self._domain(node.name) for node in self.lab.spec.nodes]
        fresh = [d for d in domains if SNAPSHOT not in self._virsh("snapshot-list", d, "--name").split()]
        if not fresh:
            return
        for domain in domains:
            self._virsh("suspend", domain)
        try:
            for domain in fresh:
                self._virsh("snapshot-create-as", domain, SNAPSHOT, "--atomic",
                            "--description", "the machine as labgen up left it", timeout=RESET_TIMEOUT)
        finally:
            for domain in domains:
                self._virsh("resume", domain)

    def down(self) -> None:
        """Domains (vagrant destroy -f; virsh as fallback), daemons, namespace; idempotent."""
        spec = self.lab.spec
        daemon = libvirtd.Daemon(spec.namespace)
        self._close_masters()
        if daemon.running():
            for node in spec.nodes:  # a domain with snapshots is not undefined: only their metadata
                libvirtd.virsh(spec.namespace, "snapshot-delete", self._domain(node.name), SNAPSHOT,
                               "--metadata")
            # vagrant takes 40 s to destroy machines it did not make (restored ones): virsh below
            if (self.lab.path / ".vagrant").is_dir() and self.restored_from() is None:
                self._vagrant_destroy()
            for node in spec.nodes:  # whatever vagrant did not know about (interrupted up)
                libvirtd.virsh(spec.namespace, "destroy", self._domain(node.name))
        libvirtd.stop(spec.namespace)
        for namespace in (spec.namespace, spec.client_namespace):
            libvirtd.stop_namespace_processes(namespace)
        netns.delete_lab_network(spec)
        self.lab.ssh_config.unlink(missing_ok=True)
        shutil.rmtree(self.lab.path / ".vagrant", ignore_errors=True)

    # --- state and faults ---------------------------------------------------------------------

    def status(self) -> dict[str, str]:
        spec = self.lab.spec
        if not libvirtd.Daemon(spec.namespace).running():
            return {node.name: "absent" for node in spec.nodes}
        return {node.name: self._domstate(node.name) for node in spec.nodes}

    def exec(
        self, node: str, argv: list[str], *, timeout: float | None = EXEC_TIMEOUT, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """ssh as root through the ControlMaster: about 0.1 s per call once the master is up."""
        ssh = self.node_argv(node, argv)
        # own process group: on timeout, ssh AND its ProxyCommand (socat) are killed together
        proc = subprocess.Popen(
            ssh,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            return subprocess.CompletedProcess(ssh, 124, out, err + "\ntimed out")
        return subprocess.CompletedProcess(ssh, proc.returncode, out, err)

    def node_argv(self, node: str, argv: list[str]) -> list[str]:
        self.lab.spec.node(node)
        return ["ssh", "-F", str(self.ssh_config()), "-o", "BatchMode=yes", node, shlex.join(argv)]

    def freeze(self, node: str, frozen: bool) -> None:
        """virsh suspend/resume; idempotent (thawing a running node is a no-op, as heal() needs)."""
        state = self._domstate(node)
        if frozen and state == "running":
            self._virsh("suspend", self._domain(node))
        elif not frozen and state == "frozen":
            self._virsh("resume", self._domain(node))

    def mac(self, node: str, network: str) -> str:
        self._network(network)
        return self._mac_on(node, self._libvirt_network(network))

    def set_link(self, node: str, network: str, up: bool) -> None:
        """Link state of the NIC on that network's bridge, as the guest sees it (NO-CARRIER)."""
        self._network(network)
        mac = self._mac_on(node, self._libvirt_network(network))
        self._virsh("domif-setlink", self._domain(node), mac, "up" if up else "down")

    def power(self, node: str, on: bool) -> None:
        """virsh destroy (the plug) or start; the node's ssh master dies with the machine's TCP."""
        state = self._domstate(node)
        if not on and state in ("running", "frozen"):
            self._close_masters([node])
            self._virsh("destroy", self._domain(node))
        elif on and state == "stopped":
            self._virsh("start", self._domain(node))

    # --- helpers ------------------------------------------------------------------------------

    def _vagrant(self, log: Path) -> _NetnsVagrant:
        env = {**os.environ, **vagrant_env(self.lab.spec)}
        return _NetnsVagrant(
            self.lab.spec.namespace,
            root=str(self.lab.path),
            env=env,
            out_cm=vagrant.make_file_cm(str(log)),
            err_cm=vagrant.make_file_cm(str(log)),
        )

    def _vagrant_up(self, progress: Progress) -> None:
        """vagrant up, its milestones (==> lines) shown with elapsed time, all of it logged."""
        log = self.lab.logs_dir / "vagrant-up.log"
        nodes = ", ".join(n.name for n in self.lab.spec.nodes)
        begun = time.monotonic()
        with progress.step(f"vagrant up --provider libvirt ({nodes}); log: {log}"), _append(log) as out:
            lines = self._vagrant(log).up(provider="libvirt", stream_output=True)
            try:
                for line in lines:
                    out.write(line)
                    out.flush()
                    if step := _milestone(line):
                        progress.note(f"[{time.monotonic() - begun:5.1f} s] {step}")
            except subprocess.CalledProcessError:
                raise LabgenError(f"vagrant up failed: {_tail(log)} (full log: {log})") from None

    def _vagrant_destroy(self) -> None:
        log = self.lab.logs_dir / "vagrant-destroy.log"
        # on failure: the daemon is stopped and its state removed right after, nothing survives
        with contextlib.suppress(subprocess.CalledProcessError):
            self._vagrant(log).destroy()

    def _link_boxes(self) -> None:
        """Hard-link each box image into the lab's pool under vagrant-libvirt's volume name."""
        daemon = libvirtd.Daemon(self.lab.spec.namespace)
        for box in _local_boxes(self.lab.spec):
            target = daemon.pool / vagrant_box.pool_volume_name(box)
            if not target.exists():
                os.link(vagrant_box.image_path(box), target)
        libvirtd.virsh(daemon.namespace, "pool-refresh", "default")

    def _write_ssh_config(self) -> None:
        """LAB/ssh_config from one `vagrant ssh-config`, reachable from the host namespace.

        Vagrant logs in as `vagrant`; the lab's config logs in as root with the same key, so
        `ssh -F`, exec and testinfra see a node as with every provider: root, no sudo.
        """
        raw = self._vagrant(self.lab.logs_dir / "vagrant-ssh-config.log").ssh_config()
        (self.lab.state_dir / "vagrant-ssh-config").write_text(raw)
        staged = self.lab.state_dir / "ssh_config.vagrant"
        staged.write_text(self._ssh_config_text(raw, "vagrant"))
        self._authorize_root(staged, [node.name for node in self.lab.spec.nodes])
        self.lab.ssh_config.write_text(self._ssh_config_text(raw, "root"))

    def _ssh_config_text(self, raw: str, user: str) -> str:
        """vagrant's Host entries + ProxyCommand into the namespace + a ControlMaster per node."""
        masters = self._masters_dir()
        masters.mkdir(parents=True, exist_ok=True)
        ns = self.lab.spec.namespace
        extra = [
            f"  ProxyCommand ip netns exec {ns} socat - TCP:%h:%p,connect-timeout=10",
            "  ControlMaster auto",
            f"  ControlPath {masters}/%r@%n",
            "  ControlPersist 10m",
            "  ConnectTimeout 10",
            "  ServerAliveInterval 5",
        ]
        out = []
        for line in raw.splitlines():
            out.append(f"  User {user}" if line.strip().startswith("User ") else line)
            if line.startswith("Host "):
                out.extend(extra)
        return "\n".join(out) + "\n"

    def _authorize_root(self, config: Path, nodes: list[str]) -> None:
        """Copy vagrant's authorized key to root's, on all nodes at once (one ssh handshake costs
        1-2 s under TCG), then sync: a `reset` fault pulls the plug, and ext4 writes new files
        back only after 30 s, so without it the key and the provisioner's files could be lost."""
        script = (
            "sudo install -d -m 700 /root/.ssh && "
            "sudo install -m 600 .ssh/authorized_keys /root/.ssh/authorized_keys && sudo sync"
        )
        argv = ["ssh", "-F", str(config), "-o", "ControlMaster=no", "-o", "ControlPath=none"]
        running = {
            node: subprocess.Popen(
                [*argv, node, script], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
            )
            for node in nodes
        }
        for node, proc in running.items():
            _, err = proc.communicate(timeout=60)
            if proc.returncode != 0:
                raise LabgenError(f"could not let root log in on {node}: {err.strip()}")

    def _masters_dir(self) -> Path:
        """LAB/state/ControlPersist, unless that path leaves ssh too little of the 108 bytes a
        unix socket path may have (ssh appends a 17-character suffix while creating it)."""
        folder = self.lab.state_dir / "ControlPersist"
        if len(str(folder)) <= 80:
            return folder
        return libvirtd.Daemon(self.lab.spec.namespace).root / "ControlPersist"

    def _close_masters(self, nodes: list[str] | None = None) -> None:
        """Stop the ssh ControlMasters labgen started (ssh -O exit asks each one to leave)."""
        if not self.ssh_config().exists():
            return
        for node in nodes or [n.name for n in self.lab.spec.nodes]:
            subprocess.run(
                ["ssh", "-F", str(self.ssh_config()), "-O", "exit", node],
                capture_output=True,
                timeout=10,
                check=False,
            )

    @property
    def name_prefix(self) -> str:
        """What its machine and network names start with in libvirt (LABGEN_NAME_PREFIX)."""
        return NAME_PREFIX

    def _domain(self, node: str) -> str:
        return domain_name(self.name_prefix, self.lab.spec.node(node).name)

    def _libvirt_network(self, network: str) -> str:
        return f"{self.name_prefix}{network}"

    def _domstate(self, node: str) -> str:
        done = self._virsh_run("domstate", self._domain(node))
        if done.returncode != 0:
            return "absent"
        return _STATES.get(done.stdout.strip(), "stopped")

    def _mac_on(self, node: str, network: str) -> str:
        """The MAC of the machine's NIC on that libvirt network, read from its domain XML."""
        domain = ElementTree.fromstring(self._virsh("dumpxml", self._domain(node)))
        for nic in domain.iterfind("./devices/interface"):
            source, mac = nic.find("source"), nic.find("mac")
            if source is not None and mac is not None and source.get("network") == network:
                return mac.get("address", "")
        raise LabgenError(f"node {node} has no NIC on libvirt network {network}")

    def _network(self, network: str):
        try:
            return self.lab.spec.networks[network]
        except KeyError:
            known = ", ".join(self.lab.spec.networks)
            raise LabgenError(
                f"lab {self.lab.name!r} has no network {network!r}; its networks: {known}"
            ) from None

    def _virsh_run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """virsh against the libvirtd holding this lab's machines (labgen's private one)."""
        return libvirtd.virsh(self.lab.spec.namespace, *args, timeout=timeout)

    def _virsh(self, *args: str, timeout: float = 60) -> str:
        done = self._virsh_run(*args, timeout=timeout)
        if done.returncode != 0:
            raise LabgenError(f"virsh {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout


_TOOLS = [
    ("vagrant", "vagrant", "vagrant"),
    ("/usr/sbin/libvirtd", "libvirtd", "libvirt-daemon-system"),
    ("virsh", "virsh", "libvirt-clients"),
    ("qemu-system-x86_64", "qemu-system-x86", "qemu-system-x86"),
    ("qemu-img", "qemu-img", "qemu-utils"),
    ("/usr/sbin/dnsmasq", "dnsmasq", "dnsmasq-base"),
    ("socat", "socat", "socat"),
]


def _plugin_installed() -> bool:
    """vagrant-libvirt, as a Debian package or a vagrant plugin (no slow `vagrant plugin list`)."""
    patterns = [
        "/usr/share/rubygems-integration/all/gems/vagrant-libvirt-*",
        "/usr/share/vagrant-plugins/plugins.d/vagrant-libvirt.json",
        str(vagrant_box.vagrant_home() / "gems/*/gems/vagrant-libvirt-*"),
        str(Path.home() / ".vagrant.d/gems/*/gems/vagrant-libvirt-*"),
    ]
    return any(Path("/").glob(p.lstrip("/")) for p in patterns)


@contextmanager
def _append(path: Path) -> Iterator[TextIO]:
    with path.open("a") as out:
        yield out


_NOISE = re.compile(
    r"^==> [\w.-]+:\s+(-- |No version detected|generating a local metadata|See https://"
    r"|better handling|Creating shared folders)"
)


_PROVISION_STEP = re.compile(r"^\s+[\w.-]+: == ")  # the provisioners' "== NODE: [i/n] step"


def _milestone(line: str) -> str | None:
    """What a person follows: vagrant's "==> NODE: step" lines (without the domain settings
    dump and box warnings) and the provisioners' own step lines; None for the rest."""
    if line.startswith("==> ") and not _NOISE.match(line):
        return line[4:].strip()
    if _PROVISION_STEP.match(line):
        return line.split(": == ", 1)[1].strip()
    return None


def _tail(log: Path, lines: int = 3) -> str:
    try:
        text = log.read_text(errors="replace").strip().splitlines()
    except FileNotFoundError:
        return "no output"
    return " | ".join(line.strip() for line in text[-lines:])
