"""schemathesis against the app's own OpenAPI schema: no 5xx, and no answer it does not describe.

On SQLite only: the store does not change the HTTP contract, and this is the slowest run here.
Each operation gets 25 derandomized examples per mode, without shrinking or an example
database, so a run is the same every time and takes seconds.

The cases come from `APIOperation.as_strategy` under our own `@given`, not from
`schemathesis.pytest.from_fixture`: that loader sets `Function._nodeid`, which pytest 9.2 no
longer has.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi.testclient import TestClient
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.settings import Settings
from api.app import create_app
from tests.api.conftest import Api, Who, pdf, start
from tests.conftest import ManualClock

Operation = APIOperation[Any, Any, Any, Any]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


class AlreadyStarted:
    """The app, started by the test client; schemathesis must not run its lifespan again."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            # Refusing the scope before reading it is how an app says it has no lifespan.
            raise RuntimeError("started already")
        await self.app(scope, receive, send)


@pytest.fixture
def fuzzed(tmp_path: Path, clock: ManualClock) -> Iterator[Api]:
    """The app on SQLite as served, read models kept current in the background."""
    settings = Settings(_env_file=None, data_dir=tmp_path / "var")  # type: ignore[call-arg]
    with TestClient(create_app(settings, clock)) as client:
        yield start(client)


SETTINGS = hypothesis.settings(
    max_examples=25,
    derandomize=True,
    database=None,
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],  # no shrinking
    deadline=None,
)


@pytest.fixture
def fixed_parameters(fuzzed: Api) -> dict[str, str]:
    """Real ids for path parameters, so most cases reach a finding instead of a 404."""
    finding = fuzzed.finding("acknowledged")
    upload = fuzzed.call(
        Who.SLJ,
        "POST",
        f"/api/v1/findings/{finding.id}/evidence",
        files={"file": ("报告.pdf", pdf(), "application/pdf")},
    )
    assert upload.status_code == 201
    return {
        "finding_id": str(finding.id),
        "sha256": upload.json()["sha256"],
        "ref": "LX-2025-PJ-001",
        "name": Who.SLJ.value,
    }


def exercise(
    operation: Operation, mode: GenerationMode, fixed: dict[str, str], headers: dict[str, str]
) -> None:
    names = {parameter.name for parameter in operation.path_parameters}
    strategy = operation.as_strategy(
        generation_mode=mode, path_parameters={k: v for k, v in fixed.items() if k in names}
    )

    @SETTINGS
    @hypothesis.given(strategy)
    def run(case: Case[Any]) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


def modes(operation: Operation, fixed: dict[str, str]) -> list[GenerationMode]:
    """Positive cases always; negative ones where some input is left to get wrong."""
    inputs = [*operation.query, *operation.headers, *operation.path_parameters]
    if operation.body or any(p.name not in fixed for p in inputs):
        return list(GenerationMode)
    return [GenerationMode.POSITIVE]


# The evaluator tries every operation; the department user the findings' ones, where its own
# rules apply (elsewhere its role gets the 403 the evaluator's run checks already).
@pytest.mark.parametrize(
    ("who", "under"),
    [(Who.EVALUATOR, "/"), (Who.SLJ, "/api/v1/findings")],
    ids=["evaluator", "department"],
)
def test_the_api_answers_as_its_schema_says(
    fuzzed: Api, fixed_parameters: dict[str, str], subtests: pytest.Subtests, who: Who, under: str
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", AlreadyStarted(fuzzed.client.app))
    headers = fuzzed.headers(who)
    operations = [operation for path in schema for operation in schema[path].values()]
    for operation in operations:
        if not operation.path.startswith(under):
            continue
        for mode in modes(operation, fixed_parameters):
            with subtests.test(operation=operation.label, mode=mode.value):
                exercise(operation, mode, fixed_parameters, headers)
