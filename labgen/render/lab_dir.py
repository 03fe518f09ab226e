"""Write a lab directory: configs, provisioners, Vagrantfile, test suite, lab.json.

Everything is rendered into a temporary sibling folder first and renamed into place at the end,
so a failure never leaves a half-written lab behind.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import traceback
from functools import cache
from ipaddress import IPv4Network
from pathlib import Path

import jinja2

from labgen import paths
from labgen.errors import LabgenError
from labgen.lab import LabSpec
from labgen.model.blueprint import Blueprint
from labgen.model.load import Source
from labgen.providers.libvirt.provider import render_context
from labgen.render import escape, handout, manifest


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept between runs: compiling them is most of what render spends."""
    folder = paths.home() / "cache" / "jinja"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # a read-only home: render still works, only slower
    return jinja2.FileSystemBytecodeCache(str(folder))


def _environment(*folders: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(f) for f in folders]),
        bytecode_cache=_bytecode_cache(),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["prefixlen"] = lambda cidr: IPv4Network(cidr).prefixlen
    env.filters["vrrp_interval"] = lambda seconds: f"{seconds:g}"
    env.filters.update(escape.FILTERS)
    return env


class NodeFiles:
    """Renders each node's config files once; templates may read another node's file (digests)."""

    def __init__(self, bp: Blueprint, source: Source, spec: LabSpec):
        self.bp, self.spec = bp, spec
        self.env = _environment(source.folder / "templates")
        self.render = cache(self._render)

    def _render(self, node_name: str, path: str) -> str:
        entry = next((f for f in self.bp.files if f.path == path), None)
        if entry is None:
            raise LabgenError(f"blueprint {self.bp.name}: no file {path} to render")
        node = self.spec.node(node_name)
        return self.env.get_template(entry.template).render(
            lab=self.spec,
            bp=self.bp,
            node=node,
            peers=[n for n in self.spec.nodes if n.name != node_name],
            pages=self.spec.pages,
            node_page=self.spec.pages[node_name],
            md5_of=self.md5_of,
        )

    def md5_of(self, node_name: str, path: str) -> str:
        """What keepalived's HTTP_GET digest (and genhash) computes for a served static file."""
        return hashlib.md5(self.render(node_name, path).encode()).hexdigest()


def write_lab(bp: Blueprint, source: Source, spec: LabSpec, out: Path, force: bool) -> Path:
    """Render the lab into out, which must be new, empty, or (with force) a lab labgen rendered and
    nobody changed (labgen.render.manifest)."""
    out = check_output(out, source, force)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    except OSError as exc:
        raise _unwritable(out, exc) from None
    try:
        _fill(staging, bp, source, spec)
        _swap(staging, out)
    except OSError as exc:
        raise _unwritable(out, exc) from None
    except jinja2.TemplateError as exc:
        raise LabgenError(_template_error(exc, source)) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def _swap(staging: Path, out: Path) -> None:
    """staging becomes out; a lab it replaces is moved aside first, so out is never half-deleted."""
    if not out.exists():
        staging.rename(out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
    out.rename(old / "lab")
    staging.rename(out)
    shutil.rmtree(old)


def _unwritable(out: Path, exc: OSError) -> LabgenError:
    return LabgenError(f"cannot write the lab to {out}: {exc.strerror or exc}; choose another -o")


def resolved(out: Path) -> Path:
    """-o made absolute, links followed; a path that cannot be (a link loop, a name too long, a
    folder on the way that may not be read) is one line."""
    try:
        path = out.resolve()
        path.exists()  # a name too long passes resolve() and fails here
    except (OSError, RuntimeError) as exc:  # RuntimeError: pathlib's word for a link loop
        raise _unusable(out, exc) from None
    return path


def _unusable(out: Path, exc: Exception) -> LabgenError:
    return LabgenError(f"-o {out}: {getattr(exc, 'strerror', None) or exc}; choose another -o")


def check_output(out: Path, source: Source, force: bool) -> Path:
    """The one rule for where a lab may be written: never over a folder labgen did not render,
    never over the current folder or the blueprint itself (their contents would be deleted)."""
    path = resolved(out)
    try:
        _check_output(path, source, force)
    except OSError as exc:  # a folder on the way, or in out, that may not be read
        raise _unusable(out, exc) from None
    return path


def _check_output(out: Path, source: Source, force: bool) -> None:
    here = Path.cwd().resolve()
    if out == here or out in here.parents:
        raise LabgenError(f"-o {out}: that is the current folder (or holds it); give a new folder")
    blueprint = source.folder.resolve()
    if out == blueprint or out in blueprint.parents or blueprint in out.parents:
        raise LabgenError(f"-o {out}: that is the blueprint's own folder; give a folder outside {blueprint}")
    if out.exists() and not out.is_dir():
        raise LabgenError(f"-o {out}: it exists and is not a directory; choose another -o")
    parent = next(p for p in out.parents if p.exists())
    if not parent.is_dir():
        raise LabgenError(f"-o {out}: {parent} is a file, not a folder; choose another -o")
    if out.is_dir() and any(out.iterdir()):
        if problem := manifest.foreign(out):
            raise LabgenError(f"-o {out}: {problem}; labgen replaces only a lab it rendered, as it "
                              "rendered it: move your files out or choose another -o")
        if not force:
            raise LabgenError(f"-o {out}: it holds a rendered lab; use --force to replace it")


def _template_error(exc: jinja2.TemplateError, source: Source) -> str:
    """Where a template failed (file:line) and why, from Jinja's own traceback frames."""
    line = getattr(exc, "lineno", None)
    name = getattr(exc, "filename", None) or getattr(exc, "name", None)
    if line is None:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(".j2")]
        if frames:
            name, line = frames[-1].filename, frames[-1].lineno
    where = f"{name}:{line}" if name and line else str(name or source.folder / "templates")
    return f"{where}: template error: {exc.message or exc}"


def _fill(folder: Path, bp: Blueprint, source: Source, spec: LabSpec) -> None:
    files = NodeFiles(bp, source, spec)
    shared = _environment(paths.templates_dir(), paths.data_dir())
    writes_units = any(f.path.startswith("/etc/systemd/") for f in bp.files)
    for node in spec.nodes:
        rendered = {f.path: files.render(node.name, f.path) for f in bp.files}
        for entry in bp.files:
            target = folder / "files" / node.name / entry.path.lstrip("/")
            _write(target, rendered[entry.path], mode=int(entry.mode, 8))
        script = shared.get_template("provision.sh.j2").render(
            lab=spec, bp=bp, node=node, files=bp.files, rendered=rendered, writes_units=writes_units
        )
        _write(folder / "provision" / f"{node.name}.sh", script, mode=0o755)
    _write(folder / "Vagrantfile", _vagrantfile(shared, spec))
    handout.write(folder, shared, bp, spec)
    shutil.copytree(source.folder / bp.tests, folder / "tests", ignore=_PYCACHE)
    shutil.copy(paths.templates_dir() / "conftest.py", folder / "tests" / "conftest.py")
    _write(folder / "lab.json", spec.model_dump_json(indent=2) + "\n", mode=0o600)
    manifest.write(folder)  # last: it lists everything written above


_PYCACHE = shutil.ignore_patterns("__pycache__", "*.pyc")


def _vagrantfile(env: jinja2.Environment, spec: LabSpec) -> str:
    return env.get_template("Vagrantfile.j2").render(lab=spec, libvirt=render_context(spec))


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
