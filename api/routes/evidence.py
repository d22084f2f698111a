"""Evidence: upload a file to a finding; download it again under the same permissions."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Header, Path, Request, Response, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.types import Message, Receive

from adapters.bootstrap import Lastmile
from adapters.evidence import (
    EmptyFileError,
    FileTooLargeError,
    StoredFile,
    UnsupportedFileTypeError,
    too_large,
)
from adapters.filetypes import ALLOWED, ALLOWED_IN_WORDS, display_name
from api.authorization import Action
from api.deps import CurrentFinding, FindingNow, LastmileDep, permitted
from api.errors import Problem
from api.schemas import EvidenceOut
from api.writes import WriteDep
from domain.errors import NotFoundError
from domain.values import Actor
from domain.views import CommandResult

MULTIPART_SLACK = 64 * 1024  # boundaries and part headers around the file itself
REFUSED = {413: "too-large", 415: "unsupported-type", 422: "empty-file"}
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


class _BodyTooLarge(HTTPException):
    """Raised while the body is read; FastAPI passes HTTPExceptions through form parsing."""


class UploadRoute(APIRoute):
    """Refuses an upload over the limit before reading it, and stops one that grows past it.

    Starlette spools the whole multipart body to disk before the route runs, so the limit
    must bite here, not only in the store.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def limited(request: Request) -> Response:
            if request.method != "POST":
                return await handle(request)
            limit: int = request.app.state.lastmile.settings.evidence_max_bytes
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit + MULTIPART_SLACK:
                raise _too_large(limit)
            counted = _counting(request.receive, limit + MULTIPART_SLACK)
            try:
                return await handle(Request(request.scope, counted))
            except _BodyTooLarge:
                raise _too_large(limit) from None

        return limited


router = APIRouter(prefix="/api/v1", tags=["evidence"], route_class=UploadRoute)


@router.post(
    "/findings/{finding_id}/evidence",
    status_code=201,
    response_model=EvidenceOut,
    responses={
        413: {"description": "The file is over the size limit.", **PROBLEM},
        415: {"description": f"Not an accepted kind of file: {ALLOWED_IN_WORDS}.", **PROBLEM},
    },
)
def upload_evidence(
    finding: FindingNow,
    file: Annotated[UploadFile, File(description=f"The evidence file: {ALLOWED_IN_WORDS}.")],
    write: WriteDep,
    actor: Annotated[Actor, Depends(permitted(Action.ATTACH_EVIDENCE))],
) -> JSONResponse:
    """Upload a file (佐证材料) and attach it; the same content is stored and attached once.

    Its type is judged from its content, not its name or the client's Content-Type.
    """
    lastmile = write.lastmile
    stored = _store(lastmile, file)
    name = display_name(file.filename, stored.media_type)

    def attach(version: int | None) -> CommandResult:
        return lastmile.app.attach_evidence(
            finding.id, actor, stored.sha256, name, stored.size, stored.media_type,
            expected_version=version,
        )  # fmt: skip

    return write.finding_command(
        {"sha256": stored.sha256, "name": name},
        finding.id,
        attach,
        shape=lambda result: _attached(lastmile, result, stored.sha256),
        status=201,
    )


@router.get(
    "/findings/{finding_id}/evidence/{sha256}",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The file, as uploaded, with the type judged from its content.",
            "content": {m: {"schema": {"type": "string", "format": "binary"}} for m in ALLOWED},
        },
        304: {"description": "Not modified: the ETag you sent is this file's."},
    },
)
def download_evidence(
    finding: CurrentFinding,
    sha256: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")],
    lastmile: LastmileDep,
    reader: Annotated[Actor, Depends(permitted(Action.READ))],
    if_none_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """Download a file attached to this finding (to anyone who may read the finding)."""
    item = next((e for e in finding.evidence if e.sha256 == sha256), None)
    if item is None:
        raise NotFoundError(f"Finding {finding.id} has no evidence file {sha256}.")
    stored = lastmile.evidence.info(sha256)
    etag = f'"{sha256}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "private, no-cache",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
        "Content-Disposition": _attachment(display_name(item.name, stored.media_type)),
    }
    if if_none_match and _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    headers["Content-Length"] = str(stored.size)
    content = lastmile.evidence.open(sha256)
    return StreamingResponse(content, media_type=stored.media_type, headers=headers)


def _store(lastmile: Lastmile, file: UploadFile) -> StoredFile:
    limit = lastmile.settings.evidence_max_bytes
    try:
        return lastmile.evidence.put(file.file, file.filename or "", limit)
    except FileTooLargeError:
        raise _too_large(limit) from None
    except UnsupportedFileTypeError as error:
        raise Problem(415, str(error), REFUSED[415]) from None
    except EmptyFileError as error:
        raise Problem(422, str(error), REFUSED[422]) from None


def _attached(lastmile: Lastmile, result: CommandResult, sha256: str) -> EvidenceOut:
    """The file as attached to the finding (its first name, if it was attached before)."""
    view = result.finding or lastmile.app.finding(result.id)
    item = next(e for e in view.evidence if e.sha256 == sha256)
    return EvidenceOut(sha256=sha256, name=item.name, size=item.size, media_type=item.media_type)


def _counting(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > limit:
            raise _BodyTooLarge(413)
        return message

    return counted


def _too_large(limit: int) -> Problem:
    return Problem(413, str(too_large(limit)), REFUSED[413])


def _attachment(name: str) -> str:
    """Content-Disposition for any name: an ASCII fallback, and the exact name (RFC 6266)."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _matches(if_none_match: str, etag: str) -> bool:
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags
