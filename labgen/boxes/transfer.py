"""A container root copied to another host as a tar stream, checked by its sha256 on arrival.

The sender reads the root twice: once to learn the stream's sha256, once to send it (GNU tar with
--sort=name writes the same bytes for the same tree). The receiver hashes what it unpacks as it
comes and puts the root in place only when the hash is the one announced and the recipe stamp is
its own labgen's; anything else (a cut connection, a changed byte, another labgen) leaves nothing
but one line.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from labgen.boxes import rootfs
from labgen.errors import LabgenError
from labgen.remote.hosts import Host

KIND = "nspawn root"  # the boxes push copies: container roots (a provider's box_kind)
CHUNK = 1 << 20
MEMBERS = ("root", "root.recipe", "manifest.json")


def pack_argv(name: str) -> list[str]:
    """tar writing the root, its recipe stamp and its manifest to stdout, the same bytes each time:
    sorted, and without the access and change times pax would record (reading the tree for its
    checksum changes atimes)."""
    return ["tar", "-C", str(rootfs.box_dir(name)), "--sort=name", "--numeric-owner", "--xattrs",
            "--xattrs-include=*", "--pax-option=delete=atime,delete=ctime", "-c", *MEMBERS]


def packed(name: str) -> Iterator[bytes]:
    """The stream, chunk by chunk; a tar that fails is one line (a reader that stops early ends
    the tar quietly)."""
    if not rootfs.is_current(name):
        raise LabgenError(f"the {name} container root is not built here: "
                          f"labgen box build {name} --for nspawn")
    process = subprocess.Popen(pack_argv(name), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    said = _drain(process.stderr)
    try:
        while chunk := process.stdout.read(CHUNK):
            yield chunk
    except GeneratorExit:
        process.kill()
        process.wait()
        raise
    finally:
        process.stdout.close()
    if process.wait() != 0:
        raise LabgenError(f"packing the {name} root failed: {_last(said, 'tar')}")


def _drain(pipe) -> deque[bytes]:
    """A pipe's lines read as they come in a thread of their own, the last 20 kept: a chatty tar
    never blocks on its stderr."""
    said: deque[bytes] = deque(maxlen=20)
    threading.Thread(target=lambda: said.extend(pipe), daemon=True).start()
    return said


def _last(said: deque[bytes], default: str) -> str:
    lines = [line.decode(errors="replace").strip() for line in list(said) if line.strip()]
    return lines[-1] if lines else default


def sha256_of(name: str, on_bytes: Callable[[int], None] = lambda n: None) -> str:
    digest = hashlib.sha256()
    for chunk in packed(name):
        digest.update(chunk)
        on_bytes(len(chunk))
    return digest.hexdigest()


def receive(name: str, stream: BinaryIO, sha256: str) -> Path:
    """Unpack the stream into a folder beside the root, and swap it in only when its sha256 is
    `sha256` and its recipe stamp matches this labgen's; the root otherwise stays as it was."""
    if os.geteuid() != 0:
        raise LabgenError("receiving a container root needs root")
    root = rootfs.root_path(name)
    rootfs.refuse_if_in_use(root)
    folder = rootfs.box_dir(name)
    folder.mkdir(parents=True, exist_ok=True)
    incoming = folder / f"incoming-{os.getpid()}"
    incoming.mkdir(mode=0o700)
    try:
        got = _unpack(stream, incoming)
        if got != sha256:
            raise LabgenError(f"the {name} root arrived with sha256 {got[:16]}…, not {sha256[:16]}… as sent: "
                              "nothing was changed; push it again")
        stamp = (incoming / "root.recipe").read_text().strip() if (incoming / "root.recipe").is_file() else ""
        if stamp != rootfs.recipe_hash(name):
            raise LabgenError(f"the {name} root sent was built by another recipe (another labgen): "
                              "install the same labgen on both hosts")
        with rootfs.build_lock(name):
            rootfs.swap_in(incoming / "root", root)
            shutil.move(incoming / "manifest.json", rootfs.manifest_path(name))
            shutil.move(incoming / "root.recipe", rootfs.stamp_path(name))  # last: current from now
    finally:
        rootfs.remove_tree(incoming)
    return root


def _unpack(stream: BinaryIO, into: Path) -> str:
    """tar -x of the stream into `into`, hashed as it passes; its sha256."""
    digest = hashlib.sha256()
    process = subprocess.Popen(["tar", "-x", "-C", str(into), "--numeric-owner", "--same-owner", "--xattrs",
                                "--xattrs-include=*"], stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    said = _drain(process.stderr)
    try:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            process.stdin.write(chunk)
    except BrokenPipeError:
        pass
    finally:
        with contextlib.suppress(BrokenPipeError):
            process.stdin.close()
    if process.wait() != 0:
        raise LabgenError(f"unpacking the root failed: {_last(said, 'tar')}; nothing was changed")
    return digest.hexdigest()


def send(name: str, receiver: list[str], on_bytes: Callable[[int], None] = lambda n: None) -> str | None:
    """The stream written to the receiver's stdin (ssh running `labgen box receive`, say); None
    when it took it, else the last line it said."""
    process = subprocess.Popen(receiver, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    said = _drain(process.stderr)
    try:
        with contextlib.closing(packed(name)) as chunks:
            for chunk in chunks:
                process.stdin.write(chunk)
                on_bytes(len(chunk))
    except BrokenPipeError:
        pass  # the receiver gave up: its own words say why
    finally:
        with contextlib.suppress(BrokenPipeError):
            process.stdin.close()
    code = process.wait()
    return None if code == 0 else _last(said, f"exit {code}")


def push(name: str, host: Host, on_progress: Callable[[str, int], None] = lambda what, done: None) -> str:
    """The root sent to the host and checked there (`labgen box receive` run by ssh): its sha256,
    or one line naming the host. on_progress hears the phase and its bytes so far, chunk by chunk."""

    def counting(what: str) -> Callable[[int], None]:
        done = [0]

        def count(n: int) -> None:
            done[0] += n
            on_progress(what, done[0])
        return count

    sha256 = sha256_of(name, counting("checksum"))
    failed = send(name, host.ssh_argv(["labgen", "box", "receive", name, "--sha256", sha256]),
                  counting(f"sending to {host.name}"))
    if failed:
        raise LabgenError(f"host {host.name}: {failed}")
    return sha256
