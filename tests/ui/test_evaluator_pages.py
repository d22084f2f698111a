"""The evaluator's pages: the order form, the ledger import and the verification queue."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn

from adapters.demo import DEMO_PASSWORD
from adapters.settings import Settings
from api.app import create_app
from tests.support.ledgers import Row, row, to_csv, to_xlsx
from tests.ui.conftest import LAPTOP, Site, _load, check_page, expect, log_in, page_in, pdf, shoot

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, FilePayload, Locator, Page

DEMO_DEPARTMENTS = ("SLJ", "JYJ", "WJJ", "NYJ")
PAGES_403 = ("/orders/new", "/imports", "/verification")


def ledger(count: int, first_order: int) -> list[Row]:
    """count rows: orders of 10 findings, 5 orders an evaluation, the demo's departments."""
    return [
        row(
            i % 10 + 1,
            order=first_order + i // 10,
            evaluation=first_order + i // 50,
            department=DEMO_DEPARTMENTS[i // 50 % len(DEMO_DEPARTMENTS)],
            序号=i + 1,
        )
        for i in range(count)
    ]


def _fill_notice(page: Page, site: Site, ref: str) -> None:
    page.locator("#order-ref").fill(ref)
    page.locator("#order-evaluation").select_option(f"LX-{site.year}-PJ-001")
    page.locator("#order-department").select_option("SLJ")


def _fill_finding(page: Page, n: int, description: str, category: str, kind: str) -> None:
    page.locator(f"#order-f{n}-ref").fill(str(n))
    page.locator(f"#order-f{n}-class").select_option(kind)
    page.locator(f"#order-f{n}-category").fill(category)
    page.locator(f"#order-f{n}-description").fill(description)
    page.locator(f"#order-f{n}-requirement").fill("按期整改并报送佐证材料")


def _queue_row(page: Page, text: str) -> Locator:
    return page.locator("table.queue tbody tr").filter(has_text=text)


def test_an_issued_order_reaches_the_department_and_then_the_verification_queue(
    browser: Browser, site: Site
) -> None:
    ref = f"泸财绩〔{site.year}〕77号"
    first, second = "水库除险加固资金拨付迟缓", "项目绩效目标缺少量化指标"
    evaluator = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    department = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    try:
        pingjia, slj = evaluator.new_page(), department.new_page()
        # The evaluator fills in the notice and two of its three finding rows.
        log_in(pingjia, site, "pingjia.li")
        pingjia.get_by_role("navigation").get_by_role("link", name="下达整改通知").click()
        expect(pingjia.get_by_role("heading", level=1)).to_have_text("下达整改通知")
        expect(pingjia.locator("fieldset.finding-row")).to_have_count(3)
        _fill_notice(pingjia, site, ref)
        _fill_finding(pingjia, 1, first, "过程/预算执行率低", "immediate")
        _fill_finding(pingjia, 2, second, "决策/绩效目标设置不合理", "phased")
        pingjia.get_by_role("button", name="下达整改通知").click()
        # Issued: the inbox, filtered by the notice, lists exactly its two findings.
        expect(pingjia.locator(".flash")).to_contain_text("整改通知已下达")
        rows = pingjia.locator("table.findings tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.filter(has_text=first)).to_contain_text("已下达·待签收")
        expect(rows.filter(has_text=second)).to_contain_text("分阶段整改")

        # The department sees them in its inbox, signs for the first and submits it.
        log_in(slj, site, "slj.jingban")
        expect(slj.locator("table.findings")).to_contain_text(second)
        slj.get_by_role("link", name=re.compile(first)).click()
        slj.get_by_label("整改责任人").fill("王立新")
        slj.get_by_role("button", name="签收", exact=True).click()
        expect(slj.locator(".flash")).to_have_text("已签收。")
        slj.get_by_label("文件").set_input_files(
            {"name": "拨付凭证.pdf", "mimeType": "application/pdf", "buffer": pdf("voucher")}
        )
        slj.get_by_role("button", name="上传", exact=True).click()
        slj.get_by_label("已采取的整改措施").fill("资金已全部拨付到位")
        slj.get_by_role("button", name="提交整改报告").click()
        expect(slj.locator(".flash")).to_contain_text("整改报告已提交")

        # The evaluator's queue lists it on the evaluator's clock, linking to the verdict.
        pingjia.get_by_role("navigation").get_by_role("link", name="待核查").click()
        expect(pingjia.get_by_role("heading", level=1)).to_have_text("待核查")
        queued = _queue_row(pingjia, first)
        expect(queued).to_contain_text(re.compile(r"核查剩 \d+ 个工作日"))
        expect(_queue_row(pingjia, second)).to_have_count(0)
        queued.get_by_role("link").click()
        expect(pingjia).to_have_url(re.compile(r"/findings/[0-9a-f-]{36}#act-verification$"))
        expect(pingjia.get_by_role("button", name="核查通过·销号")).to_be_visible()
        expect(pingjia.get_by_role("button", name="退回整改")).to_be_visible()
    finally:
        evaluator.close()
        department.close()


def test_a_form_error_shows_next_to_its_field_and_keeps_what_was_typed(
    page: Page, site: Site
) -> None:
    ref = f"泸财绩〔{site.year}〕78号"
    log_in(page, site, "pingjia.li", "/orders/new")
    _fill_notice(page, site, ref)
    _fill_finding(page, 1, "专项资金结余未及时清理", "过程/资金闲置沉淀", "immediate")
    page.locator("#order-f2-description").fill("满意度调查样本不足")
    page.locator("#order-f2-due_on").fill("2020-01-01")
    # More rows first: nothing is checked, everything typed comes back.
    page.get_by_role("button", name="再添加 3 行").click()
    expect(page.locator("fieldset.finding-row")).to_have_count(6)
    expect(page.locator("#order-f2-description")).to_have_value("满意度调查样本不足")
    expect(page.locator(".error")).to_have_count(0)
    page.get_by_role("button", name="下达整改通知").click()
    # Row 2 lacks its number, class and category, and its deadline is in the past.
    expect(page.locator("#order-f2-category-error")).to_have_text("此项为必填项。")
    expect(page.locator("#order-f2-category")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#order-f2-due_on-error")).to_contain_text("整改期限须晚于下达日期")
    expect(page.locator("#order-f1-description-error")).to_have_count(0)
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("第 2 项问题 · 问题类型：此项为必填项。")
    # What was typed is kept, selects included.
    expect(page.locator("#order-ref")).to_have_value(ref)
    expect(page.locator("#order-department")).to_have_value("SLJ")
    expect(page.locator("#order-f1-class")).to_have_value("immediate")
    expect(page.locator("#order-f1-description")).to_have_value("专项资金结余未及时清理")
    expect(page.locator("#order-f2-description")).to_have_value("满意度调查样本不足")
    summary.get_by_role("link", name=re.compile("问题类型")).click()
    expect(page.locator("#order-f2-category")).to_be_focused()
    # Nothing was issued: not even the complete first row.
    page.goto(f"{site.url}/?status=all&q={ref}")
    expect(page.locator(".count")).to_have_text("显示 0 条，共 0 条。")


def test_a_notice_number_issued_before_is_refused_at_its_field(page: Page, site: Site) -> None:
    log_in(page, site, "pingjia.li", "/orders/new")
    _fill_notice(page, site, f"泸财绩〔{site.year}〕12号")  # the demo's
    _fill_finding(page, 1, "重复下达的问题", "过程/预算执行率低", "immediate")
    page.get_by_role("button", name="下达整改通知").click()
    expect(page.locator("#order-ref-error")).to_contain_text("已经下达过，不能重复下达")


def test_a_ledger_with_one_bad_row_imports_nothing_and_names_the_row(
    context: BrowserContext, page: Page, site: Site
) -> None:
    rows = ledger(30, first_order=700)
    rows[16]["整改类型"] = "马上改"  # spreadsheet row 18
    log_in(page, site, "pingjia.li", "/imports")
    for language, expected in (("zh-CN", ("第 18 行", "整改类型", "无法识别“马上改”")),
                               ("en", ("Row 18", "rectification class", "马上改"))):  # fmt: skip
        context.add_cookies([{"name": "lastmile_lang", "value": language, "url": site.url}])
        page.goto(f"{site.url}/imports")
        page.locator("#import-file").set_input_files(
            {"name": "台账.csv", "mimeType": "text/csv", "buffer": to_csv(rows)}
        )
        page.locator("form[action='/imports'] button[type=submit]").click()
        problems = page.locator("#problems tbody tr")
        expect(problems).to_have_count(1)
        for text in expected:
            expect(problems).to_contain_text(text)
        expect(page.locator("form[action='/imports/confirm']")).to_have_count(0)
    # Nothing was saved, not even the 29 good rows.
    page.goto(f"{site.url}/?status=all&q=泸财绩〔2025〕700号&lang=zh-CN")
    expect(page.locator(".count")).to_have_text("显示 0 条，共 0 条。")


@contextmanager
def _serving(settings: Settings) -> Iterator[str]:
    """Another server on its own data: an import of hundreds would crowd the shared one."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        create_app(settings), log_level="warning", ws="none", http="h11", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the import test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        listener.close()


@pytest.fixture(scope="module")
def import_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data: Path = tmp_path_factory.mktemp("ui-import") / "var"
    settings = Settings(_env_file=None, data_dir=data)  # type: ignore[call-arg]
    _load(settings)
    with _serving(settings) as url:
        yield url


def test_a_500_row_ledger_imports_in_one_go(browser: Browser, import_site: str) -> None:
    context = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    context.set_default_timeout(30_000)
    try:
        page = context.new_page()
        page.goto(f"{import_site}/login?next=/imports")
        page.get_by_label("用户名").fill("pingjia.li")
        page.get_by_label("密码").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.locator("#import-file").set_input_files(
            {"name": "整改台账.xlsx", "mimeType": "application/octet-stream",
             "buffer": to_xlsx(ledger(500, first_order=500), above=1)}
        )  # fmt: skip
        page.get_by_role("button", name="检查台账（暂不导入）").click()
        # Checked, nothing saved yet: what it will record.
        expect(page.get_by_role("heading", level=2)).to_contain_text("检查通过：共 500 行数据")
        tally = page.locator("ul.tally li")
        expect(tally).to_have_text(
            ["50 下达整改通知（份）", "500 下达整改事项（项）", "10 新建评价项目（个）"]
        )
        confirm: dict[str, str | float | bool | bytes | FilePayload] = page.evaluate(
            "Object.fromEntries(new FormData(document.querySelector(\"form[action$='confirm']\")))"
        )
        page.get_by_role("button", name="确认导入 500 项整改事项").click()
        expect(page.locator(".flash")).to_contain_text("整改台账已导入")
        # Every finding is there, e.g. all ten of the last notice.
        page.goto(f"{import_site}/?status=all&q=泸财绩〔2025〕549号")
        expect(page.locator("table.findings tbody tr")).to_have_count(10)
        # Confirming again (a double click, a second tab) is checked again and saves nothing.
        again = page.request.post(f"{import_site}/imports/confirm", multipart=confirm)
        assert again.status == 409
        assert "未导入任何内容" in again.text()
        assert "已经下达过" in again.text()
        # A file that is not the one checked (or of another session) is refused outright.
        forged = page.request.post(
            f"{import_site}/imports/confirm", multipart={**confirm, "seal": "0" * 64}
        )
        assert forged.status == 400
    finally:
        context.close()


def test_department_users_may_not_open_or_post_the_evaluator_pages(page: Page, site: Site) -> None:
    log_in(page, site, "slj.jingban")
    nav = page.get_by_role("navigation")
    for name in ("下达整改通知", "导入整改台账", "待核查"):
        expect(nav.get_by_role("link", name=name)).to_have_count(0)
    token = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    for path in PAGES_403:
        answer = page.goto(site.url + path)
        assert answer is not None
        assert answer.status == 403, path
        expect(page.get_by_role("heading", level=1)).to_have_text("无权操作")
    posted = page.request.post(
        f"{site.url}/orders/new",
        form={"csrf_token": token, "do": "issue", "ref": "越权〔2025〕1号"},
    )
    assert posted.status == 403
    upload: FilePayload = {
        "name": "l.csv",
        "mimeType": "text/csv",
        "buffer": to_csv(ledger(1, 800)),
    }
    posted = page.request.post(
        f"{site.url}/imports", multipart={"csrf_token": token, "file": upload}
    )
    assert posted.status == 403


def test_a_supervisor_may_read_the_queue_but_not_issue(page: Page, site: Site) -> None:
    log_in(page, site, "jiandu.zhao")
    answer = page.goto(f"{site.url}/verification")
    assert answer is not None
    assert answer.status == 200
    for path in ("/orders/new", "/imports"):
        refused = page.goto(site.url + path)
        assert refused is not None
        assert refused.status == 403


@dataclass(frozen=True)
class Visit:
    path: str
    then: Callable[[Page, Site], None] = lambda page, site: None


def _bad_order(page: Page, site: Site) -> None:
    _fill_notice(page, site, f"泸财绩〔{site.year}〕79号")
    page.locator("#order-f1-description").fill("资金使用绩效不高，部分资金闲置超过一年")
    page.locator("#order-f2-ref").fill("2")
    page.locator("form.order-form button[value=issue]").click()
    expect(page.locator(".error").first).to_be_visible()


def _upload(rows: list[Row]) -> Callable[[Page, Site], None]:
    def upload(page: Page, site: Site) -> None:
        page.locator("#import-file").set_input_files(
            {"name": "整改台账.csv", "mimeType": "text/csv", "buffer": to_csv(rows)}
        )
        page.locator("form[action='/imports'] button[type=submit]").click()
        expect(page.locator("#problems, #ready-title").first).to_be_visible()

    return upload


def _bad_ledger() -> list[Row]:
    rows = ledger(12, first_order=720)
    rows[3]["整改类型"] = "马上改"
    rows[7]["下达日期"] = "2025-13-40"
    rows[9]["整改责任单位代码"] = "ZZZ"
    return rows


PAGES: dict[str, Visit] = {
    "order-form": Visit("/orders/new"),
    "order-form-errors": Visit("/orders/new", _bad_order),
    "imports": Visit("/imports"),
    "imports-problems": Visit("/imports", _upload(_bad_ledger())),
    "imports-ready": Visit("/imports", _upload(ledger(20, first_order=740))),
    "verification": Visit("/verification"),
}


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("viewport", ["laptop", "phone"])
@pytest.mark.parametrize("name", PAGES)
def test_each_evaluator_page_renders_cleanly(
    browser: Browser,
    site: Site,
    signed_in: Callable[[BrowserContext, str], None],
    name: str,
    lang: str,
    viewport: str,
) -> None:
    with page_in(browser, site, signed_in, "pingjia.li", lang, viewport) as page:
        page.goto(site.url + PAGES[name].path)
        PAGES[name].then(page, site)
        assert page.evaluate("document.documentElement.lang") == lang
        check_page(page)
        shoot(page, name)
