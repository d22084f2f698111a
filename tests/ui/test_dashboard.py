"""The supervisor's dashboard: scorecards as of a day, labelled charts, report downloads."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest

from api.ui.charts import VALUE_ROOM, WIDTH, Series, rate_chart, stacked_chart
from domain.calendar import end_of_day
from tests.ui.conftest import Site, check_page, expect, log_in, page_in, shoot, today

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHARTS = ("#chart-rate", "#chart-ageing", "#chart-escalations")
DEPARTMENTS = ("泸溪县水利局", "泸溪县教育局", "泸溪县卫生健康局", "泸溪县农业农村局")


def department_figures(page: Page, department: str) -> dict[str, str]:
    """The scorecard row of one department: metric name -> the text shown."""
    row = page.locator("#scorecards tbody tr").filter(has_text=department)
    cells = row.locator("td[data-metric]")
    return {
        cells.nth(i).get_attribute("data-metric") or "": cells.nth(i).inner_text().strip()
        for i in range(cells.count())
    }


def total_figures(page: Page) -> list[str]:
    cells = page.locator("#scorecards tfoot td")
    return [cells.nth(i).inner_text().strip() for i in range(cells.count())]


def _chart_labels(page: Page) -> None:
    """Each chart: a caption, a text alternative, selectable texts, the numbers as a table."""
    for chart in CHARTS:
        svg = page.locator(f"figure:has({chart}-caption) svg")
        labelled = svg.get_attribute("aria-labelledby") or ""
        texts = [page.locator(f"[id='{part}']").text_content() or "" for part in labelled.split()]
        assert all(text.strip() for text in texts), chart
        shown = [t.strip() for t in svg.locator("text").all_text_contents() if t.strip()]
        assert len(shown) >= 2 * len(DEPARTMENTS), (chart, shown)
        assert page.locator(f"figure:has({chart}-caption) figcaption").inner_text().strip()
        assert page.locator(f"figure:has({chart}-caption) table tbody tr").count() == len(
            DEPARTMENTS
        )
    # Every text of every chart stays inside its figure (long Chinese names included).
    outside = page.evaluate(
        """[...document.querySelectorAll('figure.chart')].flatMap(f => {
             const box = f.getBoundingClientRect();
             return [...f.querySelectorAll('svg text')]
               .filter(t => t.getBoundingClientRect().right > box.right + 0.5)
               .map(t => t.textContent);
           })"""
    )
    assert outside == []


def test_the_supervisor_reads_scorecards_charts_and_the_overdue_list(
    page: Page, site: Site
) -> None:
    log_in(page, site, "jiandu.zhao")
    page.get_by_role("navigation").get_by_role("link", name="监督看板").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("监督看板")
    expect(page.get_by_label("数据截至日期")).to_have_value(today().isoformat())
    for name in DEPARTMENTS:
        expect(page.locator("#scorecards tbody")).to_contain_text(name)
    assert department_figures(page, "泸溪县水利局")["rectification_rate"].endswith("%")
    _chart_labels(page)
    # The overdue list: longest overdue first, each with its badges and a link to the finding.
    rows = page.locator("#overdue tbody tr")
    assert rows.count() > 0
    days = [int(re.sub(r"\D", "", rows.nth(i).locator(".overdue").inner_text()))
            for i in range(rows.count())]  # fmt: skip
    assert days == sorted(days, reverse=True)
    expect(page.locator("#overdue .escalation").first).to_be_visible()
    rows.first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/findings/[0-9a-f-]{36}$"))
    page.go_back()
    expect(page.locator("#linkage tbody tr")).to_have_count(4)


def test_every_report_downloads_as_xlsx_and_pdf(page: Page, site: Site) -> None:
    log_in(page, site, "jiandu.zhao", "/dashboard")
    links = page.locator("ul.downloads a")
    assert links.count() == 8
    for fmt, check in (("Excel", _is_xlsx), ("PDF", _is_pdf)):
        with page.expect_download() as download:
            page.get_by_role("link", name=re.compile(f"^{fmt}.*各单位整改评分表$")).click()
        path = download.value.path()
        check(path.read_bytes())
    for i in range(links.count()):
        href = links.nth(i).get_attribute("href") or ""
        assert (
            f"as_of={end_of_day(today()).isoformat()}".replace("+", "%2B").replace(":", "%3A")
            in href
        )
        answer = page.request.get(site.url + href)
        assert answer.ok, href
        (_is_xlsx if "format=xlsx" in href else _is_pdf)(answer.body())


def _is_xlsx(content: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(content)) as workbook:
        assert "xl/workbook.xml" in workbook.namelist()


def _is_pdf(content: bytes) -> None:
    assert content.startswith(b"%PDF")


def test_a_past_day_shows_the_figures_as_they_stood_then(page: Page, site: Site) -> None:
    log_in(page, site, "jiandu.zhao", "/dashboard")
    now = total_figures(page)
    day = today() - timedelta(days=100)
    page.get_by_label("数据截至日期").fill(day.isoformat())
    page.get_by_role("button", name="查看").click()
    expect(page).to_have_url(re.compile(rf"as_of={day.isoformat()}"))
    expect(page.locator(".provenance")).to_contain_text("历史数据")
    expect(page.locator(".provenance time")).to_contain_text(day.isoformat())
    then = total_figures(page)
    assert then != now
    # The same figures as the departments report as of the end of that day.
    query = urlencode({"as_of": end_of_day(day).isoformat()})
    report = page.request.get(f"{site.url}/api/v1/reports/departments?{query}").json()
    total = next(r for r in report["rows"] if r["department"] == "全部" and r["class"] is None)
    assert then[:3] == [str(total[k]) for k in ("issued", "due", "verified")]
    # Every download link is for that day too.
    href = page.locator("ul.downloads a").first.get_attribute("href") or ""
    assert query in href
    page.get_by_role("link", name="回到今天").click()
    assert total_figures(page) == now


def test_a_future_or_bad_date_shows_today_and_says_why(page: Page, site: Site) -> None:
    log_in(page, site, "pingjia.li", "/dashboard?as_of=2999-01-01")
    expect(page.get_by_role("alert")).to_have_text("不能查看未来日期，已显示今天的数据。")
    expect(page.get_by_label("数据截至日期")).to_have_value(today().isoformat())
    page.goto(f"{site.url}/dashboard?as_of=yesterday&year=abc")
    expect(page.get_by_role("alert")).to_contain_text("日期无效")
    expect(page.get_by_label("预算年度")).to_have_value(str(today().year + 1))


def test_a_department_user_is_refused_the_dashboard(page: Page, site: Site) -> None:
    log_in(page, site, "slj.jingban")
    expect(page.get_by_role("navigation").get_by_role("link", name="监督看板")).to_have_count(0)
    refused = page.goto(f"{site.url}/dashboard")
    assert refused is not None
    assert refused.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("无权操作")


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("viewport", ["laptop", "phone"])
def test_the_dashboard_renders_cleanly(
    browser: Browser,
    site: Site,
    signed_in: Callable[[BrowserContext, str], None],
    lang: str,
    viewport: str,
) -> None:
    with page_in(browser, site, signed_in, "jiandu.zhao", lang, viewport) as page:
        page.goto(f"{site.url}/dashboard")
        assert page.evaluate("document.documentElement.lang") == lang
        check_page(page)
        _chart_labels(page)
        if viewport == "laptop":  # the whole scorecard table fits, no scrolling sideways
            wide = "(w => w.scrollWidth - w.clientWidth)(document.querySelector('.table-scroll'))"
            assert page.evaluate(wide) <= 0
        shoot(page, "dashboard")
        page.locator("details.chart-data summary").first.click()
        check_page(page)


def test_a_chart_wraps_its_legend_and_cuts_long_names_inside_its_width() -> None:
    names = ["泸溪县人力资源和社会保障局农村劳动力转移就业服务中心", "县水利局"]
    series = [Series(label, "#000") for label in ("Supervision notice", "Interview", "Account")]
    chart = stacked_chart("c", "Escalations", names, series, [[1, 2, 0], [0, 0, 0]], str, "none")
    assert len({item.y for item in chart.legend}) == 2
    assert all(item.x + 20 + len(item.label) * 7 <= WIDTH for item in chart.legend)
    long, short = chart.bars
    assert long.label.endswith("…")
    assert long.title == names[0]
    assert [s.title for s in long.segments] == ["Supervision notice: 1", "Interview: 2"]
    assert short.segments == ()
    assert short.value_text == "none"
    assert "县水利局: Supervision notice 0" in chart.summary.replace("：", ": ")


def test_a_rate_chart_says_when_nothing_is_due() -> None:
    chart = rate_chart("r", "整改率", ["甲", "乙"], [0.5, None], Series("整改率", "#000"),
                       lambda r: f"{r:.0%}", "无到期事项")  # fmt: skip
    half, nothing = chart.bars
    assert half.value_text == "50%"
    assert half.segments[0].width == (WIDTH - VALUE_ROOM) / 2
    assert nothing.segments == ()
    assert nothing.value_text == "无到期事项"
    assert chart.table == (("甲", "50%"), ("乙", "无到期事项"))
    assert [g.text for g in chart.guides] == ["0%", "50%", "100%"]
