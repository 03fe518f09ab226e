"""labgen's benchmark: every figure against a floor measured in the same run, with its spread.

    .venv/bin/python bench/run.py [--sections box,cli,nspawn,failover,breakages,exercises,libvirt,
                                              releases,class,class-vm,class-vm-parallel,
                                              class-limits] [--repeat N]
                                             [--update]

Writes BENCHMARKS.md (a table a person reads) and bench/results.json (for programs). This machine
is shared and noisy, so targets are ratios against a floor (a bare Python start, a bare container
or VM boot) taken in the same run, and every figure gives min / median / max over the repeats.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parent.parent
LABGEN = [sys.executable, "-m", "labgen"]


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def run(argv: list[str]) -> None:
    subprocess.run(argv, check=True, capture_output=True, cwd=ROOT)


def spread(samples: list[float]) -> dict:
    return {"min": min(samples), "median": statistics.median(samples), "max": max(samples), "n": len(samples)}


def figure(name: str, samples: list[float], floor: dict | None, target: str, how: str) -> dict:
    result = {"name": name, **spread(samples), "target": target, "how": how}
    if floor:
        result["ratio_to_floor"] = result["median"] / floor["median"]
    return result


def cli_section(repeat: int) -> list[dict]:
    """Start-up and render times against the floor of starting the same Python."""
    floor = spread([timed(lambda: run([sys.executable, "-c", "pass"])) for _ in range(repeat)])
    out = Path(tempfile.mkdtemp(prefix="labgen-bench-"))
    commands = {
        "labgen --help": ([*LABGEN, "--help"], "< 0.3 s"),
        "labgen list": ([*LABGEN, "list"], "< 0.3 s"),
        "labgen render keepalived-rr": (
            [*LABGEN, "render", "keepalived-rr", "-o", str(out), "--force"],
            "< 0.5 s",
        ),
        "labgen render heartbeat-nginx": (
            [*LABGEN, "render", "heartbeat-nginx", "-o", str(out), "--force"],
            "< 0.5 s",
        ),
    }
    figures = [{"name": "floor: python -c pass", **floor, "target": "", "how": "bare interpreter start"}]
    for name, (argv, target) in commands.items():
        samples = [timed(lambda argv=argv: run(argv)) for _ in range(repeat)]
        figures.append(figure(name, samples, floor, target, "wall time of the whole process"))
    return figures


BLUEPRINTS = ("keepalived-rr", "heartbeat-nginx")
LABS = Path(os.environ.get("LABGEN_HOME", "/var/lib/labgen")) / "labs"


def labgen(*args: str, code: Path = ROOT) -> str:
    """labgen of the checkout `code` (python -m imports the package from the working directory)."""
    result = subprocess.run([*LABGEN, *args], capture_output=True, text=True, cwd=code)
    if result.returncode != 0:
        sys.exit(f"bench: labgen {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def up_timed(name: str, *args: str) -> dict:
    """`labgen up` timed from outside, with the split it records itself (LAB/logs/up.json): ready =
    machines booted and provisioned, election = the protocol's first election after that."""
    from labgen.lab import Lab

    wall = timed(lambda: labgen("up", *args, "--name", name))
    return {"wall": wall, **json.loads(Lab(LABS / name).up_record.read_text())}


def up_figures(blueprint: str, ups: list[dict], floor: dict, target: str, how: str) -> list[dict]:
    """The whole up, its ready part against the provider's floor, the election against the protocol."""
    expected, rule = ups[0]["election_expected_s"], ups[0]["election_rule"]
    return [
        figure(f"{blueprint}: up (VIP on lb0)", [u["wall"] for u in ups], floor, "", how),
        figure(f"{blueprint}: up: machines ready", [u["ready_s"] for u in ups], floor, target,
               "from up's first step to the last provisioner's end, as up records it in logs/up.json"),
        figure(f"{blueprint}: up: first election", [u["election_s"] for u in ups], None,
               f"protocol {expected:.2f} s", f"{rule}; from ready to the VIP seen on lb0: the daemon "
               "starts in the provisioner's last step, so what up does after it (libvirt: the ssh "
               "config) overlaps the election"),
    ]


def lab_memory_mib(name: str) -> float:
    """PSS of every process inside the lab's containers (descendants of its nspawn processes)."""
    roots = {int(p.read_text()) for p in (LABS / name / "state").glob("*.pid")}
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError):
            continue

    def inside(pid: int) -> bool:
        while pid > 1:
            if pid in roots:
                return True
            pid = parents.get(pid, 0)
        return False

    total_kib = 0
    for pid in filter(inside, parents):
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        total_kib += next(int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:"))
    return total_kib / 1024


def nspawn_floor(repeat: int) -> dict:
    """A bare container boot: the same provider and root, provisioners replaced by `true`."""
    from labgen.lab import Lab
    from labgen.progress import Progress
    from labgen.providers.nspawn import NspawnProvider

    samples = []
    for i in range(repeat):
        name = f"bench-floor{i}"
        labgen("render", "keepalived-rr", "-o", str(LABS / name), "--name", name, "--provider", "nspawn")
        for script in (LABS / name / "provision").iterdir():
            script.write_text("#!/bin/sh\ntrue\n")
        provider = NspawnProvider(Lab(LABS / name))
        try:
            samples.append(timed(lambda provider=provider: provider.up(Progress(quiet=True))))
        finally:
            provider.down()
            labgen("down", name)
    return spread(samples)


def nspawn_section(repeat: int) -> list[dict]:
    """up (to the VIP on the preferred node), verify and down per blueprint; memory of a lab."""
    floor = nspawn_floor(repeat)
    figures = [
        {
            "name": "floor: boot 2 bare containers",
            **floor,
            "target": "",
            "how": "same provider, no provisioning",
        }
    ]
    for blueprint in BLUEPRINTS:
        ups, verify, down, memory = [], [], [], []
        for i in range(repeat):
            name = f"bench-{blueprint[:4]}{i}"
            ups.append(up_timed(name, blueprint, "--provider", "nspawn"))
            memory.append(lab_memory_mib(name))
            if i == 0:
                verify.append(timed(lambda name=name: labgen("verify", name)))
            down.append(timed(lambda name=name: labgen("down", name)))
        how = "wall time of the labgen command"
        figures += [
            *up_figures(blueprint, ups, floor, "< 5 s", how + "; includes the VIP election"),
            figure(f"{blueprint}: verify", verify, None, "", how + " (whole testinfra suite, once)"),
            figure(f"{blueprint}: down", down, None, "< 3 s", how),
            {
                "name": f"{blueprint}: memory (MiB)",
                **spread(memory),
                "target": "< 150",
                "how": "PSS of all processes in the two containers, right after up",
            },
        ]
    return figures


FAULTS = ("stop", "crash", "freeze", "link-down", "reboot", "reset")
# a crashed pacemaker leaves the IP on its node and, with no fencing, the peer starts it too: the
# suite does not claim a crash survives, so neither does the bench
NO_FENCING_FAULTS = tuple(f for f in FAULTS if f != "crash")
VARIANTS = {  # label: (--set values, faults)
    "keepalived-rr": ([], FAULTS),
    "keepalived-rr VRRPv3 0.1 s": (
        ["keepalived.vrrp_version=3", "keepalived.auth_type=none", "keepalived.advert_int=0.1"],
        FAULTS,
    ),
    "heartbeat-nginx": ([], FAULTS),
    "heartbeat-nginx 200ms/1s": (["heartbeat.keepalive=200ms", "heartbeat.deadtime=1"], FAULTS),
    "pacemaker-nginx": ([], NO_FENCING_FAULTS),
}
TIMES = ("vip_moved_ms", "service_restored_ms", "failback_ms")


def failover_section(repeat: int) -> list[dict]:
    """Per fault, on nspawn labs, from the client seat: VIP move, service restored and failback
    against the protocol's formula, and what the client lost: pings (one a second, as the
    tutorials count them) and HTTP requests (one every 50 ms)."""
    figures = []
    for label, (sets, faults) in VARIANTS.items():
        blueprint, name = label.split()[0], "bench-failover"
        labgen("up", blueprint, "--provider", "nspawn", "--name", name, *(f"--set={s}" for s in sets))
        try:
            for fault in faults:
                reports = [
                    json.loads(labgen("failover", name, "--fault", fault, "--json")) for _ in range(repeat)
                ]
                figures += fault_figures(f"{label}: {fault}", reports)
        finally:
            labgen("down", name)
    return figures


def fault_figures(label: str, reports: list[dict]) -> list[dict]:
    first = reports[0]
    expected, rule, earliest = first["expected_ms"], first["expected_rule"], first["earliest_ms"]
    how = {
        "vip_moved_ms": f"{rule}; the client's ARP entry, seen within {first['vip_moved_error_ms']:.0f} ms",
        "service_restored_ms": f"the first answer, seen within {first['service_restored_error_ms']:.0f} ms",
        "failback_ms": "from the undo; the client's ARP entry",
    }
    figures = []
    for field in TIMES:
        values = [r[field] / 1000 for r in reports if r[field] is not None]
        if values:
            target = ""
            if field == "vip_moved_ms" and expected:
                floor = f", >= {earliest / 1000:.2f} s" if earliest else ""
                target = f"protocol {expected / 1000:.2f} s{floor}"
            figures.append(figure(f"{label}: {field[:-3]} (s)", values, None, target, how[field]))
    pings = math.ceil(expected / 1000) + 1 if expected else 2  # "after 1 or 2 pings"
    figures.append(figure(f"{label}: pings lost", [r["pings_lost"] for r in reports], None,
                          f"<= {pings}", "ping -i 1 from the client seat, fault to undo"))
    figures.append(figure(f"{label}: requests failed", [r["requests_failed"] for r in reports], None,
                          "", "of one every 50 ms, fault to failback"))
    return figures


def breakages_section(repeat: int) -> list[dict]:
    """The verifier verified: each blueprint's catalogue run by its tests, once (repeat is ignored;
    tests/integration/test_breakages_*.py, test_exercises_*.py); per blueprint: caught of total,
    seconds per breakage, and the same of its exercises."""
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "breakages.xml"
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junit-xml={junit}",
                *map(str, sorted((ROOT / "tests" / "integration").glob("test_[be][rx]e*_*.py")))]
        subprocess.run(argv, cwd=ROOT, capture_output=True, check=False)
        cases = ElementTree.parse(junit).getroot().iter("testcase")
        outcomes: dict[tuple[str, str], list[tuple[bool, float]]] = {}
        for case in cases:
            if case.find("skipped") is None:
                module = case.get("classname").rsplit(".", 1)[-1]  # test_exercises_pacemaker_hard
                blueprint = module.split("_")[2]
                kind = "exercise" if module.startswith("test_exercises") else "breakage"
                caught = case.find("failure") is None and case.find("error") is None
                outcomes.setdefault((blueprint, kind), []).append((caught, float(case.get("time"))))
    how = {"breakage": ("caught", "apply, fail its claims, undo, pass them again"),
           "exercise": ("graded", "start, check fails, hint, solve, check passes, break, reset, pass")}
    for (blueprint, kind), results in sorted(outcomes.items()):
        passed = sum(1 for ok, _ in results if ok)
        verb, steps = how[kind]
        figures.append(figure(f"{blueprint}: {kind}s {verb} of {len(results)}", [passed], None,
                              f"{len(results)} (100 %)", "nspawn; LVS ones on VMs in tests/e2e"))
        figures.append(figure(f"{blueprint}: seconds per {kind}", [t for _, t in results], None, "", steps))
    return figures


def exercises_section(repeat: int) -> list[dict]:
    """Each keepalived-rr exercise on one container lab, as a student meets it: `exercise check`
    on the broken lab and on the mended one (target: 15 s unless it needs a failover), and the
    reset that ends it (repeat is ignored: each exercise is one sample)."""
    from labgen.model.exercises import load_exercises

    exercises = load_exercises(ROOT / "blueprints" / "keepalived-rr").exercises
    name, checks = "bench-ex", {"easy": [], "medium": [], "hard": []}
    mended, resets = [], []
    subprocess.run([*LABGEN, "down", name], capture_output=True, check=False)
    labgen("up", "keepalived-rr", "--provider", "nspawn", "--name", name)
    try:
        for exercise in exercises:
            labgen("exercise", "start", name, exercise.id)
            checks[exercise.difficulty].append(timed(lambda: _check(name, broken=True)))
            labgen("exercise", "solve", name)
            mended.append(timed(lambda: _check(name, broken=False)))
            resets.append(timed(lambda: labgen("exercise", "reset", name)))
    finally:
        labgen("down", name)
    how = "nspawn, keepalived-rr, each claim up to its first failing test"
    return [
        *(figure(f"exercise check, broken, {level} (s)", samples, None,
                 "<= 15 s" if level != "hard" else "a failover", how)
          for level, samples in checks.items() if samples),
        figure("exercise check, mended (s)", mended, None, "", "every claim's tests pass"),
        figure("exercise reset (s)", resets, None, "<= 2 s + election", "labgen reset, record closed"),
    ]


def _check(lab: str, *, broken: bool) -> None:
    done = subprocess.run([*LABGEN, "exercise", "check", lab], capture_output=True, text=True, cwd=ROOT)
    if done.returncode != (1 if broken else 0):
        sys.exit(f"bench: exercise check on {lab} said exit {done.returncode}:\n{done.stdout}")


def libvirt_floor(name: str) -> float:
    """Bare boot of the lab's two VMs: virsh destroy, then virsh start both until ssh answers."""
    from labgen.labs import find_lab, provider_for
    from labgen.providers.libvirt import libvirtd
    from labgen.providers.libvirt.provider import NAME_PREFIX, domain_name

    provider = provider_for(find_lab(name))
    spec = provider.lab.spec
    for node in spec.nodes:
        libvirtd.virsh(spec.namespace, "destroy", domain_name(NAME_PREFIX, node.name))

    def boot() -> None:
        for node in spec.nodes:
            libvirtd.virsh(spec.namespace, "start", domain_name(NAME_PREFIX, node.name))
        for node in spec.nodes:
            while provider.exec(node.name, ["true"], timeout=10).returncode != 0:
                time.sleep(0.5)

    return timed(boot)


def qemu_rss_mib(name: str) -> float:
    """RSS of the lab's qemu processes: those in its daemon's cgroup (every lab names its machines
    alike, so a command line tells no lab from another)."""
    from labgen.providers.libvirt import libvirtd

    total = 0
    for pid in libvirtd.Daemon(f"labgen-{name}").group.pids():
        try:
            if b"qemu-system" in Path(f"/proc/{pid}/cmdline").read_bytes():
                status = Path(f"/proc/{pid}/status").read_text()
                total += next(int(x.split()[1]) for x in status.splitlines() if x.startswith("VmRSS"))
        except OSError:
            continue
    return total / 1024


def disk_mib(name: str) -> float:
    """What a lab's machines wrote of their own: the overlays in its pool (box links excluded)."""
    from labgen.providers.libvirt import libvirtd

    pool = libvirtd.Daemon(f"labgen-{name}").pool
    return sum(p.stat().st_blocks * 512 for p in pool.glob("lab-*.img")) / 2**20


def libvirt_section(repeat: int) -> list[dict]:
    """keepalived-rr on two TCG/KVM VMs: a fresh up (boot and provisioning; it saves the machines
    when no save of them exists) against the bare boot of the same VMs, then labs restored from the
    save (up, reset, disk, memory), verify once, down."""
    fresh = up_timed("bench-vm0", "keepalived-rr", "--provider", "libvirt", "--fresh")
    verify = [timed(lambda: labgen("verify", "bench-vm0"))]
    floor = [libvirt_floor("bench-vm0")]
    down = [timed(lambda: labgen("down", "bench-vm0"))]
    restored, resets, memory, disk = [], [], [], []
    for i in range(repeat):
        name = f"bench-vr{i}"
        restored.append(up_timed(name, "keepalived-rr", "--provider", "libvirt"))
        memory.append(qemu_rss_mib(name))
        resets.append(timed(lambda name=name: labgen("reset", name)))
        disk.append(disk_mib(name))
        if i == 0:
            floor.append(libvirt_floor(name))
        down.append(timed(lambda name=name: labgen("down", name)))
    floor_spread = spread(floor)
    how = "wall time of the labgen command, cached box"
    return [
        {"name": "floor: virsh start of both VMs until ssh answers", **floor_spread, "target": "",
         "how": "same domains"},
        *up_figures("keepalived-rr (fresh)", [fresh], floor_spread, "< 1.5x floor", how + ", --fresh"),
        figure("keepalived-rr: up restored from the save (VIP served)", [u["wall"] for u in restored],
               floor_spread, "<= 10 s, a third of the floor", how + "; both machines restored paused from "
               "their saved memory onto their own disk overlays, resumed together, clocks set"),
        figure("keepalived-rr: reset of a restored lab", resets, floor_spread, "<= 5 s",
               how + "; fresh overlays on the saved disks, memory restored, clocks set"),
        figure("keepalived-rr: disk of a restored lab (MiB)", disk, None, "",
               "both overlays on the saved disks, allocated blocks, after up and one reset"),
        figure("keepalived-rr: verify", verify, None, "", how + " (whole testinfra suite with LVS, once)"),
        figure("keepalived-rr: down", down, None, "", how),
        {"name": "keepalived-rr: memory of both qemu, restored (MiB)", **spread(memory), "target": "< 2048",
         "how": "RSS right after up (TCG translation cache capped at 128 MiB)"},
    ]


RELEASE_FAULTS = ("stop", "link-down")


def releases_section(repeat: int) -> list[dict]:
    """Per Debian release: its container root's build (time, size, as the build recorded them in
    its manifest; `--force` a rebuild to measure again), and each blueprint's failover on
    containers of that release (the daemons differ; the kernel is the host's)."""
    from labgen.boxes import rootfs
    from labgen.boxes.releases import releases

    figures = []
    for box in [r.name for r in releases().values() if r.distro == "debian"]:
        run([*LABGEN, "box", "build", box, "--for", "nspawn"])
        built = rootfs.manifest(box)
        figures.append(figure(f"{box}: root build (s)", [built["build_s"]], None, "",
                              f"debootstrap + the service packages, built {built['built_at']}"))
        size = built["size_bytes"] / 2**20
        figures.append(figure(f"{box}: root size (MiB)", [size], None, "", "du of the root, as built"))
        for blueprint in ("keepalived-rr", "heartbeat-nginx", "pacemaker-nginx"):
            figures += release_failovers(box, blueprint, repeat)
    return figures


def release_failovers(box: str, blueprint: str, repeat: int) -> list[dict]:
    name, figures = "bench-release", []
    labgen("up", blueprint, "--provider", "nspawn", "--name", name, "--box", box)
    try:
        for fault in RELEASE_FAULTS:
            runs = range(repeat)
            reports = [json.loads(labgen("failover", name, "--fault", fault, "--json")) for _ in runs]
            moved = [r["vip_moved_ms"] / 1000 for r in reports if r["vip_moved_ms"] is not None]
            expected = reports[0]["expected_ms"]
            target = f"protocol {expected / 1000:.2f} s" if expected else ""
            figures.append(figure(f"{box} {blueprint}: {fault}: vip_moved (s)", moved, None, target,
                                  reports[0]["expected_rule"] or "probe every 50 ms"))
    finally:
        labgen("down", name)
    return figures


CLASS_SEATS = {"nspawn": 30, "libvirt": 8}  # BENCH_SEATS=N in the environment for a smaller class
CLASS_PREFIX = "bench"  # seats bench01.. (the security tests' are seat01..)
CLASS_WAIT = 1800.0  # a host has one class at a time: another one (the tests') is waited for this long
CLASS_GAP = 15.0  # first, a class that waited for the last one (the tests look every 2 s) goes first


def class_section(repeat: int) -> list[dict]:
    """A class of 30 keepalived-rr seats on containers, on a host with default kernel limits (class
    up raises what it must)."""
    return class_figures("nspawn", parallel=4, repeat=repeat)


def class_vm_section(repeat: int) -> list[dict]:
    """A class of 8 keepalived-rr seats on TCG VMs (16 machines on 2 cores), one seat at a time, as
    the workshop guide advises for VMs; each seat restored from the saved lab, as is its reset."""
    return class_figures("libvirt", parallel=1, repeat=repeat)


def class_vm_parallel_section(repeat: int) -> list[dict]:
    """How many restored VM seats to start at once: the class-vm class (one seat of reset each) at
    1, 2 and 4 seats at a time, each time after a first `up` made sure the saved lab exists."""
    labgen("up", "keepalived-rr", "--name", "bench-save", "--provider", "libvirt")  # saves, or restores
    labgen("down", "bench-save")
    figures = []
    for parallel in (1, 2, 4):
        c = class_run("libvirt", parallel, 1)
        figures.append(figure(f"class up, {c['seats']} seats, {parallel} at a time (s)", [c["up"]], None, "",
                              f"restored seats; serving {c['serving']} of {c['seats']}; "
                              f"memory {c['memory'] / c['seats']:.0f} MiB a seat"))
    return figures


def class_figures(provider: str, *, parallel: int, repeat: int) -> list[dict]:
    c = class_run(provider, parallel, repeat)
    seats_n = c["seats"]
    how = f"{seats_n} seats on {provider}, {parallel} at a time; kernel limits as the host had them"
    target = {"nspawn": "<= 2 s + election", "libvirt": "<= 5 s (TCG, restored)"}[provider]
    undo = {"nspawn": "layers dropped, boot, provisioning, election",
            "libvirt": "both VMs restored from the saved lab onto fresh overlays, clocks set"}[provider]
    return [
        figure(f"class up, {seats_n} seats (s)", [c["up"]], None, "", how),
        figure(f"memory, {seats_n} seats (MiB)", [c["memory"]], None, "", "MemAvailable before up, after"),
        figure("memory per seat (MiB)", [c["memory"] / seats_n], None, "", "the above / seats"),
        figure(f"seats serving their VIP (of {seats_n})", [c["serving"]], None, str(seats_n),
               "curl from each seat's client seat"),
        figure("labgen reset, one seat (s)", c["resets"], None, target, f"a seat of the full class: {undo}"),
        figure(f"class down, {seats_n} seats (s)", [c["down"]], None, "", "labs, accounts, rule, limits"),
    ]


def class_run(provider: str, parallel: int, repeat: int, code: Path = ROOT) -> dict:
    """One class of keepalived-rr seats by the labgen of checkout `code`, once no other class is on
    the host: class up (its installation closed to the seats, as class up demands), memory of all
    seats (MemAvailable before and after), each seat serving its VIP to its client seat, labgen reset
    of a seat of the full class x repeat, class down."""
    from tests.security.seats import closed_installation  # the security tests' own: the same closing

    seats_n = int(os.environ.get("BENCH_SEATS", CLASS_SEATS[provider]))
    _wait_no_class()
    before_kib = _mem_available_kib()
    with closed_installation([f"{CLASS_PREFIX}{n:02d}" for n in range(1, seats_n + 1)]):
        try:
            up = timed(lambda: print(labgen("class", "up", "keepalived-rr", "--seats", str(seats_n),
                                            "--prefix", CLASS_PREFIX, "--provider", provider,
                                            "--parallel", str(parallel), code=code), file=sys.stderr))
            used = (before_kib - _mem_available_kib()) / 1024
            seats = [row["seat"] for row in json.loads(labgen("class", "roster", "--json", code=code))]
            serving = sum(bool(labgen("exec", seat, "client", "--", "curl", "-s", "--max-time", "5",
                                      "http://203.0.113.10/", code=code).strip()) for seat in seats)
            resets = [timed(lambda: labgen("reset", seats[0], code=code)) for _ in range(repeat)]
        finally:
            if _our_class():  # not one that came up between the wait and ours (ours then failed)
                down = timed(lambda: labgen("class", "down", code=code))
    return {"seats": seats_n, "up": up, "memory": used, "serving": serving, "resets": resets, "down": down}


def _wait_no_class() -> None:
    from labgen.classroom import seats as classroom

    time.sleep(CLASS_GAP)  # 9207bcc's class up takes no lock: two that found no class would make two
    deadline = time.monotonic() + CLASS_WAIT
    if classroom.state_file().exists():
        print("bench: waiting for the class on this host to go (labgen class status)", file=sys.stderr)
    while classroom.state_file().exists():
        if time.monotonic() > deadline:
            sys.exit(f"bench: a class is still on this host after {CLASS_WAIT:.0f} s: labgen class status")
        time.sleep(10)


def _our_class() -> bool:
    from labgen.classroom import seats as classroom

    state = classroom.state_file()
    seats = json.loads(state.read_text())["seats"] if state.exists() else {}
    return bool(seats) and all(name.startswith(CLASS_PREFIX) for name in seats)


BEFORE_LIMITS = "9207bcc"  # the last commit before nodes ran bounded in labgen's cgroups (ea2d2d2, 3480c68)


def class_limits_section(repeat: int) -> list[dict]:
    """What the nodes' bounds (cgroups: pids, memory, cpu; a tmpfs writable layer) cost a class: the
    class section's class by the code of BEFORE_LIMITS (a git worktree) and by this code, alternately
    (repeat rounds of before then after, so the machine's drift touches both); each round's after
    over its before."""
    tmp = Path(tempfile.mkdtemp(prefix="labgen-bench-"))
    old = tmp / BEFORE_LIMITS
    run(["git", "worktree", "add", "--detach", str(old), BEFORE_LIMITS])
    try:
        probe = [sys.executable, "-c", "import labgen, labgen.boxes.rootfs as r; "
                 "print(labgen.__file__, r.recipe_hash())"]
        found = {code: subprocess.run(probe, cwd=code, capture_output=True, text=True, check=True)
                 .stdout.split() for code in (old, ROOT)}
        (module, recipe), this_recipe = found[old], found[ROOT][1]
        print(f"bench: before the limits, labgen is {module}", file=sys.stderr)
        if not module.startswith(f"{old}/") or recipe != this_recipe:
            sys.exit(f"bench: {BEFORE_LIMITS}'s labgen is {module}, its box recipe {recipe[:12]} (this "
                     f"code's: {this_recipe[:12]}): it would not run the same box")
        rounds = [{code: class_run("nspawn", 4, repeat, code) for code in (old, ROOT)} for _ in range(repeat)]
    finally:
        run(["git", "worktree", "remove", "--force", str(old)])
        tmp.rmdir()
    seats_n = rounds[0][ROOT]["seats"]
    how = f"{seats_n} keepalived-rr seats on nspawn, 4 at a time; one class a round"
    measures = {  # name: (what of a class run, target of after / before, how)
        f"class up, {seats_n} seats (s)": (lambda c: [c["up"]], "<= 1.10", how),
        "labgen reset, one seat of the full class (s)": (lambda c: c["resets"], "<= 1.10", how),
        "memory per seat (MiB)": (lambda c: [c["memory"] / c["seats"]], "",
                                  "MemAvailable before up, after, / seats (other labs on the host count)"),
    }
    figures = []
    for name, (samples, target, how) in measures.items():
        for label, code in ((f"before ({BEFORE_LIMITS})", old), ("after", ROOT)):
            figures.append(figure(f"{name}, {label}", [s for r in rounds for s in samples(r[code])], None,
                                  "", how))
        ratios = [statistics.median(samples(r[ROOT])) / statistics.median(samples(r[old])) for r in rounds]
        figures.append(figure(f"{name}: after / before", ratios, None, target,
                              "per round: the median after over the median before"))
    for label, code in ((f"before ({BEFORE_LIMITS})", old), ("after", ROOT)):
        figures.append(figure(f"seats serving their VIP (of {seats_n}), {label}",
                              [r[code]["serving"] for r in rounds], None, str(seats_n),
                              "curl from each seat's client seat"))
    return figures


def _mem_available_kib() -> int:
    rows = Path("/proc/meminfo").read_text().splitlines()
    line = next(row for row in rows if row.startswith("MemAvailable"))
    return int(line.split()[1])


def box_section(repeat: int) -> list[dict]:
    """The take-home box (`labgen box export`), gzip'd and not: size and time, the floor being the
    plain tar of the same image (--no-compress)."""
    out = Path(tempfile.mkdtemp(prefix="labgen-bench-box-"))
    sizes: dict[str, list[float]] = {"plain": [], "gzip": []}
    times: dict[str, list[float]] = {"plain": [], "gzip": []}
    try:
        for _ in range(repeat):
            for kind, extra in (("plain", ["--no-compress"]), ("gzip", [])):
                box = out / f"{kind}.box"
                times[kind].append(timed(lambda box=box, extra=extra: run(
                    [*LABGEN, "box", "export", "debian-12", "-o", str(box), *extra])))
                sizes[kind].append(box.stat().st_size / 2**20)
                box.unlink()
    finally:
        shutil.rmtree(out, ignore_errors=True)
    floor_size, floor_time = spread(sizes["plain"]), spread(times["plain"])
    return [
        {"name": "debian-12 box, --no-compress (MiB)", **floor_size, "target": "",
         "how": "the floor: a plain tar"},
        figure("debian-12 box, gzip -1 (MiB)", sizes["gzip"], floor_size, "< 0.5x",
               "what vagrant box add reads; vs floor: the share of the plain size"),
        {"name": "export, --no-compress (s)", **floor_time, "target": "", "how": "wall time"},
        figure("export, gzip -1 (s)", times["gzip"], floor_time, "", "wall time; one core compresses"),
    ]


SECTIONS: dict[str, Callable[[int], list[dict]]] = {
    "box": box_section,
    "cli": cli_section,
    "nspawn": nspawn_section,
    "failover": failover_section,
    "breakages": breakages_section,
    "exercises": exercises_section,
    "libvirt": libvirt_section,
    "releases": releases_section,
    "class": class_section,
    "class-vm": class_vm_section,
    "class-vm-parallel": class_vm_parallel_section,
    "class-limits": class_limits_section,
}


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        "# labgen benchmarks",
        "",
        f"Measured {m['date']} on {m['cpus']} CPUs, {m['memory_gib']} GiB, kernel {m['kernel']}, "
        f"Python {m['python']} by `.venv/bin/python bench/run.py` (see its docstring).",
        "",
    ]
    for section, figures in results["sections"].items():
        lines += [f"## {section}", ""]
        if when := results.get("measured", {}).get(section):
            lines += [f"Section measured {when}.", ""]
        lines += [
            "| figure | min | median | max | n | vs floor | target | how |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for f in figures:
            ratio = f"{f['ratio_to_floor']:.2f}x" if "ratio_to_floor" in f else ""
            lines.append(
                f"| {f['name']} | {f['min']:.3f} | {f['median']:.3f} | {f['max']:.3f} | {f['n']} | {ratio} "
                f"| {f['target']} | {f['how']} |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sections", default=",".join(SECTIONS))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument(
        "--update", action="store_true", help="keep the other sections of bench/results.json (same machine)"
    )
    args = parser.parse_args()
    saved = ROOT / "bench" / "results.json"
    results = json.loads(saved.read_text()) if args.update and saved.exists() else {"sections": {}}
    results["machine"] = machine()
    for section in args.sections.split(","):
        if section not in SECTIONS:
            sys.exit(f"bench: unknown section {section!r}; known: {', '.join(SECTIONS)}")
        print(f"bench: {section} …", file=sys.stderr)
        results["sections"][section] = SECTIONS[section](args.repeat)
        results.setdefault("measured", {})[section] = results["machine"]["date"]
    saved.write_text(json.dumps(results, indent=2) + "\n")
    args.out.write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
