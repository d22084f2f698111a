"""/healthz and /metrics, for operators and load balancers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from notifications import tables as outbox
from tests.api.conftest import Api, Who
from tests.conftest import ManualClock


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


def test_metrics_count_each_answer_by_its_status_and_time_it(api: Api) -> None:
    finding = api.finding("acknowledged")
    path = f"/api/v1/findings/{finding.id}/progress"
    api.call(Who.SLJ, "POST", path, json={"note": "拨付中", "percent": 10})
    api.call(Who.JYJ, "POST", path, json={"note": "拨付中", "percent": 10})  # not theirs: 404
    api.client.get("/no/such/page")

    text = api.client.get("/metrics").text

    template = 'route="/api/v1/findings/{finding_id}/progress"'
    assert f'method="POST",{template},status="200"}} 1.0' in text
    assert f'method="POST",{template},status="404"}} 1.0' in text
    assert f'lastmile_http_request_seconds_count{{method="POST",{template}}} 2.0' in text
    assert 'method="GET",route="unmatched",status="404"} 1.0' in text


def test_health_says_when_no_worker_has_run(api: Api) -> None:
    health = api.client.get("/healthz").json()

    assert health["worker"] == {"status": "absent"}
    assert health["status"] == "ok"  # the API itself is fine


def test_health_shows_the_workers_heartbeat_and_when_it_went_quiet(
    api: Api, clock: ManualClock
) -> None:
    status = api.system.worker_status
    status.started("worker-1", 4242)
    status.scanned(clock.now, 0.25, 7)

    fresh = api.client.get("/healthz").json()["worker"]
    assert fresh["status"] == "ok"
    assert (fresh["host"], fresh["pid"], fresh["last_scan_events"]) == ("worker-1", 4242, 7)
    assert fresh["last_scan_seconds"] == 0.25
    assert "lastmile_worker_up 1" in api.client.get("/metrics").text

    clock.advance(minutes=10)
    assert api.client.get("/healthz").json()["worker"]["status"] == "stale"
    assert "lastmile_worker_up 0" in api.client.get("/metrics").text

    status.failed("mail-send", RuntimeError("SMTP refused"))
    status.stopped()
    stopped = api.client.get("/healthz").json()["worker"]
    assert stopped["status"] == "stopped"
    assert stopped["last_error"] == "mail-send: RuntimeError: SMTP refused"


def test_health_and_metrics_count_pending_and_failed_mail(api: Api, clock: ManualClock) -> None:
    records = api.system.records
    outbox.metadata.create_all(records)
    with records.begin() as connection:
        connection.execute(
            outbox.mail_outbox.insert(),
            [
                mail_row("a", outbox.PENDING, clock.now - timedelta(minutes=5)),
                mail_row("b", outbox.SENDING, clock.now - timedelta(minutes=1)),
                mail_row("c", outbox.FAILED, clock.now - timedelta(hours=2)),
                mail_row("d", outbox.SENT, clock.now - timedelta(hours=3)),
            ],
        )

    mail = api.client.get("/healthz").json()["mail"]
    text = api.client.get("/metrics").text

    assert mail == {"pending": 2, "failed": 1, "oldest_pending_seconds": 300.0}
    assert "lastmile_mail_pending 2" in text
    assert "lastmile_mail_oldest_pending_seconds 300.0" in text


def mail_row(key: str, status: str, created: datetime) -> dict[str, Any]:
    return {
        "id": key,
        "message_id": f"<{key}@lastmile>",
        "event_type": "ReminderSent",
        "about": "ReminderSent v2",
        "template": "reminder_overdue",
        "recipient": "slj@example.cn",
        "language": "zh-CN",
        "subject": "逾期提醒",
        "text_body": "",
        "html_body": "",
        "status": status,
        "attempts": 0,
        "next_attempt_at": created,
        "created_at": created,
    }
