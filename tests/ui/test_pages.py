"""Every page in 中文 and English, on a laptop and a phone: screenshots and the basic checks."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from domain.findings import finding_id
from tests.ui.conftest import Site, check_page, expect, log_in, page_in, shoot

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page


def test_the_language_switch_changes_every_word_and_is_remembered(page: Page, site: Site) -> None:
    page.goto(f"{site.url}/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert page.evaluate("document.documentElement.lang") == "en"
    log_in(page, site, "slj.jingban")
    expect(page.get_by_role("heading", level=1)).to_have_text("My findings")
    page.get_by_role("link", name="中文").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("我的整改")


def test_the_skip_link_is_the_first_stop_for_the_keyboard(page: Page, site: Site) -> None:
    log_in(page, site, "slj.jingban")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("跳到主要内容")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("#main$"))
    expect(page.locator("main")).to_be_focused()


def test_the_inbox_puts_overdue_findings_first(page: Page, site: Site) -> None:
    log_in(page, site, "jiandu.zhao")
    rows = page.locator("table.findings tbody tr")
    classes = [rows.nth(i).get_attribute("class") or "" for i in range(rows.count())]
    overdue = [c == "is-overdue" for c in classes]
    assert any(overdue)
    assert overdue == sorted(overdue, reverse=True)
    page.get_by_label("是否逾期").select_option("yes")
    page.get_by_role("button", name="筛选").click()
    assert all(rows.nth(i).get_attribute("class") == "is-overdue" for i in range(rows.count()))


@dataclass(frozen=True)
class Visit:
    user: str | None
    path: Callable[[Site], str]
    then: Callable[[Page], None] = lambda page: None


PAGES: dict[str, Visit] = {
    "login": Visit(None, lambda site: "/login"),
    "inbox-department": Visit("slj.jingban", lambda site: "/"),
    "inbox-supervisor": Visit("jiandu.zhao", lambda site: "/"),
    "inbox-evaluator-to-verify": Visit("pingjia.li", lambda site: "/?status=rectified"),
    "finding-trail": Visit(
        "slj.jingban",
        lambda site: f"/findings/{site.rich}",
        lambda page: page.locator("details.how summary").click(),
    ),
    "finding-to-sign": Visit("slj.jingban", lambda site: f"/findings/{site.untouched}"),
    "finding-supervisor": Visit(
        "jiandu.zhao", lambda site: f"/findings/{finding_id(f'泸财绩〔{site.year}〕18号', '3')}"
    ),
    "not-found": Visit("slj.jingban", lambda site: f"/findings/{site.other_department}"),
}


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("viewport", ["laptop", "phone"])
@pytest.mark.parametrize("name", PAGES)
def test_each_page_renders_cleanly(
    browser: Browser,
    site: Site,
    signed_in: Callable[[BrowserContext, str], None],
    name: str,
    lang: str,
    viewport: str,
) -> None:
    visit = PAGES[name]
    with page_in(browser, site, signed_in, visit.user, lang, viewport) as page:
        page.goto(site.url + visit.path(site))
        visit.then(page)
        assert page.evaluate("document.documentElement.lang") == lang
        check_page(page)
        shoot(page, name)
