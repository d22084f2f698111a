"""Ledger files (整改台账) for import tests: the 20-row sample, edited rows, generated ones."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook

from domain.application import LastmileApplication
from domain.values import Actor, Role

Row = dict[str, object]
DATA = Path(__file__).resolve().parent.parent / "data"
SAMPLE_CSV = DATA / "sample-ledger.csv"  # a copy of docs/../data/sample-ledger.csv
SAMPLE_XLSX = DATA / "sample-ledger.xlsx"
HEADERS = (
    "序号", "评价项目编号", "评价项目名称", "评价年度", "评价得分", "整改通知文号", "下达日期",
    "整改责任单位代码", "整改责任单位", "问题编号", "问题描述", "问题类型", "整改类型", "整改要求",
    "整改时限",
)  # fmt: skip
DEPARTMENTS = {
    "SLJ": "泸溪县水利局",
    "JYJ": "泸溪县教育局",
    "WJJ": "泸溪县卫生健康局",
    "NYJ": "泸溪县农业农村局",
    "JTJ": "泸溪县交通运输局",
}
CLASSES = ("立行立改", "分阶段整改", "持续整改")


def register_departments(
    app: LastmileApplication, codes: Sequence[str] = tuple(DEPARTMENTS)
) -> None:
    admin = Actor("guanli.chen", Role.ADMIN)
    for code in codes:
        app.register_department(admin, code, DEPARTMENTS[code], f"{code.lower()}@example.cn")


def sample_rows() -> list[Row]:
    """The sample's rows; row i of the list is row i + 2 of the spreadsheet."""
    with SAMPLE_CSV.open(encoding="utf-8-sig", newline="") as file:
        return [dict(r) for r in csv.DictReader(file)]


def row(
    n: int, order: int = 12, evaluation: int = 1, department: str = "SLJ", **cells: object
) -> Row:
    """One ledger row: finding n of order 泸财绩〔2025〕<order>号 on LX-2025-PJ-<evaluation>."""
    return {
        "序号": n,
        "评价项目编号": f"LX-2025-PJ-{evaluation:03d}",
        "评价项目名称": f"2025年第{evaluation}号项目支出绩效评价",
        "评价年度": 2025,
        "评价得分": 78.5,
        "整改通知文号": f"泸财绩〔2025〕{order}号",
        "下达日期": "2025-09-25",
        "整改责任单位代码": department,
        "整改责任单位": DEPARTMENTS[department],
        "问题编号": str(n),
        "问题描述": f"第{n}项问题：年终预算执行率偏低，资金闲置",
        "问题类型": "过程/预算执行率低",
        "整改类型": CLASSES[n % 3],
        "整改要求": "加快资金拨付进度",
        "整改时限": "",
        **cells,
    }


def generated(count: int, per_order: int = 10, orders_per_evaluation: int = 5) -> list[Row]:
    """count rows: orders of per_order findings, evaluations of several orders, 5 departments."""
    codes = list(DEPARTMENTS)
    rows = []
    for i in range(count):
        order = i // per_order
        evaluation = order // orders_per_evaluation
        rows.append(
            row(
                i % per_order + 1,
                order=100 + order,
                evaluation=100 + evaluation,
                department=codes[evaluation % len(codes)],
                序号=i + 1,
            )
        )
    return rows


def to_csv(rows: Sequence[Row], headers: Sequence[str] = HEADERS, bom: bool = True) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows([["" if r.get(h) is None else r.get(h) for h in headers] for r in rows])
    return buffer.getvalue().encode("utf-8-sig" if bom else "utf-8")


def to_xlsx(rows: Sequence[Row], headers: Sequence[str] = HEADERS, above: int = 0) -> bytes:
    """A workbook with the ledger on its first sheet, `above` title lines over the header."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "整改台账"
    for n in range(above):
        sheet.append([f"泸溪县财政局整改台账（第{n + 1}行标题）"])
    sheet.append(list(headers))
    for r in rows:
        sheet.append([r.get(h) for h in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
