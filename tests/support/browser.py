"""A real browser for the end-to-end tests: Debian's headless Chromium driven by Playwright
(never a downloaded browser), and screenshots of each page at desktop and phone width."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.environment import need
from tests.support.processes import ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = ROOT / "test-output" / "screenshots"


def require_browser() -> None:
    """Playwright and the system's Chromium, or skip (developer) / fail (CI) saying which."""
    need(
        importlib.util.find_spec("playwright") is not None,
        "the playwright package is not installed",
        "pip install -e '.[test]'",
    )
    need(CHROMIUM.exists(), f"{CHROMIUM} is missing", "apt-get install -y chromium")


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium from the system; closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


class Screenshots:
    """Each page at desktop and phone width, numbered in the order the test visits them."""

    def __init__(self, directory: Path = SCREENSHOTS) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        for old in self.directory.glob("*.png"):
            old.unlink()
        self.taken: list[Path] = []

    def take(self, page: Any, name: str) -> None:
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        size = page.viewport_size or DESKTOP
        for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(viewport)
            path = self.directory / f"{len(self.taken) // 2 + 1:02d}-{slug}-{label}.png"
            page.screenshot(path=str(path), full_page=True)
            self.taken.append(path)
        page.set_viewport_size(size)


def new_page(browser: Any, base_url: str, *, language: str = "en") -> Any:
    """A fresh browser profile (its own cookies) at desktop size, in one language; dialogs
    (confirmations) are accepted."""
    context = browser.new_context(viewport=DESKTOP, base_url=base_url, locale=language)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    return page
