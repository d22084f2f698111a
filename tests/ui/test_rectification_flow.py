"""A department signs, uploads, submits; the evaluator sends it back, then verifies it.

The supervisor's dashboard counts the verification for the department.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from tests.ui.conftest import LAPTOP, Site, expect, log_in, pdf, shoot
from tests.ui.test_dashboard import department_figures

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def _status(page: Page) -> str:
    return page.locator(".badges .badge").first.inner_text()


def _department_submits(page: Page, site: Site, file_name: str, measures: str) -> None:
    page.get_by_label("文件").set_input_files(
        {"name": file_name, "mimeType": "application/pdf", "buffer": pdf(file_name)}
    )
    page.get_by_role("button", name="上传", exact=True).click()
    expect(page.locator(".flash")).to_have_text("佐证材料已上传。")
    expect(page.locator("#evidence-title + ul")).to_contain_text(file_name)
    page.get_by_label("已采取的整改措施").fill(measures)
    page.get_by_role("button", name="提交整改报告").click()
    expect(page.locator(".flash")).to_contain_text("整改报告已提交")
    assert _status(page) == "已提交·待核查"


def test_department_and_evaluator_take_a_finding_to_verified(browser: Browser, site: Site) -> None:
    department = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    evaluator = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    supervisor = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    try:
        slj, pingjia, jiandu = department.new_page(), evaluator.new_page(), supervisor.new_page()
        # The supervisor notes the department's figures before it starts.
        log_in(jiandu, site, "jiandu.zhao", "/dashboard")
        before = department_figures(jiandu, "泸溪县水利局")
        # The department finds the new finding in its inbox and opens it.
        log_in(slj, site, "slj.jingban")
        expect(slj.get_by_role("heading", level=1)).to_have_text("我的整改")
        slj.get_by_role("link", name=re.compile("专项资金拨付滞后")).click()
        assert slj.url == site.finding(site.flow)
        assert _status(slj) == "已下达·待签收"
        # 签收, naming the responsible person.
        slj.get_by_label("整改责任人").fill("张建国")
        slj.get_by_label("整改计划").fill("两周内完成资金拨付")
        slj.get_by_role("button", name="签收", exact=True).click()
        expect(slj.locator(".flash")).to_have_text("已签收。")
        assert _status(slj) == "已签收·整改中"
        expect(slj.locator("#timeline")).to_contain_text("张建国")
        # Upload a PDF and submit the report.
        _department_submits(slj, site, "拨付凭证.pdf", "已拨付专项资金，执行率提升至95%")
        shoot(slj, "finding-submitted")

        # The evaluator sends it back with a reason.
        log_in(pingjia, site, "pingjia.li", f"/findings/{site.flow}")
        assert pingjia.url == site.finding(site.flow)
        pingjia.get_by_label("核查意见").fill("缺少国库集中支付凭证")
        pingjia.get_by_role("button", name="退回整改").click()
        expect(pingjia.locator(".flash")).to_have_text("核查结果已记录。")
        assert _status(pingjia) == "已签收·整改中"
        expect(pingjia.locator("#timeline li").first).to_contain_text("退回整改")
        expect(pingjia.locator("#timeline li").first).to_contain_text("缺少国库集中支付凭证")

        # The department resubmits with the missing voucher.
        slj.reload()
        expect(slj.locator("#timeline")).to_contain_text("缺少国库集中支付凭证")
        _department_submits(slj, site, "国库支付凭证.pdf", "补充国库集中支付凭证")

        # The evaluator verifies: 核查通过·销号.
        pingjia.reload()
        pingjia.get_by_label("核查意见").fill("资料齐全，同意销号")
        pingjia.get_by_role("button", name="核查通过·销号").click()
        expect(pingjia.locator(".flash")).to_have_text("核查结果已记录。")
        assert _status(pingjia) == "已销号"
        trail = pingjia.locator("#timeline").inner_text()
        for label in ("下达整改通知", "签收", "上传佐证材料", "提交整改报告", "退回整改"):
            assert label in trail
        expect(pingjia.locator("#timeline li").first).to_contain_text("核查通过·销号")
        shoot(pingjia, "finding-verified")
        # Only the evaluator's next step is offered now.
        expect(pingjia.locator(".actions h3")).to_have_text(["回头看·重新整改"])

        # The evidence downloads with the same session cookie, through the API route.
        with slj.expect_download() as download:
            slj.get_by_role("link", name="国库支付凭证.pdf").click()
        assert download.value.suggested_filename == "国库支付凭证.pdf"

        # The supervisor's dashboard counts the verified finding for 泸溪县水利局.
        after = _figures_once_changed(jiandu, before)
        assert int(after["verified"]) == int(before["verified"]) + 1
        assert after["rectification_rate"] != before["rectification_rate"]
        shoot(jiandu, "dashboard-after-verification")
    finally:
        department.close()
        evaluator.close()
        supervisor.close()


def _figures_once_changed(page: Page, before: dict[str, str]) -> dict[str, str]:
    """The department's figures once the read models include the verification (or 10 s)."""
    deadline = time.monotonic() + 10
    while True:
        page.reload()
        after = department_figures(page, "泸溪县水利局")
        if after != before or time.monotonic() > deadline:
            return after
        time.sleep(0.2)
