"""The built site in a real browser: Debian's Chromium driven by Playwright (``nox -s browser``).

Fixtures
--------
``site_dir``      the built site, ``_build/html`` (``GPUMEM_SITE`` overrides; build it first).
``http_url``      base URL of a server on 127.0.0.1 serving ``site_dir``, ending in ``/``.
``root_url``      ``site_dir``'s base URL over each way a reader opens it: ``http`` and ``file``
                  (tests that take it run twice).
``browser``       one headless Chromium for the session (``CHROMIUM`` overrides its path).
``page``          a fresh 1400 × 900 page that reaches nothing outside this machine; its
                  ``page.problems`` lists console errors, uncaught exceptions, failed loads and
                  blocked outside requests, in the order they happened.
``axe``           path of ``axe.min.js`` (npm ``axe-core``; ``AXE_CORE`` overrides).
``PAGES``         every page of the English site, as paths relative to its language folder.
"""

from __future__ import annotations

import functools
import http.server
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Route, sync_playwright

REPOSITORY = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("GPUMEM_SITE", REPOSITORY / "_build" / "html")).resolve()
LANGUAGES = ("en", "zh_CN")
SCREENSHOTS = REPOSITORY / "_build" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Folders of a language that hold files, not pages.
_NOT_PAGES = {"_static", "_sources", "_images", "_downloads", "_modules"}


def _pages() -> list[str]:
    """Every HTML page of the English site, relative to ``en/``."""
    english = SITE / "en"
    return sorted(
        str(path.relative_to(english))
        for path in english.rglob("*.html")
        if not _NOT_PAGES & set(path.relative_to(english).parts)
    )


PAGES = _pages()


@pytest.fixture(scope="session")
def site_dir() -> Path:
    """The built site; fails with the command to run when it is missing."""
    for language in LANGUAGES:
        if not (SITE / language / "index.html").is_file():
            pytest.fail(f"no built site in {SITE}/{language}: run nox -s docs first")
    return SITE


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without a log line per request."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Say nothing."""


class _Server(http.server.ThreadingHTTPServer):
    """A server that lets a browser drop a connection (leaving a page) without a traceback."""

    def handle_error(self, request: object, client_address: object) -> None:
        """Ignore connections closed by the browser; report anything else."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture(scope="session")
def http_url(site_dir: Path) -> Iterator[str]:
    """A server on 127.0.0.1 (a free port) serving the site for the session."""
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session", params=["http", "file"])
def root_url(request: pytest.FixtureRequest, site_dir: Path) -> str:
    """The site's base URL, served over http and opened from disk."""
    if request.param == "http":
        return request.getfixturevalue("http_url")
    return site_dir.as_uri() + "/"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless; Playwright cannot download its own builds here."""
    executable = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(executable).is_file():
        pytest.fail(f"no Chromium at {executable}: apt-get install -y chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _is_local(url: str) -> bool:
    """Whether ``url`` stays on this machine (the test server, a file, inline data)."""
    return url.startswith(("http://127.0.0.1:", "file://", "data:", "blob:", "about:"))


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A 1400 × 900 page with outside requests aborted and its problems recorded."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
    problems: list[str] = []

    def route(route_: Route, request: Request) -> None:
        if _is_local(request.url):
            route_.continue_()
        else:
            problems.append(f"outside request blocked: {request.url}")
            route_.abort()

    def console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(f"console {message.type}: {message.text}")

    def failed(request: Request) -> None:
        # A load the page itself cancels (the icon of a page left by a new address) is
        # net::ERR_ABORTED; a file that is missing fails with another reason.
        if _is_local(request.url) and request.failure != "net::ERR_ABORTED":
            problems.append(f"failed to load {request.url}: {request.failure}")

    context.route("**/*", route)
    new_page = context.new_page()
    new_page.on("console", console)
    new_page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    new_page.on("requestfailed", failed)
    new_page.problems = problems
    yield new_page
    context.close()


@pytest.fixture(scope="session")
def axe() -> Path:
    """``axe.min.js`` from npm's ``axe-core`` (``nox -s browser`` installs it)."""
    default = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
    path = Path(os.environ.get("AXE_CORE", default))
    if not path.is_file():
        pytest.fail(f"no {path}: npm ci --prefix tests/browser")
    return path


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Folder for the screenshots kept as CI artifacts: ``_build/screenshots``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
