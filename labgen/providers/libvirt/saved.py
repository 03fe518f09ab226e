"""A provisioned VM lab saved once, and every later lab of the same machines restored from it.

A fresh VM lab boots two machines and runs the tutorial's provisioners: about 50 s alone under TCG,
two minutes on a busy host. The first fresh `up` of a lab therefore saves it, in LABGEN_HOME/saved/
KEY/ (root's alone): each machine's memory and device state (`virsh save`), its disk as a qcow2
overlay on the box image, vagrant's management network with its DHCP leases, vagrant's ssh-config.
A later `up` of the same machines gives each one a qcow2 overlay of its own on the saved disk and
restores it, paused, into the lab's own libvirtd and namespace; both resume together. Nothing of a
restored lab is ever written to the save.

KEY is what makes the machines what they are: the files the provisioners write (the lab's secret
masked), each machine's shape (memory, CPUs, CPU model, emulator), each box's recipe and image, and
the qemu and libvirt versions. Any change to one of them is another key: a stale save is never
found, only left to `labgen box prune`. Machines and networks have the same names in every lab
(provider.NAME_PREFIX), so a restore changes nothing a guest sees but the disk file behind it.

Labs restored from one save share its secret (keepalived's auth_pass, heartbeat's authkeys, the
corosync key): each lab's networks live in its own namespace, which no other lab reaches, so a
student who reads the secret in their own lab can use it nowhere else (docs/security.md).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from labgen import paths
from labgen.errors import LabgenError
from labgen.host import HOST_TIMEOUT
from labgen.lab import Lab
from labgen.providers.libvirt import libvirtd, vagrant_box

FORMAT = 2  # what a save holds and how; a change makes every older save another key
MANAGEMENT_NETWORK = "vagrant-libvirt"  # vagrant-libvirt's own (eth0: DHCP, ssh from vagrant)
_SECRET_MASK = "<the lab's secret>"


def saved_dir() -> Path:
    return paths.home() / "saved"


def key(lab: Lab, machine: dict) -> str:
    """What makes the lab's machines, hashed: the same for every lab rendered from the same
    blueprint, settings, boxes and tools, whatever their names and secrets."""
    mask = lab.spec.secret  # the one value two labs of the same machines differ in
    files = {}
    for path in sorted([*(lab.path / "provision").glob("*.sh"), *(lab.path / "files").rglob("*")]):
        if path.is_file():
            text = path.read_text()
            masked = text.replace(mask, _SECRET_MASK) if mask else text
            files[str(path.relative_to(lab.path))] = _sha256(masked)
    boxes = {box: _box_identity(box) for box in sorted(lab.spec.boxes)}
    nodes = [(node.name, node.box, sorted(node.addresses.items())) for node in lab.spec.nodes]
    networks = sorted((name, net.interface) for name, net in lab.spec.networks.items())
    what = {"format": FORMAT, "files": files, "machine": machine, "boxes": boxes, "nodes": nodes,
            "networks": networks, "tools": tool_versions()}
    return _sha256(json.dumps(what, sort_keys=True, default=str))


@functools.cache
def tool_versions() -> dict[str, str]:
    """qemu's and libvirt's versions: a save restores only into the versions that wrote it."""
    found = {}
    for tool in ("qemu-system-x86_64", "libvirtd"):
        done = subprocess.run([tool, "--version"], capture_output=True, text=True, timeout=HOST_TIMEOUT,
                              check=False)
        found[tool] = done.stdout.splitlines()[0] if done.stdout else f"unknown ({done.returncode})"
    return found


def _box_identity(box: str) -> str:
    if "/" in box:  # a public vagrant box: its name is all labgen knows of it
        return box
    path = vagrant_box.image_path(box)
    if not path.is_file():
        return f"{vagrant_box.recipe_hash(box)}:not built"
    image = path.stat()  # a rebuilt box is another file
    return f"{vagrant_box.recipe_hash(box)}:{image.st_size}:{image.st_mtime_ns}:{image.st_ino}"


@dataclass(frozen=True)
class Save:
    """One saved lab: its folder and what meta.json says of it."""

    folder: Path
    meta: dict

    def state(self, node: str) -> Path:
        return self.folder / f"{node}.state"

    def disk(self, node: str) -> Path:
        return self.folder / f"{node}.qcow2"

    @property
    def secret(self) -> str | None:
        return self.meta.get("secret")

    @property
    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.folder.iterdir() if p.is_file())


def find(save_key: str) -> tuple[Save | None, str | None]:
    """The save of this key if it is whole, else None and (if there was one) why it is not used;
    a damaged one is removed, so the next fresh up saves it anew."""
    folder = saved_dir() / save_key
    if not folder.is_dir():
        return None, None
    problem = damage(folder)
    if problem is None:
        return Save(folder, json.loads((folder / "meta.json").read_text())), None
    if save_key in in_use():
        return None, f"saved lab {save_key[:12]} is {problem}; labs here stand on it: this lab boots fresh"
    remove(folder)
    return None, f"saved lab {save_key[:12]} was {problem}: removed; this lab boots fresh and saves it again"


def damage(folder: Path) -> str | None:
    """What is wrong with a saved folder (a file missing or cut short, an unreadable record)."""
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except (OSError, ValueError):
        return "without a readable meta.json"
    for name, size in meta.get("sizes", {}).items():
        path = folder / name
        if not path.is_file():
            return f"missing {name}"
        if path.stat().st_size != size:
            return f"damaged: {name} has {path.stat().st_size} bytes, {size} were saved"
    if not meta.get("sizes"):
        return "empty"
    return None


def all_saves() -> list[dict]:
    """`labgen box list`'s rows of saved labs: key, blueprint, boxes, size, when, whole or not."""
    folder = saved_dir()
    rows = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if not path.is_dir() or path.name.startswith("."):
            continue
        problem = damage(path)
        meta = {} if problem and "meta.json" in problem else json.loads((path / "meta.json").read_text())
        rows.append({"key": path.name, "blueprint": meta.get("blueprint"), "boxes": meta.get("boxes", []),
                     "size_bytes": sum(p.stat().st_size for p in path.iterdir() if p.is_file()),
                     "created": meta.get("created"), "problem": problem})
    return rows


def prune() -> tuple[list[str], list[str]]:
    """Every saved lab removed but those a lab on this host was restored from (its disks stand on
    the saved ones: a power cycle or a `reset` would find them gone); (removed, kept)."""
    removed, kept = [], []
    folder = saved_dir()
    used = in_use()
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if path.is_dir() and path.name in used:
            kept.append(path.name)
        elif path.is_dir():
            remove(path)
            removed.append(path.name)
    return removed, kept


STANDS_ON = "saved-lab.json"  # in a lab's state folder: the save it resets from, and if it was restored


def stand_on(lab: Lab, save_key: str, restored: bool) -> None:
    """Record that the lab's machines are the save's: restored from it, or saved as it."""
    (lab.state_dir / STANDS_ON).write_text(json.dumps({"key": save_key, "restored": restored}) + "\n")


def stands_on(lab: Lab) -> dict | None:
    try:
        return json.loads((lab.state_dir / STANDS_ON).read_text())
    except (OSError, ValueError):
        return None


def in_use() -> set[str]:
    """The saves labs on this host stand on."""
    found = set()
    for path in paths.labs_dir().glob(f"*/state/{STANDS_ON}"):
        try:
            found.add(json.loads(path.read_text())["key"])
        except (OSError, ValueError, KeyError):
            continue
    return found


def remove(folder: Path) -> None:
    """A saved folder, only ever one under saved_dir()."""
    if folder.parent != saved_dir() or folder.is_symlink():
        raise LabgenError(f"{folder} is not a saved lab of labgen's")
    shutil.rmtree(folder)


def staging(save_key: str) -> Path:
    """A folder to save into, renamed to its key once whole (an interrupted save leaves no key)."""
    folder = saved_dir() / f".{save_key}.{os.getpid()}"
    saved_dir().mkdir(mode=0o711, parents=True, exist_ok=True)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(mode=0o711)
    return folder


def seal(folder: Path, save_key: str, meta: dict) -> Save:
    """meta.json with every file's size, then the rename that makes the save findable."""
    meta["sizes"] = {p.name: p.stat().st_size for p in folder.iterdir() if p.is_file()}
    meta["created"] = time.strftime("%Y-%m-%d %H:%M:%S")
    (folder / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    final = saved_dir() / save_key
    os.rename(folder, final)
    return Save(final, meta)


def clear_staging() -> None:
    """Folders of saves cut short whose process is gone."""
    folder = saved_dir()
    for path in folder.glob(".*.*") if folder.is_dir() else []:
        pid = path.name.rsplit(".", 1)[-1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(path, ignore_errors=True)


def disk_of(domain_xml: str) -> Path:
    """The file behind a machine's (only) disk."""
    source = ElementTree.fromstring(domain_xml).find("./devices/disk[@device='disk']/source")
    if source is None or not source.get("file"):
        raise LabgenError("the saved machine has no disk file")
    return Path(source.get("file"))


def with_disk(domain_xml: str, disk: Path) -> str:
    """The domain's XML with its disk moved to `disk` and the backing chain left to libvirt to read
    (it describes the saved lab's files, not this one's)."""
    root = ElementTree.fromstring(domain_xml)
    element = root.find("./devices/disk[@device='disk']")
    source = element.find("source") if element is not None else None
    if source is None:
        raise LabgenError("the saved machine has no disk file")
    source.set("file", str(disk))
    for backing in element.findall("backingStore"):
        element.remove(backing)
    return ElementTree.tostring(root, encoding="unicode")


def uuid_of(domain_xml: str) -> str:
    return ElementTree.fromstring(domain_xml).findtext("uuid") or ""


def qemu_img(*args: str) -> None:
    done = subprocess.run(["qemu-img", *args], capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise LabgenError(f"qemu-img {' '.join(args)}: {done.stderr.strip()}")


def lease_files(daemon: libvirtd.Daemon) -> list[Path]:
    """The management network's DHCP leases as libvirt keeps them (its dnsmasq reads them back)."""
    return sorted((daemon.root / "lib" / "dnsmasq").glob("*.status"))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()

