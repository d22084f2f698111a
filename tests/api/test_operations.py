"""/healthz and /metrics, for operators and load balancers."""

from __future__ import annotations

from tests.api.conftest import Api, Who


def test_health_reports_the_log_and_how_far_the_read_models_lag(api: Api) -> None:
    api.finding()
    before = api.client.get("/healthz").json()
    api.project()
    after = api.client.get("/healthz").json()

    assert before["status"] == "ok"
    assert before["lag"] > 0
    assert (after["lag"], after["read_models"]) == (0, after["events"])


def test_metrics_count_requests_per_route_template_not_per_finding(api: Api) -> None:
    finding = api.finding()
    api.call(Who.SLJ, "GET", f"/api/v1/findings/{finding.id}")

    text = api.client.get("/metrics").text

    assert 'route="/api/v1/findings/{finding_id}",status="200"' in text
    assert str(finding.id) not in text
    assert "lastmile_read_model_lag" in text
