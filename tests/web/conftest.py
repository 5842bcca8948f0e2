"""Browser tests: Playwright (Python) driving Debian's chromium against the live
test server. They skip, saying why, when chromium is not installed; .ci/run
installs it, so CI runs them. Every test fails if a page asks for anything that is
not on 127.0.0.1 (every asset must be served by Bureau itself)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = os.environ.get("BUREAU_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
# Screenshots go where git does not look (`.data/` is ignored): a test run must
# not rewrite the README's pictures. `make screenshots` refreshes those from here.
DEFAULT_SCREENSHOTS = ".data/screenshots"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

# Browser tests run the live server in a thread; Django's async-unsafe guard would
# trip on Playwright's event loop in the same process.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def chromium_browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield browser
        browser.close()


@pytest.fixture
def page(chromium_browser, live_server):
    """A fresh browser context; records every request that leaves 127.0.0.1."""
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.outside_requests = []

    def guard(route):
        host = urlparse(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            return route.continue_()
        page.outside_requests.append(route.request.url)
        return route.abort()

    page.route("**/*", guard)
    yield page
    outside = list(page.outside_requests)
    context.close()
    assert not outside, f"requests left 127.0.0.1: {outside}"


@pytest.fixture
def login(page, live_server):
    """Log in through the real login form; returns a function(user, password)."""

    def do_login(username: str, password: str) -> None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit], input[type=submit]")
        page.wait_for_load_state("networkidle")

    return do_login


def screenshot_dir() -> Path:
    """BUREAU_SCREENSHOTS (relative to the repository), else .data/screenshots."""
    return ROOT / os.environ.get("BUREAU_SCREENSHOTS", DEFAULT_SCREENSHOTS)


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot as <screenshot_dir>/<name>.png."""
    directory = screenshot_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
