"""The pages end to end: uvicorn on loopback, Debian's Chromium driven by Playwright.

One server and one browser per session (each test gets its own browser context, so its own
cookies). Without Chromium or Playwright the tests skip here, and fail under CI=true.
"""

from __future__ import annotations

import io
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

import pytest
import uvicorn
from reportlab.pdfgen.canvas import Canvas

from adapters.bootstrap import bootstrap, system_clock
from adapters.demo import DEMO_PASSWORD, EVALUATOR, ScriptClock, demo_dates, load_demo
from adapters.settings import Settings
from api.app import create_app
from api.deps import SESSION_COOKIE
from domain.calendar import CHINA_TZ
from domain.findings import finding_id
from domain.views import FindingDraft, OrderDraft

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # the test extras install it; `browser` skips (or fails under CI) without
    sync_playwright = expect = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from playwright._impl._api_structures import SetCookieParam
    from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize

__all__ = ["expect"]

CHROMIUM = Path(os.environ.get("LASTMILE_TEST_CHROMIUM", "/usr/bin/chromium"))
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("LASTMILE_SCREENSHOTS", ROOT / "var" / "screenshots"))
LAPTOP: ViewportSize = {"width": 1366, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}


def _missing(what: str) -> None:
    message = f"UI tests need {what}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@dataclass(frozen=True)
class Site:
    """The running server and the findings the tests act on."""

    url: str
    year: int
    flow: UUID  # SLJ, issued: signed, evidenced, submitted, sent back, verified by the tests
    untouched: UUID  # SLJ, issued: only ever refused (form errors, CSRF)
    other_department: UUID  # JYJ's: SLJ may not see it
    rich: UUID  # SLJ #1 of the demo: a long trail, reopened

    def finding(self, finding: UUID) -> str:
        return f"{self.url}/findings/{finding}"


def _load(settings: Settings) -> int:
    """The demo data set, plus one order of two fresh findings for the tests to drive."""
    now = system_clock()
    clock = ScriptClock(now - timedelta(days=121))
    system = bootstrap(settings, clock)
    try:
        today = now.astimezone(CHINA_TZ).date()
        load_demo(
            system.app,
            clock,
            today,
            lambda name, role, dept: _add_user(system.users, name, role, dept),
        )
        year = next(demo_dates(today)).year
        clock.now = now
        drafts = [
            FindingDraft("1", "", "专项资金拨付滞后，执行率仅为52%", "过程/预算执行率低",
                         "immediate", "加快拨付，按月报送执行情况"),
            FindingDraft("2", "", "绩效目标未细化量化", "决策/绩效目标设置不合理",
                         "phased", "细化绩效指标"),
        ]  # fmt: skip
        order = OrderDraft(f"泸财绩〔{year}〕99号", f"LX-{year}-PJ-001", "SLJ", drafts, today)
        system.app.issue_order(EVALUATOR, order)
        system.projections.catch_up()
    finally:
        system.close()
    return year


def _add_user(users: object, name: str, role: object, department: str | None) -> None:
    users.add(name, role, department, None, DEMO_PASSWORD)  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The app on a free loopback port, in a thread, on a fresh data directory."""
    settings = Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("ui") / "var")  # type: ignore[call-arg]
    year = _load(settings)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings), log_level="warning", ws="none", http="h11", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the UI test server did not start")
        time.sleep(0.05)
    yield Site(
        url=f"http://127.0.0.1:{port}",
        year=year,
        flow=finding_id(f"泸财绩〔{year}〕99号", "1"),
        untouched=finding_id(f"泸财绩〔{year}〕99号", "2"),
        other_department=finding_id(f"泸财绩〔{year}〕15号", "1"),
        rich=finding_id(f"泸财绩〔{year}〕12号", "1"),
    )
    server.should_exit = True
    thread.join(timeout=15)
    listener.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if sync_playwright is None:
        _missing("the playwright package (pip install -e '.[test]')")
    if not CHROMIUM.exists():
        _missing(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) for one test, Chinese by default."""
    created = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    created.set_default_timeout(15_000)
    yield created
    created.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def log_in(page: Page, site: Site, name: str, next_path: str = "/") -> None:
    page.goto(f"{site.url}/login?next={next_path}")
    page.get_by_label(re.compile("用户名|User name")).fill(name)
    page.get_by_label(re.compile("密码|Password")).fill(DEMO_PASSWORD)
    page.get_by_role("button", name=re.compile("^(登录|Sign in)$")).click()
    page.wait_for_load_state()


@pytest.fixture(scope="session")
def signed_in(browser: Browser, site: Site) -> Callable[[BrowserContext, str], None]:
    """Give a context the session of a user, signing in through the form once per user."""
    cookies: dict[str, list[SetCookieParam]] = {}

    def enter(context: BrowserContext, name: str) -> None:
        if name not in cookies:
            once = browser.new_context()
            log_in(once.new_page(), site, name)
            cookies[name] = [
                {"name": c["name"], "value": c["value"], "url": site.url}
                for c in once.cookies()
                if c["name"] == SESSION_COOKIE
            ]
            once.close()
        context.add_cookies(cookies[name])

    return enter


def log_out(page: Page) -> None:
    page.get_by_role("button", name=re.compile("退出登录|Sign out")).click()
    page.wait_for_load_state()


def pdf(text: str) -> bytes:
    """A real, small PDF, so the upload's content sniffing accepts it."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=True)
    canvas.drawString(72, 720, text)
    canvas.save()
    return buffer.getvalue()


@contextmanager
def page_in(
    browser: Browser,
    site: Site,
    signed_in: Callable[[BrowserContext, str], None],
    user: str | None,
    lang: str,
    viewport: str,
) -> Iterator[Page]:
    """A page of a fresh context: this viewport and language, signed in as user (if any)."""
    context = browser.new_context(viewport=LAPTOP if viewport == "laptop" else PHONE)
    try:
        context.add_cookies([{"name": "lastmile_lang", "value": lang, "url": site.url}])
        if user:
            signed_in(context, user)
        yield context.new_page()
    finally:
        context.close()


RAW_MARKERS = re.compile(r"\{\{|\}\}|\{%|%\}|\{[a-z_]+\}|Undefined")


def check_page(page: Page) -> None:
    """No raw template markers, nothing wider than the window, a label on every control."""
    text = page.locator("body").inner_text()
    assert not RAW_MARKERS.search(text), RAW_MARKERS.search(text)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the window"
    unlabelled = page.evaluate(
        """[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
           .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label'))
           .map(e => e.name)"""
    )
    assert unlabelled == []


def shoot(page: Page, name: str) -> Path:
    """A full-page screenshot in SCREENSHOTS, named by page, language and viewport."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    lang = page.evaluate("document.documentElement.lang")
    width = page.viewport_size["width"] if page.viewport_size else 0
    path = SCREENSHOTS / f"{name}.{lang}.{'phone' if width < 600 else 'laptop'}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def today() -> date:
    return system_clock().astimezone(CHINA_TZ).date()
