"""Forms validate on the server: each error sits next to its field, and what was typed stays."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.ui.conftest import Site, expect, log_in, shoot

if TYPE_CHECKING:
    from playwright.sync_api import Page


def test_a_missing_field_is_marked_and_the_typed_values_kept(page: Page, site: Site) -> None:
    log_in(page, site, "slj.jingban", f"/findings/{site.untouched}")
    page.get_by_label("整改计划").fill("先细化指标，再报备")
    page.get_by_role("button", name="签收", exact=True).click()
    expect(page.locator("#act-acknowledge-responsible_person-error")).to_have_text("此项为必填项。")
    expect(page.get_by_label("整改责任人")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("整改计划")).to_have_value("先细化指标，再报备")
    expect(page.locator("#act-acknowledge .problem")).to_have_text("请按下方提示修改后重新提交。")
    shoot(page, "finding-form-error")
    # Nothing was recorded.
    expect(page.locator(".badges .badge").first).to_have_text("已下达·待签收")


def test_a_refusal_by_the_rules_is_shown_on_the_form(page: Page, site: Site) -> None:
    log_in(page, site, "slj.jingban", f"/findings/{site.untouched}")
    page.get_by_label("申请延期至").fill("2000-01-01")
    page.get_by_label("理由").fill("汛期施工受阻")
    page.get_by_role("button", name="提交延期申请").click()
    problem = page.locator("#act-extension .problem")
    expect(problem).to_contain_text("提交的内容未通过校验")
    expect(problem).to_contain_text("must be later than the current one")
    expect(page.get_by_label("理由")).to_have_value("汛期施工受阻")
    expect(page.get_by_label("申请延期至")).to_have_value("2000-01-01")
