"""Where labgen finds its data (checkout or installed wheel) and keeps labs, boxes and logs."""

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent


def data_dir() -> Path:
    """The folder holding Vagrantfile.j2 and blueprints/: inside the wheel, else the checkout."""
    installed = _PACKAGE / "data"
    return installed if (installed / "Vagrantfile.j2").exists() else _CHECKOUT


def blueprints_dir() -> Path:
    return data_dir() / "blueprints"


def blueprint_names() -> list[str]:
    """The shipped blueprints, found without parsing them (keeps `labgen list` fast)."""
    return sorted(p.parent.name for p in blueprints_dir().glob("*/blueprint.yaml"))


def templates_dir() -> Path:
    """Templates shared by every blueprint (the provisioner skeleton, the testinfra conftest)."""
    return _PACKAGE / "render" / "templates"


def home() -> Path:
    """LABGEN_HOME; /var/lib/labgen for root because qemu (libvirt-qemu) must read the boxes."""
    if env := os.environ.get("LABGEN_HOME"):
        return Path(env)
    if os.geteuid() == 0:
        return Path("/var/lib/labgen")
    return Path.home() / ".local/share/labgen"


def labs_dir() -> Path:
    return home() / "labs"


def boxes_dir() -> Path:
    return home() / "boxes"
