"""Who gets in: login, logout, expired sessions, department isolation, CSRF on every form."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.ui.conftest import Site, expect, log_in, log_out

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page


def test_a_page_without_a_session_sends_the_reader_to_login_and_back(
    page: Page, site: Site
) -> None:
    page.goto(site.finding(site.rich))
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")
    log_in_here(page, "slj.jingban")
    assert page.url == site.finding(site.rich)


def test_a_wrong_password_is_refused_and_the_name_kept(page: Page, site: Site) -> None:
    page.goto(f"{site.url}/login")
    page.get_by_label("用户名").fill("slj.jingban")
    page.get_by_label("密码").fill("not the password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_have_text("用户名或密码不正确。")
    expect(page.get_by_label("用户名")).to_have_value("slj.jingban")
    expect(page.get_by_label("密码")).to_have_value("")


def test_an_empty_login_field_is_marked_next_to_it(page: Page, site: Site) -> None:
    page.goto(f"{site.url}/login")
    page.get_by_label("用户名").fill("slj.jingban")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#login-password-error")).to_have_text("此项为必填项。")
    expect(page.get_by_label("密码")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("用户名")).to_have_value("slj.jingban")


def test_signing_out_ends_the_session(page: Page, context: BrowserContext, site: Site) -> None:
    log_in(page, site, "slj.jingban")
    log_out(page)
    expect(page.get_by_role("status")).to_have_text("您已安全退出。")
    page.goto(f"{site.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("登录")


def test_an_expired_session_goes_to_login_with_a_message(
    page: Page, context: BrowserContext, site: Site
) -> None:
    context.add_cookies(
        [{"name": "lastmile_session", "value": "expired-or-unknown", "url": site.url}]
    )
    page.goto(site.finding(site.rich))
    expect(page.get_by_role("status")).to_have_text("登录已过期，请重新登录。")
    log_in_here(page, "slj.jingban")
    assert page.url == site.finding(site.rich)


def test_a_department_cannot_open_another_departments_finding(page: Page, site: Site) -> None:
    log_in(page, site, "slj.jingban")
    response = page.goto(site.finding(site.other_department))
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("未找到")
    # Exactly as for a finding that does not exist: the answer does not tell which.
    missing = page.goto(f"{site.url}/findings/00000000-0000-0000-0000-000000000000")
    assert missing is not None
    assert missing.status == 404
    # Nor can it act on it by posting a form there.
    token = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    posted = page.request.post(
        f"{site.finding(site.other_department)}/acknowledge",
        form={"csrf_token": token, "responsible_person": "张三"},
    )
    assert posted.status == 404


def test_a_form_without_its_csrf_token_is_refused(page: Page, site: Site) -> None:
    log_in(page, site, "slj.jingban")
    page.goto(site.finding(site.untouched))
    for token in (None, "0" * 64):
        form: dict[str, str | float | bool] = {"responsible_person": "张三", "version": "1"}
        if token:
            form["csrf_token"] = token
        refused = page.request.post(f"{site.finding(site.untouched)}/acknowledge", form=form)
        assert refused.status == 403
        assert "表单已失效" in refused.text()
    page.reload()
    expect(page.locator(".badges .badge").first).to_have_text("已下达·待签收")


def test_login_and_logout_forms_need_their_csrf_token(page: Page, site: Site) -> None:
    page.goto(f"{site.url}/login")
    refused = page.request.post(
        f"{site.url}/login", form={"name": "slj.jingban", "password": "lastmile-demo"}
    )
    assert refused.status == 403
    log_in(page, site, "slj.jingban")
    assert page.request.post(f"{site.url}/logout", form={}).status == 403
    page.goto(f"{site.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("我的整改")


def log_in_here(page: Page, name: str) -> None:
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill("lastmile-demo")
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
