"""Expected against seen, counted exactly.

The truth is booking's outbox: every event it committed, in order. From it:

- **feeds**: a reference calendar (calendar's own code on a database of its own) is given
  every event once, in order, and renders the public feed and each resource's feed; the
  running suite's feeds must hold the same entries, each VEVENT as (UID, SEQUENCE, STATUS),
  parsed with icalendar.
- **the organisers' mail**: every booking event calls for one mail to its organiser (its
  kind by notify's table), with the Message-ID notify derives from (event, recipient, kind);
  each must arrive exactly once.
- **participants' calendars** (planned from the newest state, so batching may skip a step):
  the last calendar mail a participant got for a booking says what the booking finally is
  — an invitation at its last revision when approved; nothing or a cancellation when
  cancelled; nothing when it was never approved.
- every Message-ID at most once (``twice``), and no mail to anyone else (``unexpected``).

One difference is counted apart (``batched``) rather than as lost, while
``APPROVED_THEN_CANCELLED_MAY_BE_ABSENT`` holds: calendar applies only the newest event of a
booking in a batch, so a booking approved and cancelled between two of its batches (on
RabbitMQ even without a fault: the consumer waits a moment to fill a batch) never shows,
where applied one by one it shows as CANCELLED. Nothing is lost to a subscriber: calendar
never published the approval, so no calendar holds the booking to drop (the README's
Calendar section says so).
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import icalendar
import requests
from sqlalchemy import select

from services.booking.persistence.models import OutboxMessage
from services.notify.domain.mail import ORGANISER_KINDS
from services.notify.mail.message import message_id
from services.notify.settings import MailSettings
from shared.config import Config
from shared.db import Database
from shared.events import EventType
from shared.migrations import upgrade
from tests.faults.smtp import FaultySmtp
from tests.support.calendar import deliver
from tests.support.smtp import Received, calendar_of

Entries = dict[str, tuple[int, str]]  # UID -> (SEQUENCE, STATUS)
APPROVED_THEN_CANCELLED_MAY_BE_ABSENT = True


def feed_entries(body: bytes) -> Entries:
    entries: Entries = {}
    for vevent in icalendar.Calendar.from_ical(body.decode("utf-8")).walk("VEVENT"):
        uid = str(vevent["UID"])
        assert uid not in entries, f"{uid} twice in one feed"
        entries[uid] = (int(vevent.get("SEQUENCE", 0)), str(vevent.get("STATUS", "")))
    return entries


@dataclass(frozen=True)
class Truth:
    """What booking committed: its events (envelopes, oldest first)."""

    envelopes: tuple[dict, ...]

    @classmethod
    def read(cls, config: Config) -> Truth:
        db = Database(config.booking_database_url)
        try:
            with db.transaction(readonly=True) as session:
                rows = session.scalars(select(OutboxMessage.payload).order_by(OutboxMessage.id))
                return cls(tuple(json.loads(p) for p in rows))
        finally:
            db.dispose()

    @property
    def bookings(self) -> dict[str, dict]:
        """Each booking's newest snapshot."""
        newest: dict[str, dict] = {}
        for envelope in self.envelopes:
            if envelope["type"].startswith("booking."):
                data = envelope["data"]
                if data["revision"] >= newest.get(data["booking_id"], {"revision": 0})["revision"]:
                    newest[data["booking_id"]] = data
        return newest

    def ever_approved(self) -> set[str]:
        return {
            e["data"]["booking_id"]
            for e in self.envelopes
            if e["type"] == EventType.BOOKING_APPROVED.value
        }


@dataclass
class Difference:
    """What the suite shows that it should not, and what it misses."""

    feeds: dict[str, dict[str, tuple]] = field(default_factory=dict)  # feed -> uid -> (exp, seen)
    missing_mail: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # the organiser mail SMTP refused
    twice: dict[str, int] = field(default_factory=dict)  # Message-ID -> times
    participants: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    batched: set[str] = field(default_factory=set)  # UIDs (see the module's docstring)

    @property
    def lost(self) -> bool:
        return bool(self.feeds or self.missing_mail or self.participants)

    def __bool__(self) -> bool:
        return self.lost or bool(self.twice or self.unexpected)

    def summary(self) -> str:
        parts = [
            f"{sum(len(d) for d in self.feeds.values())} feed entries wrong "
            f"({ {k: list(v.items())[:3] for k, v in self.feeds.items()} })",
            f"{len(self.missing_mail)} organiser mails missing ({self.missing_mail[:5]})",
            f"{sum(n - 1 for n in self.twice.values())} mails twice",
            f"participants: {self.participants[:5]}",
            f"unexpected mail: {self.unexpected[:5]}",
            f"approved-then-cancelled bookings absent from feeds: {len(self.batched)}",
        ]
        return "; ".join(parts)


class Oracle:
    """Compares the running suite at ``url`` (mailing ``smtp``) with the truth of
    ``config``'s booking database (``config`` reaches the servers directly, not through a
    faulty proxy)."""

    def __init__(self, config: Config, url: str, smtp: FaultySmtp, workdir: Path) -> None:
        self.config = config
        self.url = url
        self.smtp = smtp
        self.workdir = workdir
        self.settings = MailSettings.from_config(config, env={})
        self.truth: Truth | None = None
        self.expected_feeds: dict[str, Entries] = {}
        self.refused: set[str] = set()  # addresses whose mail the SMTP server refuses

    # --- expected -----------------------------------------------------------------------------

    def settle_truth(self, feeds: list[str]) -> None:
        """Read the truth (once the workload is done) and render the reference feeds."""
        self.truth = Truth.read(self.config)
        from services.calendar import create_app

        path = self.workdir / f"reference-calendar-{len(self.truth.envelopes)}.db"
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
        upgrade("calendar", url)
        app = create_app(self.config.replace(calendar_database_url=url))
        try:
            deliver(app, *self.truth.envelopes)
            client = app.test_client()
            for feed in feeds:
                response = client.get(f"/feeds/{feed}")
                assert response.status_code == 200, (feed, response.status_code)
                self.expected_feeds[feed] = feed_entries(response.data)
        finally:
            app.extensions["evenemang"]["db"].dispose()

    def organiser_mail(self) -> dict[str, str]:
        """Message-ID -> what it is (recipient, booking, kind) for every organiser mail."""
        assert self.truth is not None
        expected = {}
        for envelope in self.truth.envelopes:
            kind = (
                ORGANISER_KINDS.get(EventType(envelope["type"]))
                if envelope["type"].startswith("booking.")
                else None
            )
            if kind is None:
                continue
            data = envelope["data"]
            recipient = data["organiser"]["email"].lower()
            mid = message_id(self.settings, envelope["id"], recipient, kind.value)
            expected[mid] = f"{recipient} {data['booking_id']} {kind.value}"
        return expected

    # --- seen -----------------------------------------------------------------------------------

    def seen_feeds(self) -> dict[str, Entries]:
        seen = {}
        for feed in self.expected_feeds:
            body = self._get(f"{self.url}/calendar/feeds/{feed}")
            # a resource calendar has not heard of yet (its worker down): nothing seen yet
            seen[feed] = {} if body is None else feed_entries(body)
        return seen

    @staticmethod
    def _get(url: str, patience: float = 60) -> bytes | None:
        """A feed as a calendar client reads it, again while the web restarts (a SIGKILLed
        master: its port refused, or reset, for a few seconds); None for a 404."""
        deadline = time.monotonic() + patience
        while True:
            try:
                response = requests.get(url, timeout=10)
                if response.status_code == 404:
                    return None
                response.raise_for_status()
                return response.content
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def compare(self) -> Difference:
        assert self.truth is not None
        diff = Difference()
        for feed, seen in self.seen_feeds().items():
            expected = self.expected_feeds[feed]
            wrong = {
                uid: (expected.get(uid), seen.get(uid))
                for uid in set(expected) | set(seen)
                if expected.get(uid) != seen.get(uid)
            }
            if APPROVED_THEN_CANCELLED_MAY_BE_ABSENT:
                batched = {
                    uid
                    for uid, (want, got) in wrong.items()
                    if got is None and want is not None and want[1] == "CANCELLED"
                }
                diff.batched |= batched
                wrong = {uid: v for uid, v in wrong.items() if uid not in batched}
            if wrong:
                diff.feeds[feed] = wrong
        received = self.smtp.received
        ids = Counter(str(r.message["Message-ID"]) for r in received)
        diff.twice = {mid: n for mid, n in ids.items() if n > 1}
        organiser = self.organiser_mail()
        for mid, what in organiser.items():
            if mid in ids:
                continue
            refused = what.split(" ", 1)[0] in self.refused
            (diff.refused if refused else diff.missing_mail).append(what)
        others = [r for r in received if str(r.message["Message-ID"]) not in organiser]
        diff.participants, diff.unexpected = self._participants(others)
        return diff

    def _participants(self, received: list[Received]) -> tuple[list[str], list[str]]:
        assert self.truth is not None
        bookings = self.truth.bookings
        by_uid = {b["uid"]: b for b in bookings.values()}
        guests = {
            (p["email"].lower(), b["booking_id"])
            for b in bookings.values()
            for p in b["participants"]
        }
        calendars: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
        unexpected = []
        for r in received:
            try:
                _, calendar, method = calendar_of(r.message)
            except AssertionError:
                unexpected.append(f"{r.rcpt_tos} {r.message['Subject']}")
                continue
            (vevent,) = calendar.walk("VEVENT")
            booking = by_uid.get(str(vevent["UID"]))
            for rcpt in r.rcpt_tos:
                key = (rcpt.lower(), booking["booking_id"] if booking else "?")
                if key not in guests:
                    unexpected.append(f"{rcpt} {r.message['Subject']}")
                    continue
                calendars[key].append((int(vevent["SEQUENCE"]), str(method)))
        wrong = []
        approved_once = self.truth.ever_approved()
        for email, booking_id in sorted(guests):
            booking = bookings[booking_id]
            got = sorted(calendars.get((email, booking_id), []))
            last = got[-1] if got else None
            status = booking["status"]
            if status == "approved":
                ok = last == (booking["revision"], "REQUEST")
            elif status == "cancelled" and booking_id in approved_once:
                ok = last is None or last[1] == "CANCEL"
            else:
                ok = not got
            if not ok:
                wrong.append(f"{email} {booking_id} {status} r{booking['revision']}: got {got}")
        return wrong, unexpected
