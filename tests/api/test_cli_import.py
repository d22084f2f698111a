"""`lastmile import FILE --as USER`: a ledger recorded all or nothing, run against each store."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.bootstrap import bootstrap
from adapters.settings import Settings
from tests.api.conftest import Run
from tests.support.ledgers import row as ledger_row
from tests.support.ledgers import to_csv


def _ledger_setup(run: Run, tmp_path: Path) -> Path:
    for code, name in (("SLJ", "泸溪县水利局"), ("JYJ", "泸溪县教育局")):
        assert run("department", "add", code, name)[0] == 0
    assert run("user", "add", "pingjia.li", "--role", "evaluator")[0] == 0
    assert run("user", "add", "slj.jingban", "--role", "department", "--department", "SLJ")[0] == 0
    rows = [ledger_row(1), ledger_row(2), ledger_row(1, order=13, department="JYJ")]
    path = tmp_path / "台账.csv"
    path.write_bytes(to_csv(rows))
    return path


def test_import_records_a_ledger_as_a_named_evaluator(
    run: Run, tmp_path: Path, settings: Settings
) -> None:
    ledger = _ledger_setup(run, tmp_path)

    code, output = run("import", str(ledger), "--as", "pingjia.li", "--dry-run")
    assert code == 0, output
    assert "校验通过，未保存" in output

    code, output = run("import", str(ledger), "--as", "pingjia.li")
    assert code == 0, output
    assert "导入成功：3 行，整改通知 2 份，问题 3 个，新建绩效评价 1 个。" in output

    system = bootstrap(settings)
    finding = system.app.finding_by_ref("泸财绩〔2025〕13号", "1")
    system.close()
    assert (finding.department, finding.issued_by) == ("JYJ", "pingjia.li")


def test_import_lists_each_bad_row_and_saves_nothing(run: Run, tmp_path: Path) -> None:
    ledger = _ledger_setup(run, tmp_path)
    ledger.write_bytes(to_csv([ledger_row(1), ledger_row(2, 整改类型="马上改", 下达日期="昨天")]))

    code, output = run("import", str(ledger), "--as", "pingjia.li")

    assert code == 1
    assert "下达日期" in output
    assert "马上改" in output
    assert "发现 2 处问题，未导入任何数据。" in output
    assert run("import", str(ledger), "--as", "pingjia.li", "--dry-run")[0] == 1


@pytest.mark.parametrize(
    ("who", "complaint"),
    [("slj.jingban", "only an evaluator may import"), ("nobody", "No user named 'nobody'")],
)
def test_import_acts_only_as_an_existing_evaluator(
    run: Run, tmp_path: Path, who: str, complaint: str
) -> None:
    ledger = _ledger_setup(run, tmp_path)

    code, output = run("import", str(ledger), "--as", who)

    assert code == 2
    assert complaint in output
