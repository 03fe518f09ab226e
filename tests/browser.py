"""`labgen serve` as a teacher starts it, and Debian's Chromium driven headless through selenium.

Chromium is started as the platform notes say a closed machine needs it: no background networking,
component updates or sync (else it tries Google's hosts at every start), a profile of its own.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@dataclass(frozen=True)
class Served:
    base: str  # http://127.0.0.1:PORT
    teacher: str  # the address with the token, that logs a browser in
    process: subprocess.Popen


@contextlib.contextmanager
def serving(timeout: float = 30) -> Iterator[Served]:
    """`labgen serve` on a free loopback port until the block ends, stopped by Ctrl-C as by hand."""
    process = subprocess.Popen(
        [sys.executable, "-m", "labgen", "serve", "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        said = _read_until(process, "login?token=", timeout)
        base = re.search(r"read-only: (http://\S+)/", said).group(1)
        teacher = re.search(r"(http://\S+/login\?token=\S+)", said).group(1)
        yield Served(base, teacher, process)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _, err = process.communicate(timeout=30)
            err = err.decode(errors="replace")
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise AssertionError("labgen serve did not stop within 30 s of Ctrl-C") from None
    assert "Traceback" not in err, err


def _read_until(process: subprocess.Popen, wanted: str, timeout: float) -> str:
    """What the process printed up to wanted, read off its pipe unbuffered (a buffered readline
    would take the next line too, where select can no longer see it)."""
    said = b""
    deadline = time.monotonic() + timeout
    fd = process.stdout.fileno()
    while wanted.encode() not in said or not said.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], max(deadline - time.monotonic(), 0))
        chunk = os.read(fd, 4096) if ready else b""
        if not chunk:
            raise AssertionError(f"labgen serve printed no {wanted!r} in {timeout:.0f} s: {said!r}, "
                                 f"exit {process.poll()}")
        said += chunk
    return said.decode()


@contextlib.contextmanager
def browser(profile: Path, width: int = 1500, height: int = 950):
    """Headless Chromium under selenium, closed at the end; skipped where Debian's is missing."""
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.skip("Debian's chromium and chromium-driver are not installed (scripts/install installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver, css: str, wanted, what: str, timeout: float):
    """Wait (bounded) until wanted(element at css) is true; the failure says what the page showed."""
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        with contextlib.suppress(NoSuchElementException):
            element = driver.find_element(By.CSS_SELECTOR, css)
            seen = element.text or element.get_attribute("src")
            if wanted(element):
                return element
        time.sleep(0.05)
    raise AssertionError(f"{css} showed {seen!r} for {timeout:.0f} s, not {what}")


def wait_text(driver, css: str, wanted: str, timeout: float, *, within: bool = False) -> None:
    """Wait until the element at css reads wanted (or holds it, within)."""
    wait_for(driver, css, lambda e: e.text == wanted or (within and wanted in e.text), repr(wanted), timeout)


def click(driver, css: str, timeout: float = 30) -> None:
    """Click the button at css once the page enables it (it is disabled while a fault is under way)."""
    deadline = time.monotonic() + timeout
    while not (button := driver.find_element(By.CSS_SELECTOR, css)).is_enabled():
        if time.monotonic() > deadline:
            raise AssertionError(f"{css} stayed disabled for {timeout:.0f} s")
        time.sleep(0.05)
    button.click()
