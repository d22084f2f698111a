"""The rules in force are visible: policy with its basis, and the working-day calendar."""

from __future__ import annotations

from tests.api.conftest import Api, Who


def test_the_calendar_shows_holidays_and_make_up_days(api: Api) -> None:
    answer = api.call(Who.SLJ, "GET", "/api/v1/calendar/2025").json()

    assert answer["provisional"] is False
    assert {"2025-10-01", "2025-10-08", "2025-01-28"} <= set(answer["rest_days"])
    assert {"2025-09-28", "2025-10-11", "2025-01-26"} <= set(answer["makeup_workdays"])
    assert "chinese-calendar" in answer["version"]


def test_the_policy_shows_each_deadline_with_its_basis(api: Api) -> None:
    answer = api.call(Who.SUPERVISOR, "GET", "/api/v1/policy").json()

    immediate = answer["deadlines"]["classes"]["immediate"]
    assert (immediate["unit"], immediate["count"]) == ("calendar_days", 30)
    assert immediate["basis"]
    assert answer["budget_linkage"]["rules"]
