"""Writes over HTTP: If-Match, Idempotency-Key, concurrent writers, and read-your-writes."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from adapters.settings import Settings
from api.app import create_app
from api.deps import FindingDepartments
from tests.api.conftest import Api, Who, start
from tests.conftest import ManualClock

ORDER = {
    "ref": "泸财绩〔2025〕77号",
    "evaluation": "LX-2025-PJ-001",
    "department": "SLJ",
    "findings": [
        {
            "ref": "1",
            "description": "资金闲置",
            "category": "过程/资金闲置沉淀",
            "class": "immediate",
        },
        {
            "ref": "2",
            "description": "制度缺失",
            "category": "过程/管理制度不健全",
            "class": "phased",
        },
    ],
}


def progress(api: Api, finding: Any, headers: dict[str, str] | None = None, **body: Any) -> Any:
    return api.call(
        Who.SLJ,
        "POST",
        f"/api/v1/findings/{finding}/progress",
        json={"note": "已拨付", "percent": 50, **body},
        headers=headers or {},
    )


# -- If-Match ------------------------------------------------------------------------------


def test_a_current_if_match_writes_and_answers_the_new_etag(api: Api) -> None:
    finding = api.finding("acknowledged")
    etag = api.call(Who.SLJ, "GET", f"/api/v1/findings/{finding.id}").headers["ETag"]
    assert etag == f'"{finding.version}"'

    response = progress(api, finding.id, {"If-Match": etag})

    assert response.status_code == 200
    assert response.headers["ETag"] == f'"{finding.version + 1}"'
    assert response.json()["version"] == finding.version + 1
    assert response.json()["progress_percent"] == 50


def test_if_match_takes_a_weak_etag_a_bare_number_or_a_star(api: Api) -> None:
    finding = api.finding("acknowledged")

    # Each form names the version the previous write answered with
    answers = [
        progress(api, finding.id, {"If-Match": form.format(v=finding.version + n)}).status_code
        for n, form in enumerate(['W/"{v}"', "{v}", "*"])
    ]

    assert answers == [200, 200, 200]
    assert api.view(finding.id).version == finding.version + 3


def test_a_stale_if_match_is_412_and_records_nothing(api: Api) -> None:
    # Given someone else reported progress after we read version v
    finding = api.finding("acknowledged")
    assert progress(api, finding.id, note="别人先报").status_code == 200
    before = api.events()

    # When we write with If-Match: v
    response = progress(api, finding.id, {"If-Match": f'"{finding.version}"'})

    # Then it is a 412 naming both versions, and nothing was recorded
    assert response.status_code == 412
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "stale-version"
    assert f"version {finding.version}" in problem["detail"]
    assert f"version {finding.version + 1}" in problem["detail"]
    assert api.events() == before
    assert api.view(finding.id).progress_percent == 50


def test_a_malformed_if_match_is_400_and_records_nothing(api: Api) -> None:
    finding = api.finding("acknowledged")
    before = api.events()

    for value in ["abc", '"v3"', "3, 4", "-1", ""]:
        response = progress(api, finding.id, {"If-Match": value})

        assert response.status_code == 400, value
        assert response.json()["code"] == "if-match"
        assert "If-Match" in response.json()["detail"]
    assert api.events() == before


# -- Idempotency-Key ---------------------------------------------------------------------


def test_a_retried_request_gets_the_first_answer_and_nothing_is_done_twice(api: Api) -> None:
    finding = api.finding("acknowledged")
    key = {"Idempotency-Key": "progress-2025-09-26-001"}

    first = progress(api, finding.id, key)
    after_first = api.events()
    again = progress(api, finding.id, key)

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Idempotent-Replay"] == "true"
    assert "Idempotent-Replay" not in first.headers
    assert api.events() == after_first
    history = api.call(Who.SLJ, "GET", f"/api/v1/findings/{finding.id}/history").json()
    assert [e["type"] for e in history].count("ProgressReported") == 1


def test_a_retried_order_is_issued_once(api: Api) -> None:
    key = {"Idempotency-Key": "order-77"}

    first = api.call(Who.EVALUATOR, "POST", "/api/v1/orders", json=ORDER, headers=key)
    after_first = api.events()
    again = api.call(Who.EVALUATOR, "POST", "/api/v1/orders", json=ORDER, headers=key)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert len(again.json()["findings"]) == 2
    assert again.headers["Idempotent-Replay"] == "true"
    assert api.events() == after_first


def test_the_same_key_with_another_body_is_422_and_records_nothing(api: Api) -> None:
    finding = api.finding("acknowledged")
    key = {"Idempotency-Key": "k-1"}
    assert progress(api, finding.id, key, percent=40).status_code == 200
    before = api.events()

    response = progress(api, finding.id, key, percent=41)

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency-key-reused"
    assert "different request" in response.json()["detail"]
    assert api.events() == before
    assert api.view(finding.id).progress_percent == 40


def test_keys_belong_to_their_user(api: Api) -> None:
    # Two users choosing the same key do not get each other's answers
    key = {"Idempotency-Key": "same-key"}
    ours = api.finding()
    escalated = api.call(
        Who.SUPERVISOR,
        "POST",
        f"/api/v1/findings/{ours.id}/escalations",
        json={"level": 1, "reason": "逾期"},
        headers=key,
    )
    signed = api.call(
        Who.SLJ,
        "POST",
        f"/api/v1/findings/{ours.id}/acknowledgement",
        json={"responsible_person": "张三"},
        headers=key,
    )

    assert escalated.status_code == signed.status_code == 200
    assert "Idempotent-Replay" not in signed.headers
    assert signed.json()["status"] == "acknowledged"


def test_a_replayed_refusal_stays_a_409(api: Api) -> None:
    # Given a finding already at escalation level 1
    finding = api.finding()
    url = f"/api/v1/findings/{finding.id}/escalations"
    body = {"level": 1, "reason": "逾期"}
    assert api.call(Who.SUPERVISOR, "POST", url, json=body).status_code == 200

    # When escalating to level 1 again is refused, and then retried with the same key
    key = {"Idempotency-Key": "esc-again"}
    refused = api.call(Who.SUPERVISOR, "POST", url, json=body, headers=key)
    before = api.events()
    replayed = api.call(Who.SUPERVISOR, "POST", url, json=body, headers=key)

    # Then the retry gets the same 409 problem back, marked as a replay
    assert refused.status_code == replayed.status_code == 409
    assert replayed.json() == refused.json()
    assert replayed.json()["code"] == "not-allowed-now"
    assert replayed.headers["content-type"] == "application/problem+json"
    assert replayed.headers["Idempotent-Replay"] == "true"
    assert api.events() == before


# -- concurrency -------------------------------------------------------------------------


def test_fifty_concurrent_writes_on_one_finding_are_all_kept(api: Api) -> None:
    # Given one acknowledged finding
    finding = api.finding("acknowledged")
    notes = [f"第{n}次进展" for n in range(50)]

    # When 50 requests report progress on it at the same time, without If-Match
    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(
            pool.map(lambda note: progress(api, finding.id, note=note).status_code, notes)
        )

    # Then every one succeeded and every one is in the history, none lost or doubled
    assert statuses == [200] * 50
    history = api.call(Who.SLJ, "GET", f"/api/v1/findings/{finding.id}/history").json()
    reported = [e["fields"]["note"] for e in history if e["type"] == "ProgressReported"]
    assert sorted(reported) == sorted(notes)
    assert [e["version"] for e in history] == list(range(1, len(history) + 1))
    assert api.view(finding.id).version == finding.version + 50


# -- read your writes --------------------------------------------------------------------


@pytest.fixture
def projecting(settings: Settings, clock: ManualClock) -> Iterator[Api]:
    """The app as served: read models are kept current by a thread in the background."""
    with TestClient(create_app(settings, clock, project_in_background=True)) as client:
        yield start(client)


def test_a_write_answers_its_position_and_after_waits_for_it(projecting: Api) -> None:
    api = projecting
    finding = api.finding()

    # When the department signs for the finding
    signed = api.call(
        Who.SLJ,
        "POST",
        f"/api/v1/findings/{finding.id}/acknowledgement",
        json={"responsible_person": "张三"},
    )
    position = int(signed.headers["X-Lastmile-Position"])

    # Then a list read after that position shows the signature
    listed = api.call(Who.SLJ, "GET", "/api/v1/findings", params={"after": position}).json()
    assert listed["position"] >= position
    assert [(r["id"], r["status"]) for r in listed["rows"]] == [(str(finding.id), "acknowledged")]


def test_after_a_position_past_the_end_of_the_log_is_422_at_once(projecting: Api) -> None:
    end = projecting.events()

    listed = projecting.call(Who.SLJ, "GET", "/api/v1/findings", params={"after": end + 1})

    # Refused, not waited on: no write ever answered with that position
    assert listed.status_code == 422
    assert f"past the end of the event log ({end})" in listed.json()["detail"]


def test_the_departments_of_findings_written_lately_are_kept_up_to_a_bound() -> None:
    known = FindingDepartments(size=2)
    first, second, third = uuid4(), uuid4(), uuid4()

    for finding, department in ((first, "SLJ"), (second, "JYJ"), (third, "SLJ")):
        known.put(finding, department)

    assert [known.get(f) for f in (first, second, third)] == [None, "JYJ", "SLJ"]
