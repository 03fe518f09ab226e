"""labgen-seat: what a seat account may run as root (through sudo), on its own lab only.

A student types `labgen status`, `labgen verify --quick`, `labgen exec lb0 -- ip addr`, ...; the
seat's `labgen` is `sudo -n labgen-seat "$@"`. The seat comes from the account sudo ran this for
(SUDO_USER, checked against SUDO_UID), its lab from the seat's root-owned file; the arguments are
checked against a short list of verbs and options before labgen's own command line sees them, and
the environment is the seat file's, never the caller's. Naming another lab is refused. A seat runs
at most boundary.HELPERS of these at once.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

from labgen.classroom import accounts, boundary
from labgen.errors import LabgenError

# verb -> (flags, options taking a value); every verb takes its lab implicitly
VERBS: dict[str, tuple[set[str], set[str]]] = {
    "status": ({"--json"}, set()),
    "verify": ({"--quick", "-x", "--exitfirst", "-v", "--verbose"}, {"-k", "--claim"}),
    "failover": ({"--json", "--watch"}, {"--fault"}),
    "watch": (set(), {"--for"}),  # its keys fault the seat's own lab, as failover does
    "reset": (set(), set()),
    "exec": ({"--stdin", "-i"}, set()),
    "ssh": (set(), set()),
    # exercises: a seat starts, checks and resets its own; `exercise solve` is the teacher's
    "exercise start": (set(), set()),
    "exercise check": (set(), set()),
    "exercise hint": (set(), set()),
    "exercise reset": (set(), set()),
}
NODE_VERBS = {"exec", "ssh", "exercise start"}  # these name a node (or an exercise) after the lab
HELP = {"-h", "--help"}


def main() -> None:
    try:
        account, seat = _caller()
        argv = seat_argv(sys.argv[1:], seat["lab"], account)
        boundary.take_slot(account)  # held until this helper exits
    except LabgenError as exc:
        print(f"labgen: error: {exc}", file=sys.stderr)
        sys.exit(2)
    verb = " ".join(argv[:2] if argv[0] == "exercise" else argv[:1])
    _log_activity(Path(seat["home"]) / "labs" / seat["lab"], verb)
    env = {"LABGEN_HOME": seat["home"], "LABGEN_SEAT": account, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
           "LANG": "C.UTF-8"}
    sys.exit(_run_labgen(argv, env))


def _run_labgen(argv: list[str], env: dict[str, str]) -> int:
    """labgen's own command line, in a child this helper outlives, so that the seat's slot stays
    taken until the command ends (`labgen ssh` execs ssh, which closes every inherited file).
    SIGTERM and SIGHUP (sudo passes them on; class down sends SIGTERM) go on to the child; Ctrl-C
    reaches it from the terminal. Isolated Python, from /: nothing of the seat's folders on its path."""
    _lift_seat_limits()
    child = subprocess.Popen([sys.executable, "-I", "-m", "labgen", *argv], env=env, cwd="/")
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda number, _frame: child.send_signal(number))
    for sig in (signal.SIGINT, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_IGN)
    code = child.wait()
    return 128 - code if code < 0 else code


CAP_SYS_RESOURCE = 24


def can_lift_seat_limits() -> bool:
    """Whether root here may raise a hard limit (CAP_SYS_RESOURCE): in a container it may not, and
    a seat's commands in its nodes then keep the seat's process limit (labgen doctor says so)."""
    status = Path("/proc/self/status").read_text()
    effective = next(line.split()[1] for line in status.splitlines() if line.startswith("CapEff:"))
    return bool(int(effective, 16) >> CAP_SYS_RESOURCE & 1)


def _lift_seat_limits() -> None:
    """The seat's process limit (pam_limits, accounts.NPROC) is for its own processes. This root
    helper inherits it through sudo and would hand it on to what it starts for the lab (a node's
    commands, a VM's qemu, counted per user host-wide): those get the host's init's instead. Root
    without CAP_SYS_RESOURCE (labgen in a container) may not raise a hard limit: the seat's stays."""
    for line in Path("/proc/1/limits").read_text().splitlines():
        if line.startswith("Max processes"):
            soft, hard = (resource.RLIM_INFINITY if word == "unlimited" else int(word)
                          for word in line.split()[2:4])
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_NPROC, (soft, hard))


def _log_activity(lab: Path, verb: str) -> None:
    """One line per command in the lab's logs, for the teacher's `class status`."""
    with contextlib.suppress(OSError), (lab / "logs" / "activity.log").open("a") as log:
        log.write(f"{time.time():.0f} {verb}\n")


def _caller() -> tuple[str, dict[str, str]]:
    if os.geteuid() != 0 or "SUDO_USER" not in os.environ:
        raise LabgenError("labgen-seat runs through sudo: use `labgen` from your seat account")
    account = os.environ["SUDO_USER"]
    try:
        known = pwd.getpwnam(account).pw_uid == int(os.environ.get("SUDO_UID", "-1"))
    except (KeyError, ValueError):
        known = False
    seat = boundary.seat_of(account) if known else None
    if seat is None:
        raise LabgenError(f"{account} is not a seat of this host's class")
    return account, seat


def seat_argv(args: list[str], lab: str, account: str) -> list[str]:
    """The labgen command line for args, with the seat's lab in place; LabgenError if args ask
    for anything a seat may not do."""
    if not args or args[0] in HELP:
        raise LabgenError(f"a seat runs: labgen {{{','.join(VERBS)}}} ... (on its lab, {lab})")
    verb, rest = args[0], args[1:]
    if verb == "exercise" and rest and not rest[0].startswith("-"):
        verb, rest = f"exercise {rest[0]}", rest[1:]
    if verb not in VERBS:
        raise LabgenError(f"`labgen {verb}` is not for seats; a seat runs: {', '.join(VERBS)}")
    command, options = _split_command(verb, rest)
    positional, checked = _check_options(verb, options)
    nodes = 1 if verb in NODE_VERBS else 0  # how many positionals besides the lab
    if len(positional) == nodes + 1 and (named := positional.pop(0)) != lab:
        raise LabgenError(f"seat {account} works on lab {lab} only, not {named!r}")
    if len(positional) != nodes:
        usage = {"exec": " NODE -- COMMAND", "ssh": " NODE", "exercise start": " NAME"}.get(verb, "")
        raise LabgenError(f"usage: labgen {verb}{usage} (your lab, {lab}, needs no naming)")
    if verb == "ssh" and positional == ["client"]:  # a shell in the client seat is an exec of one
        verb, command, checked = "exec", ["bash", "-l"], ["-i"]
    if verb == "exec" and positional == ["client"]:  # as the seat, within the seat's process limit
        command = ["prlimit", f"--nproc={accounts.NPROC}", "--", "setpriv", f"--reuid={account}",
                   f"--regid={account}", "--init-groups", "--", *command]
    return [*verb.split(), *checked, lab, *positional, *(["--", *command] if verb == "exec" else [])]


def _split_command(verb: str, rest: list[str]) -> tuple[list[str], list[str]]:
    if verb != "exec":
        return [], rest
    if "--" not in rest:
        raise LabgenError("labgen exec NODE -- COMMAND: the command goes after --")
    cut = rest.index("--")
    if not rest[cut + 1:]:
        raise LabgenError("labgen exec NODE -- COMMAND: no command after --")
    return rest[cut + 1:], rest[:cut]


def _check_options(verb: str, options: list[str]) -> tuple[list[str], list[str]]:
    flags, valued = VERBS[verb]
    positional, checked = [], []
    words = iter(options)
    for word in words:
        name, _, inline = word.partition("=")
        if word in flags | HELP:
            checked.append(word)
        elif name in valued:
            value = inline or next(words, None)
            if value is None:
                raise LabgenError(f"labgen {verb} {name}: give it a value")
            checked += [name, value]
        elif word.startswith("-"):
            raise LabgenError(f"labgen {verb} {name} is not for seats; they may use: "
                              f"{', '.join(sorted(flags | valued)) or 'no options'}")
        else:
            positional.append(word)
    return positional, checked
