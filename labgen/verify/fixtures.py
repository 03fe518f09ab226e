"""pytest fixtures for a blueprint's testinfra suite (loaded by LAB/tests/conftest.py).

The suite runs from the lab directory with plain pytest, or through `labgen verify LAB`.
Nodes are reached with testinfra over the lab's ssh_config; the client seat runs in its own
namespace; behaviour tests take `restore`, which puts the lab back the way it was.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import testinfra

from labgen import protocols
from labgen.lab import Lab, LabSpec
from labgen.labs import provider_for
from labgen.observe import http_via_vip, public_macs, served_by, wait_settled
from labgen.poll import PollTimeout, wait_for
from labgen.providers.base import Provider
from labgen.providers.libvirt.plain_vagrant import PlainVagrantProvider, is_plain
from labgen.verify import faults


def suite_lab_dir(start: Path) -> Path:
    """The lab directory the suite runs for: LABGEN_LAB_DIR, else the first folder up with lab.json."""
    if env := os.environ.get("LABGEN_LAB_DIR"):
        return Path(env)
    for folder in (start, *start.parents):
        if (folder / "lab.json").is_file():
            return folder
    raise pytest.UsageError(f"no lab.json above {start}: run the suite from a lab directory")


DISRUPTIVE = "disruptive"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{DISRUPTIVE}: the test breaks the lab on purpose (a fault, a broken server) "
        "and waits for it to heal; `labgen verify --quick` leaves it out"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that takes `restore` injects a fault: it is disruptive without having to say so."""
    for item in items:
        if "restore" in getattr(item, "fixturenames", ()):
            item.add_marker(DISRUPTIVE)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests taking `node` run once per node of the lab, named after it; `package` and `service`
    once per package and service of the blueprint (labgen.testing.suites.install); `takeover_fault`
    once per fault its protocol takes over from (labgen.testing.suites.failover)."""
    wanted = [n for n in ("node", "package", "service", "takeover_fault") if n in metafunc.fixturenames]
    if not wanted:
        return
    spec = Lab(suite_lab_dir(Path(str(metafunc.config.rootpath)))).spec
    values = {
        "node": [n.name for n in spec.nodes],
        "package": spec.packages,
        "service": spec.services,
        "takeover_fault": list(protocols.of(spec).takeover_faults),
    }
    for name in wanted:
        if not _parametrized_by_hand(metafunc, name):
            metafunc.parametrize(name, values[name])


def _parametrized_by_hand(metafunc: pytest.Metafunc, name: str) -> bool:
    """A suite's own @pytest.mark.parametrize of the name wins over the lab's values."""
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0] if marker.args else marker.kwargs.get("argnames", "")
        if name in ([n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)):
            return True
    return False


@pytest.fixture(scope="session")
def lab(request: pytest.FixtureRequest) -> Lab:
    return Lab(suite_lab_dir(Path(str(request.config.rootpath))))


@pytest.fixture
def host(hosts, node: str):
    """The testinfra host of the node this test runs for."""
    return hosts[node]


@pytest.fixture(scope="session")
def spec(lab: Lab) -> LabSpec:
    return lab.spec


@pytest.fixture(scope="session")
def provider(lab: Lab) -> Provider:
    """labgen's provider, or the plain-vagrant view of a lab brought up with `vagrant up`."""
    # a lab that plain `vagrant up` brought up has vagrant's machine state and no labgen ssh_config
    return PlainVagrantProvider(lab) if is_plain(lab) else provider_for(lab)


@pytest.fixture(scope="session")
def hosts(lab: Lab, provider: Provider) -> dict[str, testinfra.host.Host]:
    """node name -> testinfra host over ssh, the same way `ssh -F LAB/ssh_config NODE` goes."""
    config = str(provider.ssh_config())
    return {
        node.name: testinfra.get_host(f"ssh://{node.name}", ssh_config=config, sudo=provider.sudo)
        for node in lab.spec.nodes
    }


@pytest.fixture(scope="session")
def preferred(spec: LabSpec, hosts):
    return hosts[spec.preferred.name]


@pytest.fixture(scope="session")
def backup(spec: LabSpec, hosts):
    return hosts[next(n.name for n in spec.nodes if n.role == "backup")]


def no_lvs(spec: LabSpec) -> str | None:
    """Why this lab cannot show LVS (the lab's stated reason), or None where it can."""
    if spec.features.get("ip_vs", True):
        return None
    return next((s.reason for s in spec.skipped), "no ip_vs in this kernel")


@pytest.fixture(scope="session")
def lvs(spec: LabSpec) -> None:
    """Skip, with the lab's stated reason, where the kernel offers no LVS."""
    if reason := no_lvs(spec):
        pytest.skip(f"LVS check skipped: {reason}")


class Client:
    """The client seat (the tutorial's "your local computer") on the public network."""

    def __init__(self, provider: Provider):
        self.provider = provider
        self.spec = provider.lab.spec

    def get(self, source: str | None = None) -> str | None:
        return http_via_vip(self.provider, source)

    def served_by(self, source: str | None = None) -> str | None:
        return served_by(self.spec, self.get(source))

    @contextlib.contextmanager
    def extra_addresses(self, addresses: list[str]) -> Iterator[None]:
        """Give the seat more client addresses for a while (new clients, with no LVS history)."""
        prefix = ipaddress.ip_network(self.spec.networks[self.spec.vip_network].cidr).prefixlen
        added = []
        try:
            for address in addresses:
                self._ip("add", f"{address}/{prefix}")
                added.append(address)
            yield
        finally:
            for address in added:
                self._ip("del", f"{address}/{prefix}")

    def _ip(self, verb: str, address: str) -> None:
        device = self.provider.client_interface
        done = self.provider.client_exec(["ip", "addr", verb, address, "dev", device], timeout=10)
        assert done.returncode == 0, f"client seat: ip addr {verb} {address}: {done.stderr.strip()}"

    def wait_served_by(self, node: str, timeout: float, source: str | None = None) -> None:
        wait_for(
            lambda: self.served_by(source),
            lambda seen: seen == node,
            expected=f"HTTP through the VIP answered by {node}",
            timeout=timeout,
        )


@pytest.fixture(scope="session")
def client(provider: Provider) -> Client:
    return Client(provider)


@pytest.fixture(scope="session")
def macs(provider: Provider) -> dict[str, str]:
    return public_macs(provider)


@pytest.fixture(scope="session")
def settling() -> dict:
    """What the suite knows of the lab's steady state: settled after the last test, or the first
    failure to settle (then every later behaviour test is skipped at once, naming it)."""
    return {"settled": False, "failed": None}


@pytest.fixture
def restore(provider: Provider, spec: LabSpec, settling: dict, request: pytest.FixtureRequest):
    """Yields the faults module to a test that starts from a lab settled with the VIP on the preferred
    node; afterwards heals the lab and waits until it is settled that way again, so the next test
    starts from the state the tutorial describes. A lab that never settles fails once, not per test."""
    if settling["failed"]:
        pytest.skip(f"needs a settled lab, and it did not settle ({settling['failed']})")
    if not settling["settled"]:
        _settle(provider, spec, settling, request)
    yield faults
    settling["settled"] = False
    faults.heal(provider)
    _settle(provider, spec, settling, request, unwedge=True)


def _settle(
    provider: Provider, spec: LabSpec, settling: dict, request: pytest.FixtureRequest, unwedge: bool = False
) -> None:
    """After a test (unwedge), a daemon stuck in a state it never leaves is restarted once, with a
    warning, so the tests after it start from a settled lab; before a test, never: a lab that does
    not settle by itself is what a test must see."""
    try:
        try:
            wait_settled(provider, on=spec.preferred.name)
        except PollTimeout as exc:
            restarted = protocols.of(spec).unwedge(provider) if unwedge else []
            if not restarted:
                raise
            stuck = f"{spec.daemon} restarted on {', '.join(restarted)}"
            warnings.warn(f"after {request.node.name}: {exc}; {stuck}", stacklevel=1)
            wait_settled(provider, on=spec.preferred.name)
    except PollTimeout as exc:
        settling["failed"] = f"first seen at {request.node.name}: {exc}"
        raise
    settling["settled"] = True
