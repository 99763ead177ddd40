"""Browser journeys: Debian's Chromium driven by Playwright against the real app under Daphne.

Never ``playwright install``: the browser is the system's ``/usr/bin/chromium`` (docs/style.md, "The browser").
Each test gets its own Chromium process. Playwright's sync API needs a thread with no asyncio loop, so these
tests are plain (sync) functions; and while it runs it looks like a running loop to Django, which then
refuses ORM calls (SynchronousOnlyOperation). So put the data in place *before* the browser starts: ask for
``demo_city`` (or other database fixtures) ahead of ``phone_page`` / ``desktop_page`` in the signature.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from consult.demo.city import seed_people
from tests.conftest import LiveServer
from tests.required import skip_or_fail

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A deputy's phone, set to Simplified Chinese as theirs are.
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}
CHINESE = "zh-CN"
WAIT_MS = 20_000  # how long a step may wait for the page, not a speed assertion


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Debian's Chromium: required under CI=true, a skip elsewhere."""
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is not installed (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture
def demo_city(transactional_db: None) -> None:
    """The demo city with its demo logins, committed so the Daphne process sees it (takes a few seconds)."""
    seed_people()


@pytest.fixture
def browser(chromium_path: Path) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


def open_context(browser: Browser, server: LiveServer, **options: object) -> BrowserContext:
    context = browser.new_context(base_url=server.url, locale=CHINESE, **options)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    return context


@pytest.fixture
def phone_page(browser: Browser, daphne_server: LiveServer) -> Iterator[Page]:
    """A page on a phone-sized Chinese browser, pointed at the live server."""
    context = open_context(browser, daphne_server, **PHONE)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def desktop_page(browser: Browser, daphne_server: LiveServer) -> Iterator[Page]:
    """A page on a desktop-sized Chinese browser, pointed at the live server."""
    context = open_context(browser, daphne_server, viewport={"width": 1280, "height": 800})
    try:
        yield context.new_page()
    finally:
        context.close()


# --- screenshots kept as test artefacts (not committed): $SCREENSHOT_DIR, else tests/e2e/artifacts/ -------------

SCREENSHOTS: list[Path] = []


def screenshot_dir() -> Path:
    folder = Path(os.environ.get("SCREENSHOT_DIR") or Path(__file__).parent / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_screenshot(page: Page, name: str) -> Path:
    """A full-page PNG under the artefact folder; listed at the end of the run (CI keeps the folder)."""
    path = screenshot_dir() / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    SCREENSHOTS.append(path)
    return path


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SCREENSHOTS:
        terminalreporter.section(f"screenshots ({len(SCREENSHOTS)}) in {screenshot_dir()}")
        for path in SCREENSHOTS:
            terminalreporter.write_line(str(path))
