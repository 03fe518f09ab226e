"""labgen hosts: what `hosts add` accepts, and the ssh command a host is reached with."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

import pytest

from labgen.errors import LabgenError
from labgen.remote import forced
from labgen.remote.hosts import parse


def test_a_host_is_a_name_an_ssh_address_and_options():
    host = parse("lab-b", "ssh://teacher@10.0.0.5:2222", None, ["ProxyJump=bastion"])
    assert (host.user, host.address, host.port, host.url) == ("teacher", "10.0.0.5", 2222,
                                                              "ssh://teacher@10.0.0.5:2222")
    argv = host.ssh_argv(["labgen", "status", "seat 01; rm -rf /"])
    assert argv[:3] == ["ssh", "-o", "BatchMode=yes"] and "HostKeyAlias=labgen-lab-b" in argv, argv
    assert argv[-3:-1] == ["--", "10.0.0.5"], "the address after --: never read as an option"
    assert shlex.split(argv[-1]) == ["labgen", "status", "seat 01; rm -rf /"], "each word quoted"
    assert argv[argv.index("ProxyJump=bastion") - 1] == "-o"


@pytest.mark.parametrize(
    ("name", "url", "options", "said"),
    [
        ("local", "ssh://root@h", [], "not 'local'"),
        ("Lab_B", "ssh://root@h", [], "lowercase"),
        ("b", "http://root@h", [], "ssh://USER@ADDRESS"),
        ("b", "ssh://h", [], "ssh://USER@ADDRESS"),
        ("b", "ssh://root@h:99999", [], "ssh://USER@ADDRESS"),
        ("b", "ssh://root@h/path", [], "ssh://USER@ADDRESS"),
        ("b", "ssh://root@-oProxyCommand=x", [], "may not start with -"),
        ("b", "ssh://root@h", ["-F/etc/x"], "KEY=VALUE"),
    ],
)
def test_anything_else_is_refused_in_one_line(name, url, options, said):
    with pytest.raises(LabgenError, match=said):
        parse(name, url, None, options)


def test_a_key_that_is_not_a_file_is_refused(tmp_path):
    with pytest.raises(LabgenError, match="no such file"):
        parse("b", "ssh://root@h", tmp_path / "missing", [])


@pytest.mark.parametrize("asked", ["rm -rf /tmp/t-none", "labgen_x --version", "", "'labgen", "sh -c labgen"])
def test_the_forced_command_refuses_anything_but_labgen(asked):
    done = _forced(asked)
    assert done.returncode == 126 and "this key runs labgen only" in done.stderr, done.stderr


@pytest.mark.parametrize("asked", [
    "labgen hosts add x ssh://a@b --ssh-option 'ProxyCommand=touch /tmp/t-forced-owned'",
    "labgen --host x list", "labgen --host=x list", "labgen serve --listen 0.0.0.0:80",
    "labgen render keepalived-rr -o /etc/cron.d", "labgen box export debian-12 --output /etc/x.box",
    "labgen capture seat01 lb0 --write=/etc/x.pcap", "labgen capture seat01 lb0 -w/etc/x.pcap",
    "labgen matrix --from /etc/shadow", "labgen box", "labgen",
])
def test_the_forced_command_keeps_to_labgens_own_labs(asked):
    """What would reach past the host's labs: another host (a ProxyCommand is a shell command), a
    listening port, a file of the host's named by the caller."""
    done = _forced(asked)
    assert done.returncode == 126 and "labgen-ssh: this key" in done.stderr, done.stderr
    assert not os.path.exists("/tmp/t-forced-owned")


def test_a_nodes_command_after_two_dashes_may_say_anything():
    assert forced.refusal(["labgen", "exec", "lb0", "--", "grep", "-w", "-o", "x", "/etc/hosts"]) is None


def test_the_forced_command_runs_labgen_with_the_words_asked_for():
    assert _forced("labgen --version").stdout.startswith("labgen ")
    odd = _forced("labgen list; touch /tmp/t-forced-owned")
    assert odd.returncode == 126 and not os.path.exists("/tmp/t-forced-owned"), odd.stderr
    assert "does not run `labgen list; touch`" in odd.stderr, odd.stderr


def _forced(asked: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from labgen.remote.forced import main; main()"],
                          env={**os.environ, "SSH_ORIGINAL_COMMAND": asked}, capture_output=True, text=True,
                          timeout=60)
