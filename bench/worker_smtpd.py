"""The mail benchmark's SMTP server: aiosmtpd on loopback, in a process of its own.

`python -m bench.worker_smtpd PORT` accepts every message with 250 and keeps none; it
prints "ready" once it listens, and when its stdin closes prints how many messages it
accepted and exits. A process of its own, so the server never competes with the sender
being measured for one interpreter's lock.
"""

from __future__ import annotations

import sys
from typing import Any

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


class Accept:
    """Replies 250 to every message and counts them."""

    def __init__(self) -> None:
        self.accepted = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.accepted += 1
        return "250 2.0.0 OK"


def main() -> None:
    handler = Accept()
    controller = Controller(handler, hostname=HOST, port=int(sys.argv[1]), ready_timeout=10)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()
    print(handler.accepted, flush=True)


if __name__ == "__main__":
    main()
