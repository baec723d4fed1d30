"""The SMTP server of the fault tests: aiosmtpd on loopback (tests.support.smtp) that can
answer 4xx for a while, 5xx for chosen addresses, or take a message and drop the
connection before answering it (the sender cannot know it arrived)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from tests.support.smtp import Received, Recorder, SmtpServer


class FaultyRecorder(Recorder):
    """What :class:`Recorder` does, and the faults set on it meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.failing_until = 0.0  # monotonic time before which every RCPT gets a 4xx
        self.drops_left = 0  # the next messages taken, then the connection dropped
        self.dropped: list[Received] = []
        self.temporary_failures = 0
        self.delay = 0.0  # seconds each DATA takes before its answer (a slow server)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if time.monotonic() < self.failing_until:
            with self.lock:
                self.temporary_failures += 1
            return "451 4.3.0 try again later"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        reply = await super().handle_DATA(server, session, envelope)
        with self.lock:
            if self.drops_left <= 0:
                return reply
            self.drops_left -= 1
            self.dropped.append(self.received[-1])
        server.transport.abort()  # taken, but the client never hears "250"
        return reply


class FaultySmtp(SmtpServer):
    """``with FaultySmtp() as smtp:`` — steer it with the methods below."""

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.recorder = FaultyRecorder()

    def fail_temporarily(self, seconds: float) -> None:
        """Answer every recipient 451 for ``seconds`` from now."""
        self.recorder.failing_until = time.monotonic() + seconds

    def refuse(self, *addresses: str) -> None:
        """Answer these recipients 550, for good."""
        for address in addresses:
            self.recorder.refuse[address.lower()] = "550 5.1.1 no such user here"

    def drop_after_data(self, count: int) -> None:
        """Take the next ``count`` messages, then drop each connection before the reply."""
        with self.recorder.lock:
            self.recorder.drops_left = count

    @property
    def dropped(self) -> list[Received]:
        with self.recorder.lock:
            return list(self.recorder.dropped)

    @property
    def temporary_failures(self) -> int:
        with self.recorder.lock:
            return self.recorder.temporary_failures


def message_ids(received: list[Received]) -> Counter[str]:
    """How often each Message-ID arrived."""
    return Counter(str(r.message["Message-ID"]) for r in received)
