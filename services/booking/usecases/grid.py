"""The free/busy grid: resources with their opening hours, closures, approved bookings and
pending requests over a range, as the reader may see them. One read-only unit of work of
four statements at most (SQLite's BEGIN included), however many resources and bookings."""

from __future__ import annotations

from services.booking.commands import GridQuery
from services.booking.domain import Actor, Interval
from services.booking.domain.grid import GridSpan, busy_as_seen, open_spans, shown_hours
from services.booking.persistence.mapping import resource_view, rules_of
from services.booking.persistence.unit_of_work import Context
from services.booking.readmodels import GridView


def read_grid(ctx: Context, actor: Actor, query: GridQuery) -> GridView:
    """The grid of ``query``'s range: another organiser's private or internal booking shows
    only as busy (no title, no id) unless the reader decides on its resource."""
    span = Interval(query.start, query.end)
    with ctx.uow(readonly=True) as uow:
        resources = uow.resources.shown(query.kind, query.resource_ids)
        rules = {r.id: rules_of(r) for r in resources}
        closures = uow.resources.closures(rules, span) if rules else []
        held = uow.slots.during(list(rules), span)
        return GridView(
            start=query.start,
            end=query.end,
            resources=tuple(resource_view(r) for r in resources),
            busy=tuple(busy_as_seen(actor, rules, held)),
            open=tuple(s for r in rules.values() for s in open_spans(r, span, ctx.zone)),
            closed=tuple(GridSpan(c.resource_id, c.start, c.end, c.reason) for c in closures),
            hours=shown_hours(rules.values()),
        )
