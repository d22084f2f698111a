"""A real SMTP server on loopback for tests (aiosmtpd): records what it accepts, can refuse.

server = SmtpServer().start()
server.answer = "550 5.1.1 No such mailbox"   # refuse at the end of DATA
server.stop(); server.start()                  # down and up again, on the same port
server.handler.delay = 0.05                    # answer DATA late, so sends are in flight
server.handler.on_rcpt = hook                  # runs before RCPT / DATA are answered
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller

from notifications.smtp_config import SmtpConfig

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Received:
    """One message the server accepted."""

    mail_from: str
    recipients: tuple[str, ...]
    raw: bytes
    message: EmailMessage

    @property
    def text(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        return str(part.get_content())

    @property
    def html(self) -> str:
        part = self.message.get_body(("html",))
        assert part is not None
        return str(part.get_content())


class RecordingHandler:
    """aiosmtpd handler: keeps accepted messages; `answer` replaces the reply to DATA."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.answer: str | None = None
        self.refused = 0
        # Fault injection: the hooks run in the server's loop before it answers (a hook that
        # blocks holds the client waiting for that reply); `delay` answers DATA late.
        self.on_rcpt: Callable[[], None] | None = None
        self.on_data: Callable[[Received], None] | None = None  # after it is recorded
        self.delay = 0.0

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.on_rcpt is not None:
            self.on_rcpt()
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            if self.answer is not None:
                self.refused += 1
                return self.answer
            raw = bytes(envelope.original_content or envelope.content)
            message = message_from_bytes(raw, _class=EmailMessage, policy=default)
            received = Received(envelope.mail_from, tuple(envelope.rcpt_tos), raw, message)
            # The whole message is here (the end-of-data mark came): the server holds it.
            self.received.append(received)
        if self.on_data is not None:
            self.on_data(received)
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 2.0.0 OK: queued"


class SmtpServer:
    """Start, stop and start again on one port; what it received survives restarts."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.handler = RecordingHandler()
        self.controller: Controller | None = None

    def start(self) -> SmtpServer:
        if self.controller is None:
            # A stopped Controller has closed its loop, so each start needs a new one.
            self.controller = Controller(
                self.handler, hostname=HOST, port=self.port, ready_timeout=10
            )
            self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def answer(self) -> str | None:
        return self.handler.answer

    @answer.setter
    def answer(self, value: str | None) -> None:
        self.handler.answer = value

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    def message_ids(self) -> list[str]:
        """The Message-ID of every accepted message, in arrival order (repeats kept)."""
        return [str(m.message["Message-ID"]) for m in self.received]

    def config(self, **changes: Any) -> SmtpConfig:
        values: dict[str, Any] = {
            "host": HOST,
            "port": self.port,
            "timeout": 5.0,
            "local_hostname": "lastmile.test",
        }
        return SmtpConfig(**{**values, **changes})
