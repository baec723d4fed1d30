"""``domain.Spans``: which held slots overlap a request's blocks (a binary search per slot)
and which few index ranges cover a series, checked against the plain definition."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.booking.domain import NEAR_WINDOW, Block, Interval, Spans, collisions

T0 = datetime(2030, 1, 1, tzinfo=UTC)
RESOURCES = ("r1", "r2", "r3")


def interval(start_hours: int, length_hours: int) -> Interval:
    start = T0 + timedelta(hours=start_hours)
    return Interval(start, start + timedelta(hours=length_hours))


intervals = st.builds(interval, st.integers(0, 24 * 120), st.integers(1, 24 * 3))
blocks = st.lists(st.builds(Block, st.sampled_from(RESOURCES), intervals), max_size=40)


@settings(max_examples=300, deadline=None)
@given(blocks, st.sampled_from(RESOURCES), intervals)
def test_overlaps_is_the_plain_definition(given_blocks, resource_id, probe):
    expected = any(
        b.resource_id == resource_id and b.interval.overlaps(probe) for b in given_blocks
    )
    assert Spans(given_blocks).overlaps(resource_id, probe) is expected


def test_a_long_block_early_on_still_overlaps_a_later_probe():
    # Sorted by start, the long block comes first and a short one after it: the probe
    # overlaps only the first, which a search on starts alone would miss.
    spans = Spans([Block("r1", interval(0, 72)), Block("r1", interval(1, 1))])
    assert spans.overlaps("r1", interval(48, 1))
    assert not spans.overlaps("r1", interval(72, 1))  # half-open: touching is not overlapping
    assert not spans.overlaps("r2", interval(0, 1))


@settings(max_examples=200, deadline=None)
@given(blocks)
def test_windows_cover_every_block_and_start_within_the_width(given_blocks):
    windows = Spans(given_blocks).windows(NEAR_WINDOW)
    for block in given_blocks:
        assert any(
            r == block.resource_id and start <= block.interval.start and block.interval.end <= end
            for r, start, end in windows
        )
    for r, start, _ in windows:
        starts = [b.interval.start for b in given_blocks if b.resource_id == r]
        assert start in starts


def test_a_series_of_500_daily_dates_is_a_few_ranges_per_resource():
    series = [Block(r, interval(24 * day, 2)) for r in RESOURCES for day in range(500)]
    windows = Spans(series).windows(NEAR_WINDOW)
    assert len(windows) == len(RESOURCES) * 16  # 500 days in windows of 32 starts each


def test_collisions_find_each_overlapping_slot_once_and_skip_the_excluded():
    from services.booking.domain import HeldSlot
    from shared.events import Status

    def held(booking_id: str, resource_id: str, block: Interval) -> HeldSlot:
        return HeldSlot(booking_id, resource_id, block.start, block.end, block, Status.APPROVED)

    mine = [Block("r1", interval(24 * day, 2)) for day in range(10)]
    found = collisions(
        mine,
        [
            held("other", "r1", interval(24 * 3 + 1, 2)),  # overlaps day 3
            held("other", "r1", interval(24 * 3 + 5, 2)),  # between dates
            held("other", "r2", interval(24 * 3, 2)),  # another resource
            held("mine", "r1", interval(24 * 4, 2)),  # the request itself
        ],
        exclude="mine",
    )
    assert [(c.booking_id, c.resource_id, c.start) for c in found] == [
        ("other", "r1", T0 + timedelta(hours=24 * 3 + 1))
    ]
