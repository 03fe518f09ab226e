"""class up's measured history, and the estimate `class up --dry-run` and doctor give from it."""

from __future__ import annotations

from labgen.classroom import history


def test_no_class_measured_means_no_estimate():
    assert history.estimate("keepalived-rr", "libvirt", 8, 4) is None


def test_the_estimate_scales_the_last_class_alike_by_its_rounds():
    history.record("keepalived-rr", "libvirt", seats=8, parallel=4, seconds=100, failed=0)
    history.record("keepalived-rr", "nspawn", seats=30, parallel=4, seconds=40, failed=0)
    same = history.estimate("keepalived-rr", "libvirt", 8, 4)
    assert same.seconds == 100 and "8 keepalived-rr seats on libvirt, 4 at a time" in str(same), str(same)
    assert history.estimate("keepalived-rr", "libvirt", 16, 4).seconds == 200
    other = history.estimate("keepalived-rr", "libvirt", 8, 2)  # no class 2 at a time: by seats
    assert other.seconds == 100 and "rough guide" in str(other), str(other)
    history.record("keepalived-rr", "libvirt", seats=8, parallel=2, seconds=60, failed=0)
    assert history.estimate("keepalived-rr", "libvirt", 8, 4).seconds == 100, "the last class alike"
    assert history.estimate("keepalived-rr", "libvirt", 12, 2).seconds == 90
    assert history.estimate("heartbeat-nginx", "libvirt", 8, 4) is None


def test_a_class_with_failed_seats_or_a_damaged_line_is_not_a_measure():
    history.record("keepalived-rr", "libvirt", seats=8, parallel=4, seconds=100, failed=0)
    history.record("keepalived-rr", "libvirt", seats=8, parallel=4, seconds=900, failed=3)
    with history._file().open("a") as file:
        file.write("{not json\n")
    assert history.estimate("keepalived-rr", "libvirt", 8, 4).seconds == 100


def test_the_history_keeps_the_last_classes_only_and_is_roots_alone():
    for n in range(history.KEEP + 5):
        history.record("keepalived-rr", "nspawn", seats=n + 1, parallel=1, seconds=1, failed=0)
    lines = history._file().read_text().splitlines()
    assert len(lines) == history.KEEP and '"seats": 55' in lines[-1], lines[-1]
    assert history._file().stat().st_mode & 0o077 == 0
    assert [e["seats"] for e in history.latest()] == [history.KEEP + 5]
