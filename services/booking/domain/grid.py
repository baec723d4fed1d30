"""The free/busy grid: when each resource is open, closed, held, wanted or free, cut into
cells a person can pick from. Pure: the use case hands in the rows it read."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.booking.domain.model import Actor, Interval, ResourceRules
from services.booking.domain.slots import HeldSlot, sees
from services.booking.domain.workflow import decides
from shared.events import Status

MAX_GRID_DAYS = 31  # the longest range one grid answers
# The hours a grid shows at least; a resource open earlier or later widens them.
FIRST_HOUR, LAST_HOUR = 7, 22
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class GridBusy:
    """A booking's time on a resource as the reader may see it: ``title`` and ``booking_id``
    only where they may see the booking; ``buffer_end`` is where the resource's buffer after
    it ends (``end`` when it has none)."""

    resource_id: str
    start: datetime
    end: datetime
    buffer_end: datetime
    status: Status
    title: str | None = None
    booking_id: str | None = None


@dataclass(frozen=True)
class GridSpan:
    """A stretch of one resource's time: open (inside its opening hours) or closed (a
    closure, with its reason)."""

    resource_id: str
    start: datetime
    end: datetime
    reason: str | None = None


def busy_as_seen(
    actor: Actor, rules: Mapping[str, ResourceRules], held: Iterable[HeldSlot]
) -> list[GridBusy]:
    """Approved and pending slots, another organiser's private or internal booking as busy
    only (the rule of conflicts and the week page: ``slots.sees``)."""
    decided = {rid for rid, r in rules.items() if actor.is_infra or decides(actor, r)}
    found = []
    for slot in held:
        shown = sees(actor, slot, decided)
        found.append(
            GridBusy(
                slot.resource_id,
                slot.start,
                slot.end,
                max(slot.block.end, slot.end),
                slot.status,
                slot.title if shown else None,
                slot.booking_id if shown else None,
            )
        )
    return sorted(found, key=lambda b: (b.resource_id, b.start, b.end))


def _days(span: Interval, zone: ZoneInfo) -> Iterator[date]:
    day = span.start.astimezone(zone).date() - timedelta(days=1)  # a window past midnight
    last = span.end.astimezone(zone).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


def _at(day: date, at: time, zone: ZoneInfo) -> datetime:
    """Wall-clock time; 00:00 as a closing time is midnight at the end of the day."""
    return datetime.combine(day + timedelta(days=1) if at == time(0) else day, at, zone)


def open_spans(rules: ResourceRules, span: Interval, zone: ZoneInfo) -> list[GridSpan]:
    """The resource's opening hours inside ``span``; all of it when it has none."""
    if rules.opening_hours is None:
        return [GridSpan(rules.resource_id, span.start, span.end)]
    found = []
    for day in _days(span, zone):
        for opens, closes in rules.opening_hours.get(WEEKDAY_KEYS[day.weekday()], ()):
            start = datetime.combine(day, opens, zone).astimezone(UTC)
            end = _at(day, closes, zone).astimezone(UTC)
            if start < span.end and end > span.start:
                found.append(
                    GridSpan(rules.resource_id, max(start, span.start), min(end, span.end))
                )
    return found


def shown_hours(resources: Iterable[ResourceRules]) -> tuple[int, int]:
    """The hours of the day a grid shows: at least FIRST_HOUR to LAST_HOUR, widened to every
    resource's opening hours (whole hours; 24 is midnight at the end of the day)."""
    first, last = FIRST_HOUR, LAST_HOUR
    for rules in resources:
        for windows in (rules.opening_hours or {}).values():
            for opens, closes in windows:
                first = min(first, opens.hour)
                end = 24 if closes == time(0) else closes.hour + (closes.minute > 0)
                last = max(last, end)
    return first, last


def cell_times(
    day: date, hours: tuple[int, int], step: timedelta, zone: ZoneInfo
) -> list[Interval]:
    """The cells of one day from the first to the last shown hour, ``step`` long each, on
    the wall clock (a day the clocks change has its cells at the same hours)."""
    minutes = int(step.total_seconds() // 60)
    marks = range(hours[0] * 60, hours[1] * 60 + 1, minutes)
    times = [
        _at(day, time(0), zone)
        if m == 24 * 60
        else datetime.combine(day, time(m // 60, m % 60), zone)
        for m in marks
    ]
    # in UTC: aware times of one zone compare and subtract on the wall clock in Python
    times = [moment.astimezone(UTC) for moment in times]
    return [Interval(a, b) for a, b in zip(times, times[1:], strict=False)]


# --- one resource's cells ----------------------------------------------------------------------

FREE, PENDING, BUSY, BUFFER, CLOSED, PAST = "free", "pending", "busy", "buffer", "closed", "past"
SELECTABLE = (FREE, PENDING)


@dataclass(frozen=True)
class Cell:
    """One cell of the grid: a resource at a time, its state (``free``, ``pending``: free
    but wanted by a request, ``busy``, ``buffer``, ``closed``, ``past``), and what holds or
    closes it (``title``: a booking's where the reader may see it, a closure's reason)."""

    start: datetime
    end: datetime
    state: str
    title: str | None = None
    booking_id: str | None = None
    first: bool = False  # the first cell of what holds it (where its title shows)

    @property
    def selectable(self) -> bool:
        return self.state in SELECTABLE


def _overlapping(items: Sequence, cells: Sequence[Interval], end=lambda i: i.end):
    """For each cell (in time order), the items (sorted by start) that overlap it."""
    if not items:
        yield from ([] for _ in cells)
        return
    j, active = 0, []
    for cell in cells:
        while j < len(items) and items[j].start < cell.end:
            active.append(items[j])
            j += 1
        if active:
            active = [i for i in active if end(i) > cell.start]
        yield active


def resource_cells(
    cells: Sequence[Interval],
    busy: Sequence[GridBusy],
    opened: Sequence[GridSpan],
    closed: Sequence[GridSpan],
    now: datetime,
) -> list[Cell]:
    """Each cell's state for one resource (its busy, open and closed spans sorted by
    start): a closure first, then an approved booking, its buffer, outside opening hours,
    the past, a pending request, else free."""
    approved = [b for b in busy if b.status == Status.APPROVED]
    pending = [b for b in busy if b.status == Status.PENDING]
    out: list[Cell] = []
    seen: set[tuple[object, ...]] = set()
    for cell, shut, held, wanted, hours in zip(
        cells,
        _overlapping(closed, cells),
        _overlapping(approved, cells, end=lambda b: b.buffer_end),
        _overlapping(pending, cells),
        _overlapping(opened, cells),
        strict=True,
    ):
        out.append(_cell(cell, shut, held, wanted, hours, now, seen))
    return out


def _cell(cell, shut, held, wanted, hours, now, seen) -> Cell:
    def first(*key: object) -> bool:
        new = key not in seen
        seen.add(key)
        return new

    if shut:
        c = shut[0]
        return Cell(cell.start, cell.end, CLOSED, c.reason, None, first("c", c.start))
    during = [b for b in held if b.start < cell.end and b.end > cell.start]
    if during:
        b = during[0]
        return Cell(cell.start, cell.end, BUSY, b.title, b.booking_id, first("b", b, b.start))
    if held:
        return Cell(cell.start, cell.end, BUFFER)
    if cell.end <= cell.start or not any(
        h.start <= cell.start and cell.end <= h.end for h in hours
    ):
        # outside opening hours, or the hour the clocks skip in spring (no time at all)
        return Cell(cell.start, cell.end, CLOSED)
    if cell.start < now:
        return Cell(cell.start, cell.end, PAST)
    if wanted:
        b = wanted[0]
        return Cell(cell.start, cell.end, PENDING, b.title, b.booking_id, first("p", b, b.start))
    return Cell(cell.start, cell.end, FREE)
