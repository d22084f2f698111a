"""POST /api/v1/imports: a ledger file recorded all or nothing, or a 422 listing every bad row."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api, Who
from tests.support.ledgers import Row, row, to_csv, to_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def ledger() -> list[Row]:
    """Two orders on a new evaluation, three findings to SLJ, named as the bureau writes it."""
    return [row(n, order=order, evaluation=101) for n, order in ((1, 40), (2, 40), (1, 41))]


def upload(api: Api, content: bytes, name: str = "台账.xlsx", **params: Any) -> Any:
    return api.call(
        Who.EVALUATOR,
        "POST",
        "/api/v1/imports",
        files={"file": (name, content, XLSX if name.endswith("xlsx") else "text/csv")},
        params=params,
    )


def test_an_evaluator_imports_a_ledger_and_its_findings_are_there(api: Api) -> None:
    response = upload(api, to_xlsx(ledger()))

    assert response.status_code == 201, response.text
    body = response.json()
    assert {k: body[k] for k in ("orders", "findings", "evaluations", "rows", "dry_run")} == {
        "orders": 2,
        "findings": 3,
        "evaluations": 1,
        "rows": 3,
        "dry_run": False,
    }
    # 泸溪县水利局 in the file, 县水利局 on record: imported by the code, with a word about it
    assert [(w["row"], w["column"]) for w in body["warnings"]] == [(2, "整改责任单位")]
    assert int(response.headers["X-Lastmile-Position"]) == api.events()
    finding = api.call(Who.SLJ, "GET", f"/api/v1/findings/{body['finding_ids'][0]}").json()
    assert (finding["order_ref"], finding["ref"], finding["status"]) == (
        "泸财绩〔2025〕40号",
        "1",
        "issued",
    )
    evaluation = api.call(Who.SLJ, "GET", "/api/v1/evaluations/LX-2025-PJ-101").json()
    assert (evaluation["title"], evaluation["grade"]) == ("2025年第101号项目支出绩效评价", "中")


def test_a_dry_run_answers_200_and_saves_nothing(api: Api) -> None:
    before = api.events()

    response = upload(api, to_csv(ledger()), "台账.csv", dry_run="true")

    assert response.status_code == 200
    assert (response.json()["findings"], response.json()["dry_run"]) == (3, True)
    assert api.events() == before


def test_a_ledger_with_bad_rows_is_a_422_listing_each_and_saves_nothing(api: Api) -> None:
    rows = ledger()
    rows[1]["整改类型"] = "马上改"
    rows[2]["整改责任单位代码"] = "GTJ"
    before = api.events()

    response = upload(api, to_csv(rows), "台账.csv")

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "ledger-invalid"
    assert "nothing was saved" in problem["detail"]
    assert [(e["row"], e["column"]) for e in problem["errors"]] == [
        (3, "整改类型"),
        (4, "整改责任单位代码"),
    ]
    assert problem["errors"][0]["problem"].startswith("无法识别“马上改”")
    assert "not a rectification class" in problem["errors"][0]["problem_en"]
    assert api.events() == before


def test_importing_the_same_ledger_twice_is_refused_naming_the_findings(api: Api) -> None:
    assert upload(api, to_xlsx(ledger())).status_code == 201

    again = upload(api, to_csv(ledger()), "台账.csv")

    assert again.status_code == 422
    errors = again.json()["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [(n, "问题编号") for n in (2, 3, 4)]
    assert "已经下达过（泸财绩〔2025〕40号 问题编号“1”" in errors[0]["problem"]


def test_a_file_that_is_not_a_ledger_is_a_422_about_the_file(api: Api) -> None:
    response = upload(api, b"%PDF-1.7", "报告.pdf")

    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert (error["row"], error["column"]) == (None, None)
    assert "只能导入 .xlsx 或 .csv" in error["problem"]


@pytest.mark.parametrize("who", [Who.SLJ, Who.SUPERVISOR, Who.ADMIN])
def test_only_an_evaluator_may_import(api: Api, who: Who) -> None:
    response = api.call(
        who, "POST", "/api/v1/imports", files={"file": ("台账.csv", to_csv(ledger()), "text/csv")}
    )

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden-role"
