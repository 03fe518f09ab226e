"""The libvirt provider: real VMs with vagrant-libvirt against a private libvirtd in the lab's
namespace (provider.py), that daemon (libvirtd.py), the offline box (vagrant_box.py), and the
view of a lab a student brought up with plain `vagrant up` (plain_vagrant.py)."""

from labgen.providers.libvirt.provider import LibvirtProvider

__all__ = ["LibvirtProvider"]
