"""A workload through the public API, as people make it: organisers submit requests (some
with a participant), infra approves or rejects them, organisers cancel some, each booking
in its own slot so no decision depends on timing. Every answer is kept; an answer the
suite should never give (a 500) is counted, and an unanswered call (the web restarting)
is tried again until the suite answers.

The plan is fixed by the booking's number ``i``: resource ``i % 3``, visibility by ``i % 3``,
a participant when ``i`` is even; approved when ``i % 5 < 3``, rejected when ``3``, left
pending when ``4``; the organiser cancels an approved one when ``i % 10 == 0`` and
withdraws a pending one when ``i % 10 == 9``."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock
from typing import Any
from zoneinfo import ZoneInfo

import requests

from services.booking.usecases import users
from shared.config import Config
from shared.db import Database

ORGANISERS = ("olga", "oskar", "ottilia", "otto")
VISIBILITY = ("public", "internal", "private")
RETRIED = (502, 503, 504)  # answers that say "not now": the call is made again
# a 500 is an error (counted) and the call is made again too, as a person would, so a
# scenario measures all it does; booking's database is the truth, so a second booking
# made by a retry is expected in the feeds and the mail like any other


@dataclass(frozen=True)
class Person:
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def people(config: Config) -> dict[str, Person]:
    """The workload's users, made in booking's database before the suite starts: an admin,
    an infra decider and the organisers, each with an API token."""
    db = Database(config.booking_database_url)
    made = {}
    try:
        for handle, role in (
            ("ada", "admin"),
            ("ines", "infra"),
            *((o, "organiser") for o in ORGANISERS),
        ):
            email = f"{handle}@example.org"
            users.add_user(db, email, handle.title(), role)
            made[handle] = Person(email, users.create_token(db, config.secret_key, email))
    finally:
        db.dispose()
    return made


@dataclass
class Answers:
    """Every status the suite answered, and what went wrong on the way."""

    statuses: Counter[int] = field(default_factory=Counter)
    unanswered: int = 0  # calls made again because nothing came back
    errors: list[str] = field(default_factory=list)  # answers no caller should get
    took: list[tuple[float, float, str]] = field(default_factory=list)  # (asked at, s, what)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, status: int, what: str, body: str, asked: float, took: float) -> None:
        with self.lock:
            self.statuses[status] += 1
            self.took.append((asked, took, what))
            if status >= 500 and status not in RETRIED:
                self.errors.append(f"{what}: {status} {body[:200]}")

    def slowest_write(self, since: float, until: float) -> tuple[float, str, int]:
        """The longest a write (POST) asked between ``since`` and ``until`` took, which one,
        and how many were asked then."""
        with self.lock:
            found = [(t, w) for at, t, w in self.took if since <= at <= until and w[:4] == "POST"]
        took, what = max(found, default=(0.0, "none"))
        return took, what, len(found)


class Api:
    """The suite's public API over HTTP, patient with a suite that is restarting."""

    def __init__(self, base_url: str, answers: Answers, patience: float = 120) -> None:
        self.base_url = base_url
        self.answers = answers
        self.patience = patience
        self.local = threading.local()

    def _session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session

    def call(self, method: str, path: str, who: Person, body: Any = None) -> requests.Response:
        deadline = time.monotonic() + self.patience
        what = f"{method} {path}"
        while True:
            asked = time.monotonic()
            try:
                response = self._session().request(
                    method, self.base_url + path, json=body, headers=who.headers, timeout=30
                )
            except requests.RequestException as exc:
                with self.answers.lock:
                    self.answers.unanswered += 1
                    self.answers.took.append((asked, time.monotonic() - asked, what))
                if time.monotonic() > deadline:
                    raise AssertionError(f"{what}: no answer for {self.patience}s ({exc})") from exc
                self.local.session = requests.Session()
                time.sleep(0.5)
                continue
            self.answers.note(
                response.status_code, what, response.text, asked, time.monotonic() - asked
            )
            if response.status_code in (500, *RETRIED) and time.monotonic() < deadline:
                time.sleep(float(response.headers.get("Retry-After", "1") or 1))
                continue
            return response


@dataclass
class Workload:
    """``count`` bookings through ``api``, ``workers`` at a time, ``pace`` seconds apart."""

    api: Api
    people: dict[str, Person]
    resources: list[dict[str, Any]]
    count: int = 30
    workers: int = 4
    pace: float = 0.3
    zone: ZoneInfo = ZoneInfo("Europe/Stockholm")
    created: dict[int, str] = field(default_factory=dict)  # i -> booking id
    _thread: threading.Thread | None = None
    failure: BaseException | None = None

    @staticmethod
    def make_resources(api: Api, admin: Person, count: int = 3) -> list[dict[str, Any]]:
        made = []
        for n in range(count):
            body = {"name": f"Fault room {n}", "kind": "venue", "capacity": 40}
            response = api.call("POST", "/api/v1/resources", admin, body)
            assert response.status_code == 201, response.text
            made.append(response.json())
        return made

    def slot(self, i: int) -> tuple[str, str]:
        """Booking ``i``'s own hour: a day of its own 40 days on, 09:00–10:00 local."""
        day = (datetime.now(self.zone) + timedelta(days=40 + i)).date()
        start = datetime.combine(day, clock(9, 0), self.zone)
        return start.isoformat(), (start + timedelta(hours=1)).isoformat()

    def body(self, i: int) -> dict[str, Any]:
        start, end = self.slot(i)
        body: dict[str, Any] = {
            "title": f"Fault workload {i}",
            "start": start,
            "end": end,
            "resource_ids": [self.resources[i % len(self.resources)]["id"]],
            "visibility": VISIBILITY[i % 3],
            "language": "en",
        }
        if i % 2 == 0:
            body["participants"] = [{"email": f"guest{i}@example.net", "name": f"Guest {i}"}]
        return body

    def organiser(self, i: int) -> Person:
        return self.people[ORGANISERS[i % len(ORGANISERS)]]

    def one(self, i: int) -> None:
        """Booking ``i`` from request to its last step."""
        organiser, infra = self.organiser(i), self.people["ines"]
        submitted = self.api.call("POST", "/api/v1/bookings", organiser, self.body(i))
        assert submitted.status_code == 201, submitted.text
        booking_id = submitted.json()["id"]
        self.created[i] = booking_id
        time.sleep(self.pace)
        path = f"/api/v1/bookings/{booking_id}"
        if i % 5 < 3:
            decided = self.api.call("POST", path + "/approve", infra, {})
        elif i % 5 == 3:
            decided = self.api.call("POST", path + "/reject", infra, {"reason": "Not this time"})
        else:
            decided = None
        # 409: an answer lost to a restart, the decision made already
        assert decided is None or decided.status_code in (200, 409), decided.text
        time.sleep(self.pace)
        if i % 10 in (0, 9):
            cancelled = self.api.call("POST", path + "/cancel", organiser, {"reason": "Off"})
            assert cancelled.status_code in (200, 409), cancelled.text

    def run(self) -> None:
        with ThreadPoolExecutor(self.workers) as pool:
            for future in [pool.submit(self.one, i) for i in range(self.count)]:
                future.result()

    def start(self) -> Workload:
        def target() -> None:
            try:
                self.run()
            except BaseException as exc:  # noqa: BLE001 - handed to the test by wait()
                self.failure = exc

        self._thread = threading.Thread(target=target, name="workload", daemon=True)
        self._thread.start()
        return self

    def wait(self, timeout: float = 300) -> float:
        """Until every booking has had its steps; how long that took from now."""
        started = time.monotonic()
        assert self._thread is not None
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"the workload did not finish within {timeout}s"
        if self.failure is not None:
            raise self.failure
        return time.monotonic() - started

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
