"""A repeat rule as a sentence (``shared.repeats``), in Swedish and English: weekdays,
count and last date, other frequencies, and a rule it cannot word shown as it is."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from shared.repeats import describe_rrule

ZONE = ZoneInfo("Europe/Stockholm")
FIRST = datetime(2026, 12, 9, 9, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Stockholm

CASES = [
    ("FREQ=WEEKLY;BYDAY=WE;COUNT=4", FIRST,
     "every Wednesday, 4 times, until 30 Dec", "varje onsdag, 4 gånger, till 30 dec"),
    ("FREQ=WEEKLY;BYDAY=MO,WE,FR;UNTIL=20261218T225959Z", FIRST,
     "every Monday, Wednesday and Friday, 5 times, until 18 Dec",
     "varje måndag, onsdag och fredag, 5 gånger, till 18 dec"),
    ("FREQ=WEEKLY;BYDAY=WE,MO;COUNT=3", None,
     "every Monday and Wednesday, 3 times", "varje måndag och onsdag, 3 gånger"),
    ("FREQ=WEEKLY;COUNT=1", FIRST, "every Wednesday, once, until 9 Dec",
     "varje onsdag, en gång, till 9 dec"),
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=WE;COUNT=3", FIRST,
     "every other week on Wednesday, 3 times, until 6 Jan 2027",
     "varannan vecka på onsdag, 3 gånger, till 6 jan 2027"),
    ("FREQ=DAILY;UNTIL=20261211T225959Z", FIRST, "every day, 3 times, until 11 Dec",
     "varje dag, 3 gånger, till 11 dec"),
    ("FREQ=MONTHLY;INTERVAL=3;COUNT=2", None, "every 3 months, 2 times",
     "var 3:e månad, 2 gånger"),
    ("FREQ=MONTHLY;BYMONTHDAY=31;COUNT=2", FIRST, "FREQ=MONTHLY;BYMONTHDAY=31;COUNT=2",
     "FREQ=MONTHLY;BYMONTHDAY=31;COUNT=2"),
    ("nonsense", None, "nonsense", "nonsense"),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "first", "en", "sv"), CASES)
def test_a_rule_reads_as_a_sentence(rule, first, en, sv):
    assert describe_rrule(rule, "en", ZONE, first) == en
    assert describe_rrule(rule, "sv", ZONE, first) == sv


def test_no_rule_no_words():
    assert describe_rrule(None, "en", ZONE, FIRST) == ""
    assert describe_rrule("", "sv", ZONE) == ""
