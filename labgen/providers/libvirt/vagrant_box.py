"""The vagrant-libvirt box labgen builds offline from the shared Debian root (boxes/rootfs.py).

Recipe (platform.md): the root already has a small initramfs (MODULES=list, virtio + ext4), so the
box boots its kernel directly (no boot loader, no partition table): `mkfs.ext4 -d ROOT` fills a raw
disk in seconds, `qemu-img convert` makes it qcow2, and the box's own Vagrantfile points
vagrant-libvirt at the kernel and initrd shipped inside the box. The box is a plain tar (gzip costs
25 s and saves nothing on a local disk), added with `vagrant box add` under VAGRANT_HOME =
paths.home()/vagrant, because qemu runs as libvirt-qemu and must read the kernel, initrd and image
(it cannot read anything under /root).

The root's recipe hash and this module's BOX_RECIPE are stored in the added box's metadata.json
(vagrant ignores unknown keys): a box whose hash differs is stale and is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

from labgen import host, paths
from labgen.boxes import rootfs
from labgen.errors import LabgenError
from labgen.progress import Progress

# Everything about the box beyond the root; bump "revision" when build() changes.
BOX_RECIPE: dict = {
    "revision": 2,
    "virtual_size_gb": 4,
    "cmdline": "root=/dev/vda rw console=ttyS0 net.ifnames=0 quiet",
}

_BOX_VAGRANTFILE = """\
# labgen box {name}: booted directly from the kernel and initrd shipped in this box
# (no boot loader, no partition table: the disk is one ext4 file system, /dev/vda).
Vagrant.configure("2") do |config|
  # Saves Vagrant probing the guest OS over ssh (about 15 s per machine under TCG).
  config.vm.guest = :debian
  config.vm.provider :libvirt do |libvirt|
    libvirt.kernel = File.expand_path("vmlinuz", __dir__)
    libvirt.initrd = File.expand_path("initrd.img", __dir__)
    libvirt.cmd_line = "{cmdline}"
    libvirt.disk_bus = "virtio"
  end
end
"""


def box_name(name: str = rootfs.DEFAULT) -> str:
    """The name the box is added under in vagrant (what a Vagrantfile's config.vm.box says)."""
    return f"labgen/{name}"


def vagrant_home() -> Path:
    return paths.home() / "vagrant"


def vagrant_env() -> dict[str, str]:
    """Environment for every vagrant call: labgen's VAGRANT_HOME, no network checks."""
    return {
        "VAGRANT_HOME": str(vagrant_home()),
        "VAGRANT_CHECKPOINT_DISABLE": "1",
        "VAGRANT_BOX_UPDATE_CHECK_DISABLE": "1",
        "VAGRANT_DEFAULT_PROVIDER": "libvirt",
    }


def box_dir(name: str = rootfs.DEFAULT) -> Path:
    """Where `vagrant box add` unpacked the box (version 0, provider libvirt)."""
    folder = box_name(name).replace("/", "-VAGRANTSLASH-")
    return vagrant_home() / "boxes" / folder / "0" / "libvirt"


def image_path(name: str = rootfs.DEFAULT) -> Path:
    return box_dir(name) / "box.img"


def pool_volume_name(name: str = rootfs.DEFAULT) -> str:
    """The volume name vagrant-libvirt 0.11 gives this box in a storage pool (version-0 box).

    Hard-linking the image under this name into a lab's pool spares the upload; if the formula
    ever changes, vagrant-libvirt simply uploads the box again.
    """
    mtime = int(image_path(name).stat().st_mtime)
    prefix = box_name(name).replace("/", "-VAGRANTSLASH-")
    return f"{prefix}_vagrant_box_image_0_{mtime}_box.img"


def recipe_hash(name: str = rootfs.DEFAULT) -> str:
    """The root's recipe hash and the box recipe together: a change in either means a rebuild."""
    both = json.dumps({"root": rootfs.recipe_hash(name), "box": BOX_RECIPE}, sort_keys=True)
    return hashlib.sha256(both.encode()).hexdigest()


def is_current(name: str = rootfs.DEFAULT) -> bool:
    """True when vagrant has this box and it was built from the current recipes."""
    try:
        metadata = json.loads((box_dir(name) / "metadata.json").read_text())
    except (FileNotFoundError, ValueError):
        return False
    return metadata.get("labgen_recipe") == recipe_hash(name) and image_path(name).is_file()


def describe(name: str = rootfs.DEFAULT) -> dict:
    """One row of `labgen box list`."""
    image = image_path(name)
    return {
        "kind": "vagrant box",
        "path": str(box_dir(name)),
        "built": image.is_file(),
        "current": is_current(name),
        "recipe": recipe_hash(name),
        "size_bytes": image.stat().st_size if image.is_file() else None,
    }


def build(name: str = rootfs.DEFAULT, progress: Progress | None = None, force: bool = False) -> str:
    """Build the box from the cached root (building that first if needed); returns its name."""
    progress = progress or Progress(quiet=True)
    if is_current(name) and not force:
        progress.note(f"box {box_name(name)} is current ({box_dir(name)})")
        return box_name(name)
    _require_tools()
    root = rootfs.build(name, progress)
    staging = rootfs.box_dir(name) / f"vagrant-box.building-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    begun = time.monotonic()
    try:
        _stage(name, root, staging, progress)
        box_file = staging.with_suffix(".box")
        with progress.step("packing the box (plain tar)"):
            _tar(staging, box_file)
        with progress.step(f"vagrant box add {box_name(name)}"):
            _box_add(name, box_file)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        staging.with_suffix(".box").unlink(missing_ok=True)
    progress.note(f"box {box_name(name)} built in {time.monotonic() - begun:.0f} s")
    return box_name(name)


def _stage(name: str, root: Path, staging: Path, progress: Progress) -> None:
    kernel, initrd = _kernel_and_initrd(root)
    shutil.copyfile(kernel, staging / "vmlinuz")
    shutil.copyfile(initrd, staging / "initrd.img")
    raw = staging / "box.raw"
    size = f"{BOX_RECIPE['virtual_size_gb']}G"
    with progress.step(f"mkfs.ext4 -d: the root into a {size} disk image"):
        host.run(["mkfs.ext4", "-q", "-F", "-L", "root", "-d", str(root), str(raw), size], timeout=None)
    with progress.step("converting the disk to qcow2"):
        host.run(["qemu-img", "convert", "-O", "qcow2", str(raw), str(staging / "box.img")], timeout=None)
        raw.unlink()
    metadata = {
        "provider": "libvirt",
        "format": "qcow2",
        "virtual_size": BOX_RECIPE["virtual_size_gb"],
        "labgen_recipe": recipe_hash(name),
    }
    (staging / "metadata.json").write_text(json.dumps(metadata, indent=2) + "\n")
    (staging / "Vagrantfile").write_text(_BOX_VAGRANTFILE.format(name=name, cmdline=BOX_RECIPE["cmdline"]))


def export(name: str, out: Path, compress: bool = True) -> Path:
    """The added box, packed again as a .box file (what `vagrant box add` takes): gzip at its
    fastest level, about a third of the plain tar (vagrant unpacks either)."""
    if not is_current(name):
        raise LabgenError(f"box {box_name(name)} is not built (or outdated): labgen box build {name}")
    out = out.resolve()
    if out.is_dir():
        raise LabgenError(f"-o {out}: that is a folder; give the .box file to write")
    staging = out.with_name(f".{out.name}.{os.getpid()}")
    try:
        _tar(box_dir(name), staging, compress)
        staging.rename(out)
    except OSError as exc:
        raise LabgenError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        staging.unlink(missing_ok=True)
    return out


def _kernel_and_initrd(root: Path) -> tuple[Path, Path]:
    """The newest kernel in the root's /boot and its initrd."""
    kernels = sorted((root / "boot").glob("vmlinuz-*"))
    if not kernels:
        raise LabgenError(f"no kernel in {root}/boot: rebuild the root (labgen box build --force)")
    kernel = kernels[-1]
    initrd = root / "boot" / kernel.name.replace("vmlinuz-", "initrd.img-")
    if not initrd.is_file():
        raise LabgenError(f"no initrd {initrd}: rebuild the root (labgen box build --force)")
    return kernel, initrd


def _tar(staging: Path, box_file: Path, compress: bool = False) -> None:
    """A plain tar for the box labgen adds itself (packed and unpacked at once on this host); gzip
    level 1 for one carried to another computer."""
    options = {"mode": "w:gz", "compresslevel": 1} if compress else {"mode": "w"}
    with tarfile.open(box_file, **options) as tar:
        for item in sorted(staging.iterdir()):
            tar.add(item, arcname=item.name)


def _box_add(name: str, box_file: Path) -> None:
    env = {**os.environ, **vagrant_env()}
    vagrant_home().mkdir(parents=True, exist_ok=True)
    for folder in (paths.home(), vagrant_home()):
        folder.chmod(0o755)  # libvirt-qemu reads kernel, initrd and image from here
    argv = ["vagrant", "box", "add", "--force", "--name", box_name(name), str(box_file)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LabgenError(f"vagrant box add failed: {done.stderr.strip() or done.stdout.strip()}")
    for path in box_dir(name).iterdir():
        path.chmod(0o644)


def _require_tools() -> None:
    for tool, package in (("mkfs.ext4", "e2fsprogs"), ("qemu-img", "qemu-utils"), ("vagrant", "vagrant")):
        if shutil.which(tool) is None:
            raise LabgenError(f"{tool} is missing: apt-get install {package}")
