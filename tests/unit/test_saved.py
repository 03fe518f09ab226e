"""What makes a saved VM lab reusable (providers/libvirt/saved.py): its key is the machines'
(not the lab's name or secret), any change to what the provisioners write is another key, and a
save cut short or damaged is never restored."""

import json

import pytest

from labgen.errors import LabgenError
from labgen.providers.libvirt import saved
from labgen.render import render_lab

MACHINE = {"memory": 640, "cpus": 1, "driver": "qemu"}


def _lab(tmp_path, name, sets=(), secret=None):
    return render_lab("keepalived-rr", tmp_path / name, name=name, provider="libvirt", sets=[*sets],
                      force=False, secret=secret)


def test_two_labs_of_the_same_machines_have_one_key_whatever_their_names_and_secrets(tmp_path):
    one, other = _lab(tmp_path, "aa"), _lab(tmp_path, "bb")
    assert one.spec.secret != other.spec.secret
    assert saved.key(one, MACHINE) == saved.key(other, MACHINE)


@pytest.mark.parametrize("change", ["keepalived.advert_int=2", "keepalived.priorities.backup=60"])
def test_what_the_provisioners_write_makes_another_key(tmp_path, change):
    assert saved.key(_lab(tmp_path, "aa"), MACHINE) != saved.key(_lab(tmp_path, "bb", [change]), MACHINE)


def test_the_machines_shape_makes_another_key(tmp_path):
    lab = _lab(tmp_path, "aa")
    assert saved.key(lab, MACHINE) != saved.key(lab, {**MACHINE, "memory": 1024})


def test_a_lab_rendered_with_a_saved_secret_writes_it(tmp_path):
    lab = _lab(tmp_path, "aa", secret="Abcd1234")
    assert lab.spec.secret == "Abcd1234"
    conf = lab.path / "files" / "lb0" / "etc" / "keepalived" / "keepalived.conf"
    assert "auth_pass Abcd1234" in conf.read_text()


def _save(key, files):
    folder = saved.staging(key)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return saved.seal(folder, key, {"blueprint": "keepalived-rr", "boxes": ["debian-12"], "secret": "s"})


def test_a_whole_save_is_found_and_a_damaged_one_removed_with_the_reason():
    key = "a" * 64
    save = _save(key, {"lb0.state": b"x" * 100, "lb0.qcow2": b"y" * 10})
    assert saved.find(key)[0] == save
    (save.folder / "lb0.state").write_bytes(b"x" * 50)  # cut short: a disk that filled up
    found, why = saved.find(key)
    assert found is None and "lb0.state has 50 bytes, 100 were saved" in why, why
    assert not save.folder.exists()
    assert saved.find(key) == (None, None)


def test_a_save_cut_short_before_its_seal_is_never_found_and_is_cleared():
    folder = saved.staging("b" * 64)
    (folder / "lb0.state").write_bytes(b"x")
    assert saved.find("b" * 64) == (None, None)
    folder.rename(folder.with_name(f".{'b' * 64}.999999999"))  # its process is gone
    saved.clear_staging()
    assert list(saved.saved_dir().iterdir()) == []


def test_prune_keeps_what_a_lab_stands_on(tmp_path):
    from labgen import paths

    _save("c" * 64, {"lb0.state": b"x"})
    _save("d" * 64, {"lb0.state": b"x"})
    state = paths.labs_dir() / "aa" / "state"
    state.mkdir(parents=True)
    (state / saved.STANDS_ON).write_text(json.dumps({"key": "c" * 64, "restored": True}))
    assert saved.prune() == (["d" * 64], ["c" * 64])
    assert [row["key"] for row in saved.all_saves()] == ["c" * 64]


def test_only_a_saved_folder_is_ever_removed(tmp_path):
    with pytest.raises(LabgenError, match="not a saved lab"):
        saved.remove(tmp_path)


def test_a_restored_machine_gets_its_own_disk_and_the_saved_chain_is_dropped():
    xml = """<domain><name>lab-lb0</name><uuid>u-1</uuid><devices><disk type='file' device='disk'>
      <source file='/old/pool/lab-lb0.img'/><backingStore type='file'><source file='/old/box.img'/>
      </backingStore></disk></devices></domain>"""
    moved = saved.with_disk(xml, saved.saved_dir() / "x.img")
    assert saved.disk_of(moved) == saved.saved_dir() / "x.img"
    assert "backingStore" not in moved and "/old/" not in moved
    assert saved.uuid_of(xml) == "u-1"
    assert json.dumps(saved.tool_versions())


def test_a_rebuilt_box_or_other_tools_make_another_key(tmp_path, monkeypatch):
    from labgen.providers.libvirt import vagrant_box

    lab = _lab(tmp_path, "aa")
    before = saved.key(lab, MACHINE)
    image = vagrant_box.image_path("debian-12")
    image.parent.mkdir(parents=True)
    image.write_bytes(b"box")
    built = saved.key(lab, MACHINE)
    image.unlink()
    image.write_bytes(b"box, rebuilt")
    rebuilt = saved.key(lab, MACHINE)
    assert len({before, built, rebuilt}) == 3
    monkeypatch.setattr(saved, "tool_versions", lambda: {"qemu-system-x86_64": "QEMU emulator version 99"})
    assert saved.key(lab, MACHINE) not in (before, built, rebuilt)
