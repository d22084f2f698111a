"""Users and acknowledged findings set up through the API, as the bureau would set them up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx2

from bench.workloads import DEPARTMENT, DEPARTMENT_USER, EVALUATION, EVALUATOR

ORDER = "泸财绩〔2025〕12号"


@dataclass(frozen=True)
class Desk:
    """Acknowledged findings, and the token of the department user who reports on them."""

    findings: list[str]
    department_token: str


def post(client: httpx2.Client, token: str, path: str, body: dict[str, Any]) -> Any:
    """POST JSON as the token's user; the answer's JSON, or an error naming the problem."""
    answer = client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    if answer.status_code not in (200, 201):
        raise RuntimeError(f"POST {path}: {answer.status_code} {answer.text[:500]}")
    return answer.json()


def add_user(
    client: httpx2.Client, admin: str, name: str, role: str, department: str | None = None
) -> str:
    """Add a user as the admin; the new user's API token."""
    body = {"name": name, "role": role, "department": department}
    token: str = post(client, admin, "/api/v1/users", body)["token"]
    return token


def prepare_findings(base_url: str, admin: str, count: int) -> Desk:
    """A department, its evaluation, an order of `count` findings, each acknowledged."""
    with httpx2.Client(base_url=base_url, timeout=120) as client:
        department_body = {"code": DEPARTMENT, "name": "泸溪县水利局", "contact_email": None}
        post(client, admin, "/api/v1/departments", department_body)
        evaluator = add_user(client, admin, EVALUATOR.user_id, "evaluator")
        department = add_user(client, admin, DEPARTMENT_USER.user_id, "department", DEPARTMENT)
        post(client, evaluator, "/api/v1/evaluations", _evaluation())
        issued = post(client, evaluator, "/api/v1/orders", _order(count))
        ids = [str(finding["id"]) for finding in issued["findings"]]
        acknowledgement = {"responsible_person": "张建国", "plan": "按月报送整改进展"}
        for finding in ids:
            post(client, department, f"/api/v1/findings/{finding}/acknowledgement", acknowledgement)
    return Desk(ids, department)


def _evaluation() -> dict[str, Any]:
    """The evaluation bench.workloads records in process."""
    return {
        "ref": EVALUATION,
        "title": "2025年农村饮水安全巩固提升工程项目支出绩效评价",
        "year": 2025,
        "object_type": "project",
        "department": DEPARTMENT,
        "budget_amount": "12000000.00",
        "score": "78.5",
    }


def _order(count: int) -> dict[str, Any]:
    """The order bench.workloads issues in process, finding for finding."""
    findings = [
        {
            "ref": str(n),
            "description": f"问题{n}：预算执行率低",
            "category": "过程/预算执行率低",
            "class": "立行立改",
            "requirement": "加快执行",
        }
        for n in range(1, count + 1)
    ]
    return {"ref": ORDER, "evaluation": EVALUATION, "department": DEPARTMENT, "findings": findings}
