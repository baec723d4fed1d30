"""The SMTP server failing while people book: 4xx for a while, then OK; 5xx for one
organiser's address for good; the connection dropped after DATA (the message taken, the
"250" never sent)."""

from __future__ import annotations

import time

from sqlalchemy import select

from services.notify.persistence.models import Delivery
from shared.db import Database
from tests.faults.harness import OUTAGE, fault_run

REFUSED = "otto@example.org"
DROPS = 3


def test_smtp_answering_4xx_then_ok(config, tmp_path):
    with fault_run(config, tmp_path) as run:
        run.workload.start()
        time.sleep(2)
        run.smtp.fail_temporarily(OUTAGE)
        time.sleep(OUTAGE)
        ended = time.monotonic()
        took, diff = run.caught_up(since=ended)
        run.report(f"SMTP 4xx for {OUTAGE:.0f} s", took, diff)
        assert run.smtp.temporary_failures > 0
        run.assert_exact(diff)


def test_smtp_refusing_an_address_for_good(config, tmp_path):
    """Mail to the refused address is given up after one attempt (``failed``, refused for
    good, in notify's delivery log) and nobody else's is held up by it."""
    with fault_run(config, tmp_path) as run:
        run.smtp.refuse(REFUSED)
        run.oracle.refused.add(REFUSED)
        run.workload.start()
        took, diff = run.caught_up(since=time.monotonic())
        refused = diff.refused
        run.report(f"SMTP 5xx for {REFUSED}", took, diff)
        run.assert_exact(diff)
        assert refused, "the refused organiser had mail coming"
        assert not run.smtp.messages_to(REFUSED)
        db = Database(config.notify_database_url)
        try:
            with db.transaction(readonly=True) as session:
                rows = session.execute(
                    select(Delivery.status, Delivery.attempts).where(Delivery.recipient == REFUSED)
                ).all()
        finally:
            db.dispose()
        assert len(rows) == len(refused)
        assert {(status, attempts) for status, attempts in rows} == {("failed", 1)}, rows


def test_smtp_dropping_the_connection_after_data(config, tmp_path):
    """A message the server took without the sender hearing so may come again (with the
    same Message-ID, so it is recognisable); each drop may cost at most that one."""
    with fault_run(config, tmp_path) as run:
        run.workload.start()
        time.sleep(2)
        run.smtp.drop_after_data(DROPS)
        took, diff = run.caught_up(since=time.monotonic())
        run.report(f"SMTP dropped after DATA x {len(run.smtp.dropped)}", took, diff)
        assert len(run.smtp.dropped) == DROPS
        run.assert_exact(diff, twice_allowed=DROPS)
        assert set(diff.twice) <= {str(r.message["Message-ID"]) for r in run.smtp.dropped}
