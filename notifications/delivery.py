"""The SMTP DATA phase, with a commit point just before the end-of-data mark.

aiosmtplib's SMTP.data() writes the message and its terminating "<CRLF>.<CRLF>" in one go.
We need a moment in between: the outbox row is committed `sent` after the server holds
everything but the final ".\\r\\n". A crash before that commit leaves the server an unfinished
transaction, which it discards when the connection drops (RFC 5321 §3.3), so sending again
is safe; a crash after it leaves the row `sent`, so it is never sent twice. This module uses
aiosmtplib's protocol internals (see its protocol.py, execute_data_command) for that, which is
why pyproject.toml pins aiosmtplib to one major version.
"""

from __future__ import annotations

from collections.abc import Callable

from aiosmtplib import SMTP, SMTPDataError, SMTPServerDisconnected, SMTPTimeoutError
from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings
from aiosmtplib.response import SMTPResponse

START_INPUT = 354


class UnconfirmedDeliveryError(Exception):
    """The end-of-data mark went out but no reply came: the server may hold the message."""


async def send_data(
    smtp: SMTP, message: bytes, before_end: Callable[[], None], timeout: float | None
) -> SMTPResponse:
    """Send DATA; call before_end (the commit) before the terminator; return the final reply.

    If before_end raises, the terminator is never written and the caller must close the
    connection, so the server discards the message.
    """
    protocol = smtp.protocol
    if protocol is None or protocol._command_lock is None:
        raise SMTPServerDisconnected("Server not connected")
    # Transparency (RFC 5321 §4.5.2) and CRLF line ends; the body then ends with CRLF.
    body = PERIOD_REGEX.sub(b"..", normalize_message_line_endings(message))
    async with protocol._command_lock:
        protocol._response_pending = True
        protocol.write(b"DATA\r\n")
        start = await protocol.read_response(timeout=timeout)
        if start.code != START_INPUT:
            raise SMTPDataError(start.code, start.message)
        protocol.write(body)
        before_end()
        protocol._response_pending = True
        protocol.write(b".\r\n")
        try:
            return await protocol.read_response(timeout=timeout)
        except (SMTPServerDisconnected, SMTPTimeoutError) as error:
            raise UnconfirmedDeliveryError(str(error)) from error
