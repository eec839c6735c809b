"""Browser tests: Debian's Chromium driven by Playwright against a real `one-api` master process
(SQLite, real socket) and the fake upstream. Missing Chromium or Playwright fails, never skips."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
ONE_API = str(Path(sys.executable).with_name("one-api"))
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUTPUT = Path(os.environ.get("BROWSER_OUTPUT", ROOT / "results" / "browser"))
TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def console_built() -> Path:
    dist = ROOT / "web" / "dist" / "index.html"
    if not dist.exists():
        pytest.fail("the console is not built: run `make console` (npm ci && npm run build in web/)")
    return dist.parent


@pytest.fixture(scope="session")
def master_url(console_built: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real master process on SQLite, shared by the browser tests of this session."""
    work = tmp_path_factory.mktemp("console-master")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("SQL_DSN", "LOG_SQL_DSN", "NODE_TYPE", "REDIS_CONN_STRING", "THEME")}
    env.update(
        PORT=str(port),
        SQLITE_PATH=str(work / "one-api.db"),
        SESSION_SECRET="browser-tests",
        GLOBAL_API_RATE_LIMIT="0",
        GLOBAL_WEB_RATE_LIMIT="0",
        DEBUG="true",
    )
    log = (work / "master.log").open("wb")
    proc = subprocess.Popen([ONE_API, "--log-dir", ""], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"master did not start:\n{(work / 'master.log').read_text()}")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Per module: sync Playwright runs an event loop in this thread while it is open, which
    async tests (pytest-asyncio) elsewhere in the session must not meet."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # make test installs it; a missing install is a failure
        pytest.fail(f"Playwright for Python is not installed ({exc}); run `make test` or `pip install playwright`")
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
        pytest.fail(f"Chromium not found at {CHROMIUM}; install Debian's `chromium` package (make test does)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


class Browsing:
    """Opens browser contexts for one test and screenshots every page at the end."""

    def __init__(self, browser: object, base_url: str, name: str) -> None:
        self.browser, self.base_url, self.name = browser, base_url, name
        self.contexts: list[object] = []
        self.pages: list[object] = []

    def page(self, locale: str = "en-US", **options: object) -> object:
        context = self.browser.new_context(
            base_url=self.base_url,
            locale=locale,
            viewport={"width": 1366, "height": 900},
            permissions=["clipboard-read", "clipboard-write"],
            **options,
        )
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        page = context.new_page()
        self.pages.append(page)
        return page

    def close(self) -> None:
        OUTPUT.mkdir(parents=True, exist_ok=True)
        for i, page in enumerate(self.pages):
            suffix = f"-{i + 1}" if len(self.pages) > 1 else ""
            try:
                page.screenshot(path=str(OUTPUT / f"{self.name}{suffix}.png"), full_page=True)
            except Exception:  # a page closed by the test has nothing to show
                pass
        for context in self.contexts:
            context.close()


@pytest.fixture
def browsing(browser: object, master_url: str, request: pytest.FixtureRequest) -> Iterator[Browsing]:
    b = Browsing(browser, master_url, re.sub(r"[^\w.-]+", "_", request.node.name))
    yield b
    b.close()


def login(page: object, username: str, password: str) -> None:
    """Log in through the form and wait for the logged-in header."""
    from playwright.sync_api import expect

    page.goto("/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("form button[type=submit]").click()
    expect(page.locator(".topbar .whoami")).to_be_visible()


def toast(page: object) -> object:
    return page.locator(".toasts .toast")
