"""The cached root of each release (boxes/releases.yaml) that lab nodes start from.

Both providers use it: nspawn mounts it read-only as the lower layer of one overlay per node, the
libvirt provider packs it into a vagrant box. So it carries what a VM needs (kernel, sshd, the
vagrant user and key, eth0 on DHCP) as well as every service package the blueprints use, with the
lab services DISABLED: each lab's provisioner enables what its blueprint needs.

It is built once, offline from the Debian registry this host already uses, into a temporary
directory that is renamed into place only when complete; a stamp holding the recipe hash says
whether the root matches this code's recipe (a changed recipe means a rebuild). One recipe for
every release: what differs (suite, archive, kernel package) is the release's data, part of the
hash. A manifest beside the root records the daemons' versions, its size and build time.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from labgen import host, paths
from labgen.boxes.releases import DEFAULT, Release, release
from labgen.errors import LabgenError
from labgen.progress import Progress

# Everything that shapes a root besides its release; with the release's data, its hash is the
# stamp. Bump "revision" when build() changes.
RECIPE: dict = {
    "revision": 4,
    "variant": "minbase",
    # debootstrap --include, with the release's kernel package: small on purpose (heartbeat here
    # breaks the resolver, see platform.md)
    "base": [
        "systemd", "systemd-sysv", "dbus", "openssh-server", "sudo",
        "ifupdown", "isc-dhcp-client", "iproute2", "iputils-ping", "python3", "curl",
        "ca-certificates", "procps", "initramfs-tools",
    ],
    # apt-get install inside the chroot afterwards
    "services": [
        "keepalived", "ipvsadm", "apache2", "nginx", "heartbeat", "net-tools", "iptables",
        "pacemaker", "corosync", "crmsh", "tcpdump",
    ],
    # installed, then disabled: the provisioner of each lab enables what it uses
    "disabled": ["apache2", "nginx", "keepalived", "heartbeat", "corosync", "pacemaker"],
    # never wanted: interactive first-boot prompts would hang a headless node; e2scrub_reap
    # (stale LVM scrub snapshots; there is no LVM) took 36 s of a TCG first boot
    "masked": ["systemd-firstboot.service", "e2scrub_reap.service"],
    "initramfs_modules": ["virtio_pci", "virtio_blk", "virtio_net", "virtio_console", "ext4"],
}

# The well-known vagrant insecure public key, used only when no vagrant installation ships it.
_VAGRANT_PUB = (
    "ssh-rsa "
    "AAAAB3NzaC1yc2EAAAABIwAAAQEA6NF8iallvQVp22WDkTkyrtvp9eWW6A8YVr+kz4TjGYe7gHzIw+niNltGEFHz"
    "D8+v1I2YJ6oXevct1YeS0o9HZyN1Q9qgCgzUFtdOKLv6IedplqoPkcmF0aYet2PkEDo3MlTBckFXPITAMzF8dJSI"
    "Fo9D8HfdOV0IAdx4O7PtixWKn5y2hMNG0zQPyUecp4pzC6kivAIhyfHilFR61RGL+GPXQ2MWZWFYbAGjyiYJnAmC"
    "P3NOTd0jMZEnDkbUvxhMmBYSdETk1rRgm+R4LOzFUGaHqHDLKLX+FIPKcF96hrucXzcWyLbIbEgE98OHlnVYCzRd"
    "K8jlqm8tehUc9c9WhQ=="
    " vagrant insecure public key"
)
_VAGRANT_KEY_GLOBS = (
    "/usr/share/vagrant/keys/vagrant.pub",
    "/usr/share/rubygems-integration/all/gems/vagrant-*/keys/vagrant.pub",
    "/opt/vagrant/embedded/gems/gems/vagrant-*/keys/vagrant.pub",
    "/opt/vagrant/embedded/gems/*/gems/vagrant-*/keys/vagrant.pub",
)

_SSH_DROPIN = """\
# labgen: no host keys ship in the image; every node generates its own at first start, and only
# ed25519 (ssh-keygen -A also makes RSA 3072: ssh.service took 26 s of a TCG first boot).
[Service]
ExecStartPre=
ExecStartPre=/bin/sh -c 'key=/etc/ssh/ssh_host_ed25519_key; \\
    test -s $key || ssh-keygen -q -t ed25519 -N "" -f $key'
ExecStartPre=/usr/sbin/sshd -t
"""

_SSHD_HOSTKEY = """\
# labgen: the one host key each node generates at first start
HostKey /etc/ssh/ssh_host_ed25519_key
"""

_INTERFACES = """\
# labgen: eth0 is the management NIC (DHCP under vagrant-libvirt; nspawn sets it statically).
source /etc/network/interfaces.d/*

auto lo
iface lo inet loopback

allow-hotplug eth0
iface eth0 inet dhcp
"""


def recipe_hash(name: str = DEFAULT) -> str:
    """sha256 of the recipe and the release's data: a root built from another recipe is stale."""
    data = release(name).model_dump(exclude={"departures"})
    return hashlib.sha256(json.dumps({**RECIPE, "release": data}, sort_keys=True).encode()).hexdigest()


def box_dir(name: str = DEFAULT) -> Path:
    return paths.boxes_dir() / name


def root_path(name: str = DEFAULT) -> Path:
    return box_dir(name) / "root"


def stamp_path(name: str = DEFAULT) -> Path:
    return box_dir(name) / "root.recipe"


def log_path(name: str = DEFAULT) -> Path:
    return box_dir(name) / "build.log"


def manifest_path(name: str = DEFAULT) -> Path:
    return box_dir(name) / "manifest.json"


def manifest(name: str = DEFAULT) -> dict:
    """What the build recorded: the daemons' versions, the root's size, when and how long."""
    try:
        return json.loads(manifest_path(name).read_text())
    except (FileNotFoundError, ValueError):
        return {}


def is_current(name: str = DEFAULT) -> bool:
    """True when the root exists and was built (completely) from this recipe."""
    stamp = stamp_path(name)
    return (
        root_path(name).is_dir()
        and stamp.is_file()
        and stamp.read_text().strip() == recipe_hash(name)
    )


def build(name: str = DEFAULT, progress: Progress | None = None, force: bool = False) -> Path:
    """Build the root unless it is current; returns its path. Full output goes to build.log."""
    progress = progress or Progress(quiet=True)
    root = root_path(name)
    if is_current(name) and not force:
        progress.note(f"{root} is current (recipe {recipe_hash(name)[:12]})")
        return root
    if os.geteuid() != 0:
        raise LabgenError("building the container root needs root: run it again with sudo")
    if shutil.which("debootstrap") is None:
        raise LabgenError("debootstrap is missing: apt-get install debootstrap")
    refuse_if_in_use(root)
    rel = release(name)
    archive = reachable_archive(rel)
    _require_keyring(rel)
    box_dir(name).mkdir(parents=True, exist_ok=True)
    with build_lock(name):
        if is_current(name) and not force:  # another labgen built it while we waited
            return root
        return _build_locked(rel, archive, progress)


def _build_locked(rel: Release, archive: str, progress: Progress) -> Path:
    name = rel.name
    root = root_path(name)
    _remove_stale_builds(name)
    tmp = box_dir(name) / f"root.building-{os.getpid()}"
    log = log_path(name)
    log.write_text(f"labgen root build {name} recipe {recipe_hash(name)} at {time.ctime()}\n")
    begun = time.monotonic()
    try:
        _build_into(tmp, rel, archive, log, progress)
        versions = _check_daemons(tmp, rel)
        with progress.step("putting the new root in place"):
            swap_in(tmp, root)
            stamp_path(name).write_text(recipe_hash(name) + "\n")
    except BaseException:
        remove_tree(tmp)
        raise
    took = time.monotonic() - begun
    _write_manifest(rel, versions, took)
    progress.note(f"root built in {took:.0f} s: {root} (log: {log})")
    return root


def _check_daemons(root: Path, rel: Release) -> dict[str, str]:
    """The lab daemons' installed versions; a release whose archive moved past the major.minor
    in releases.yaml fails here, before a lab renders config for the wrong version."""
    query = ["chroot", str(root), "dpkg-query", "-W", "-f", "${Package} ${Version}\\n", *rel.daemons]
    versions = dict(line.split(" ", 1) for line in host.run(query).stdout.splitlines())
    for package, expected in rel.daemons.items():
        upstream = re.sub(r"^\d+:", "", versions.get(package, "none"))
        if not re.match(rf"{re.escape(expected)}([.~+-]|$)", upstream):
            raise LabgenError(
                f"{rel.name} now ships {package} {versions.get(package, 'nothing')}, but "
                f"labgen/boxes/releases.yaml says {expected}: check the lab on it and update the file"
            )
    return versions


def _write_manifest(rel: Release, versions: dict[str, str], took: float) -> None:
    root = root_path(rel.name)
    size = int(host.run(["du", "-sb", "--one-file-system", str(root)]).stdout.split()[0])
    record = {
        "release": rel.name,
        "suite": rel.suite,
        "recipe": recipe_hash(rel.name),
        "versions": versions,
        "size_bytes": size,
        "built_at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "build_s": round(took, 1),
    }
    manifest_path(rel.name).write_text(json.dumps(record, indent=2) + "\n")


@contextlib.contextmanager
def build_lock(name: str) -> Iterator[None]:
    """One build at a time per root (the CLI and the vagrant box builder may both ask)."""
    with (box_dir(name) / "build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _build_into(tmp: Path, rel: Release, mirror: str, log: Path, progress: Progress) -> None:
    with progress.step(f"debootstrap {rel.suite} (minbase) from {mirror}"):
        include = ",".join([*RECIPE["base"], rel.kernel_package])
        keyring = [f"--keyring={rel.keyring}"] if rel.keyring else []
        _run(["debootstrap", f"--variant={RECIPE['variant']}", f"--include={include}",
              f"--components={','.join(rel.components)}", *keyring, rel.suite, str(tmp), mirror,
              rel.debootstrap_script or rel.suite],
             log, "debootstrap")
    with _chroot_mounts(tmp):
        _write(tmp / "usr/sbin/policy-rc.d", "#!/bin/sh\nexit 101\n", 0o755)
        _write(tmp / "etc/apt/sources.list", _sources(rel, mirror))
        with progress.step("installing the service packages"):
            _chroot(tmp, ["apt-get", "update"], log)
            _chroot(tmp, ["apt-get", "install", "-y", "--no-install-recommends",
                          *RECIPE["services"]], log)
        with progress.step("configuring users, sshd, network, services"):
            _configure(tmp, log)
        with progress.step("shrinking the initramfs (virtio + ext4 only)"):
            _configure_initramfs(tmp, log)
        _chroot(tmp, ["apt-get", "clean"], log)
        (tmp / "usr/sbin/policy-rc.d").unlink()


def _configure(tmp: Path, log: Path) -> None:
    """Everything after the packages: identity-free, vagrant-ready, lab services off."""
    _chroot(tmp, ["useradd", "-m", "-s", "/bin/bash", "vagrant"], log)
    _write(tmp / "etc/sudoers.d/vagrant", "vagrant ALL=(ALL) NOPASSWD: ALL\n", 0o440)
    ssh_dir = tmp / "home/vagrant/.ssh"
    _write(ssh_dir / "authorized_keys", vagrant_public_key() + "\n", 0o600)
    ssh_dir.chmod(0o700)
    _chroot(tmp, ["chown", "-R", "vagrant:vagrant", "/home/vagrant/.ssh"], log)
    _write(tmp / "etc/network/interfaces", _INTERFACES)
    _write(tmp / "etc/hostname", "debian\n")
    _write(tmp / "etc/hosts", "127.0.0.1\tlocalhost\n127.0.1.1\tdebian\n"
           "::1\tlocalhost ip6-localhost ip6-loopback\n")
    _write(tmp / "etc/systemd/system/ssh.service.d/labgen-hostkeys.conf", _SSH_DROPIN)
    _write(tmp / "etc/ssh/sshd_config.d/labgen-hostkey.conf", _SSHD_HOSTKEY)
    for key in (tmp / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    _write(tmp / "etc/machine-id", "")
    with contextlib.suppress(FileNotFoundError):
        (tmp / "var/lib/dbus/machine-id").unlink()
    _chroot(tmp, ["systemctl", "disable", *RECIPE["disabled"]], log)
    _chroot(tmp, ["systemctl", "mask", *RECIPE["masked"]], log)
    _chroot(tmp, ["systemctl", "enable", "ssh"], log)


def _configure_initramfs(tmp: Path, log: Path) -> None:
    """MODULES=list with virtio/ext4 only: a 6 MB initrd boots much faster under TCG."""
    _write(tmp / "etc/initramfs-tools/conf.d/labgen", "MODULES=list\n")
    _write(tmp / "etc/initramfs-tools/modules", "\n".join(RECIPE["initramfs_modules"]) + "\n")
    _chroot(tmp, ["update-initramfs", "-u", "-k", "all"], log)


def reachable_archive(rel: Release) -> str:
    """The archive a release is built from, checked before anything is made: a release the host
    cannot reach fails in one line naming the archive."""
    archive = rel.mirror or host_mirror()
    url = f"{archive.rstrip('/')}/dists/{rel.suite}/Release"
    try:
        with urllib.request.urlopen(url, timeout=15):
            pass
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise LabgenError(
            f"box {rel.name}: cannot reach {rel.distro}'s archive at {archive} ({url}: {reason}); "
            "build it on a host that reaches that archive"
        ) from None
    return archive


def _require_keyring(rel: Release) -> None:
    """debootstrap checks the archive's signatures against this keyring: without it, nothing is built
    (fetching the keyring from the archive it vouches for would prove nothing)."""
    if rel.keyring and not Path(rel.keyring).is_file():
        raise LabgenError(
            f"box {rel.name}: {rel.keyring} is missing, so {rel.distro}'s archive cannot be checked;"
            f" install the {rel.distro} archive keyring from a trusted source, then build again"
        )


def host_mirror() -> str:
    """The Debian mirror this host's apt uses (deb822 or one-line sources): every Debian release
    is built from it."""
    found = _mirrors_in(Path("/etc/apt/sources.list.d"), Path("/etc/apt/sources.list"))
    if not found:
        where = "/etc/apt/sources.list(.d)"
        raise LabgenError(f"no Debian mirror in {where}: add one (e.g. deb.debian.org/debian)")
    return found[0]


def _mirrors_in(folder: Path, listfile: Path) -> list[str]:
    files = [listfile] if listfile.is_file() else []
    if folder.is_dir():
        files += sorted(p for p in folder.iterdir() if p.suffix in (".list", ".sources"))
    found: list[str] = []
    for file in files:
        text = file.read_text(errors="replace")
        if file.suffix == ".sources":
            found += _deb822_mirrors(text)
        else:
            for m in re.finditer(r"^\s*deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+\S+\s", text, re.M):
                found.append(m.group(1))
    return [m for m in found if "security" not in m]


def _deb822_mirrors(text: str) -> list[str]:
    found = []
    for stanza in re.split(r"\n\s*\n", text):
        fields = dict(
            (k.strip().lower(), v.strip())
            for k, _, v in (line.partition(":") for line in stanza.splitlines())
            if not k.lstrip().startswith("#") and v
        )
        if "deb" in fields.get("types", "").split():
            found += fields.get("uris", "").split()
    return found


def vagrant_public_key() -> str:
    """The insecure key vagrant logs in with first: from the vagrant install, else built in."""
    for pattern in _VAGRANT_KEY_GLOBS:
        for path in sorted(Path("/").glob(pattern.lstrip("/"))):
            return path.read_text().strip()
    return _VAGRANT_PUB


def _sources(rel: Release, mirror: str) -> str:
    components = " ".join(rel.components)
    lines = [f"deb {mirror} {rel.suite} {components}", f"deb {mirror} {rel.suite}-updates {components}"]
    if rel.security:
        lines.append(f"deb {rel.security} {rel.suite}-security {components}")
    return "\n".join(lines) + "\n"


def _run(argv: list[str], log: Path, what: str) -> None:
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(argv)}\n")
        out.flush()
        done = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, check=False,
                              stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise LabgenError(f"{what} failed (exit {done.returncode}); see the full log: {log}")


def _chroot(root: Path, argv: list[str], log: Path) -> None:
    env = "DEBIAN_FRONTEND=noninteractive"
    _run(["chroot", str(root), "env", env, "LC_ALL=C", *argv], log, " ".join(argv[:2]))


@contextlib.contextmanager
def _chroot_mounts(root: Path) -> Iterator[None]:
    """/proc, /sys and /dev/pts for maintainer scripts; always unmounted again."""
    mounts = [("proc", "proc", root / "proc"), ("sysfs", "sysfs", root / "sys"),
              ("devpts", "devpts", root / "dev/pts")]
    done: list[Path] = []
    try:
        for fstype, source, target in mounts:
            target.mkdir(parents=True, exist_ok=True)
            subprocess.run(["mount", "-t", fstype, source, str(target)], check=True)
            done.append(target)
        yield
    finally:
        for target in reversed(done):
            subprocess.run(["umount", "-l", str(target)], check=False)


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    """Write a file in the root; removes a symlink first (absolute links point into the host)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink():
        path.unlink()
    path.write_text(text)
    path.chmod(mode)


def swap_in(tmp: Path, root: Path) -> None:
    """Rename the finished root into place; the old one (if any) is removed afterwards."""
    stamp_path(root.parent.name).unlink(missing_ok=True)
    old = root.with_name(f"root.old-{os.getpid()}")
    if root.exists():
        root.rename(old)
    tmp.rename(root)
    remove_tree(old)


def _remove_stale_builds(name: str) -> None:
    """Leftovers of interrupted builds (their pid is gone) are removed, never reused."""
    for stale in box_dir(name).glob("root.*-*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if not (pid.isdigit() and Path(f"/proc/{pid}").exists()):
            remove_tree(stale)


def remove_tree(path: Path) -> None:
    """rm -rf that first unmounts anything below path and never crosses into another fs."""
    if not path.exists():
        return
    for target in reversed(host.mounts_inside(path)):
        subprocess.run(["umount", "-l", target], check=False)
    subprocess.run(["rm", "-rf", "--one-file-system", str(path)], check=False)


def refuse_if_in_use(root: Path) -> None:
    """Rebuilding under running overlays would change their lower layer: refuse instead."""
    users = [m.target for m in host.mounts() if f"lowerdir={root}" in m.options]
    if users:
        raise LabgenError(
            f"the root {root} is in use by {len(users)} running node(s); "
            "run `labgen down` on those labs first"
        )
