"""`labgen down` stops the processes that name its lab's folder: only its own, never those of a lab
whose name starts the same (real processes, their command lines naming each folder)."""

import subprocess
import sys

import pytest

from labgen import host


@pytest.fixture
def naming_processes(tmp_path):
    """One process per argument, each naming it in its command line; killed at the end."""
    started = []

    def start(*names: str) -> list[int]:
        for name in names:
            argv = [sys.executable, "-c", "import sys, time; time.sleep(120)", name]
            started.append(subprocess.Popen(argv))
        return [p.pid for p in started[-len(names):]]

    yield start
    for process in started:
        process.kill()
        process.wait()


def test_a_folder_is_named_whole_not_as_the_start_of_another(tmp_path, naming_processes):
    labs = tmp_path / "labs"
    ours = naming_processes(f"{labs}/t-ex-pm", f"{labs}/t-ex-pm/state/lb0", f"-oControlPath={labs}/t-ex-pm")
    theirs = naming_processes(f"{labs}/t-ex-pmh/state/lb0/root", f"{labs}/t-ex-pm2", f"{labs}/t-ex-pm.old")
    found = host.naming(labs / "t-ex-pm")
    assert sorted(set(found) & set(ours + theirs)) == sorted(ours)


def test_as_prefix_names_every_file_that_starts_so(tmp_path, naming_processes):
    state = tmp_path / "labs" / "a" / "state"
    masters = naming_processes(f"{state}/ssh-lb0", f"{state}/ssh-lb1")
    other = naming_processes(f"{state}/lb0/root")
    found = set(host.naming(state / "ssh-", as_prefix=True))
    assert found & set(masters + other) == set(masters)
