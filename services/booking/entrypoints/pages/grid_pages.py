"""The free/busy grid (``/grid``): a week (or a day) of the chosen resources, each free
cell a link to the request form filled in with its time and resource; the script lets a
person drag or key a span over several hours and resources instead (shared/static/grid.js)
and fetches the grid again (``partial=1``: the grid alone) when the week or filters
change."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import render_template, request, url_for

from services.booking.commands import GridQuery
from services.booking.domain import KINDS, Interval
from services.booking.domain.grid import Cell, cell_times, resource_cells
from services.booking.entrypoints.pages.blueprint import bp
from services.booking.entrypoints.pages.common import actor, ctx, login_required, t
from services.booking.entrypoints.pages.formatting import date_words, local
from services.booking.readmodels import GridView, ResourceView
from services.booking.usecases import grid, resources
from shared.events import Kind
from shared.i18n import current_language
from shared.messages import N_
from shared.timezones import in_years

WEEK_STEP, DAY_STEP = timedelta(hours=1), timedelta(minutes=30)
MAX_RUN = 24  # the longest run of cells a title may span (grid.css: fb-run-1 to fb-run-24)
STATE_WORDS = {
    "free": N_("grid_free"),
    "pending": N_("grid_requested"),
    "busy": N_("grid_busy"),
    "buffer": N_("grid_buffer"),
    "closed": N_("grid_closed"),
    "past": N_("grid_past"),
}


@dataclass(frozen=True)
class Shown:
    """What the visitor asked to see: the Monday of a week, or one day of it; a kind; and
    resources picked by id (none: every active one of the kind)."""

    monday: date
    day: date | None
    kind: Kind | None
    picked: tuple[str, ...]
    view: str  # "week" only when asked for (the script shows a day on a phone otherwise)

    @property
    def days(self) -> list[date]:
        return [self.day] if self.day else [self.monday + timedelta(days=n) for n in range(7)]

    def query(self, **changes: Any) -> str:
        """The address of this grid with ``changes`` (a ``day`` of None: the week)."""
        values = {"kind": self.kind.value if self.kind else None, "resource": list(self.picked)}
        values |= {"view": self.view or None} if "day" not in changes else {}
        values |= changes
        if values.get("day") is None and "week" not in values:
            values["week"] = iso_week(self.monday)
        pairs = [(k, v) for k, v in values.items() if v and not isinstance(v, list)]
        pairs += [(k, item) for k, v in values.items() if isinstance(v, list) for item in v]
        return url_for("pages.grid_page") + "?" + urlencode(pairs)


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _day(value: str | None) -> date | None:
    """A date the grid can show (its week too lies in the years the suite holds)."""
    try:
        day = date.fromisoformat(value or "")
        inside = in_years(day - timedelta(days=7)) and in_years(day + timedelta(days=7))
    except (ValueError, OverflowError):
        return None
    return day if inside else None


def _monday(value: str | None, today: date) -> date:
    """The Monday of ``YYYY-Www``; this week's for anything else."""
    try:
        year, week = (value or "").upper().split("-W")
        monday = date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        return today - timedelta(days=today.weekday())
    return monday if _day(monday.isoformat()) else today - timedelta(days=today.weekday())


def read_shown(args, listed: Sequence[ResourceView]) -> Shown:
    """The grid asked for; anything it cannot show is left out (this week, every kind,
    every resource) rather than refused."""
    today = local(ctx().clock()).date()
    day = _day(args.get("day"))
    monday = day - timedelta(days=day.weekday()) if day else _monday(args.get("week"), today)
    kind = args.get("kind") if args.get("kind") in KINDS else None
    keys = set(args.getlist("resource"))
    picked = tuple(r.id for r in listed if r.id in keys or r.slug in keys)
    view = "week" if args.get("view") == "week" and day is None else ""
    return Shown(monday, day, Kind(kind) if kind else None, picked, view)


@bp.get("/grid")
@login_required
def grid_page():
    listed = [r for r in resources.list_resources(ctx()) if r.active]
    shown = read_shown(request.args, listed)
    days = shown.days
    zone = ctx().zone
    span = Interval(
        datetime.combine(days[0], time(0), zone),
        datetime.combine(days[-1] + timedelta(days=1), time(0), zone),
    )
    found = grid.read_grid(
        ctx(), actor(), GridQuery(span.start, span.end, shown.picked, shown.kind)
    )
    area = _area(shown, found)
    template = "booking/_grid.html" if request.args.get("partial") else "booking/grid.html"
    return render_template(
        template, shown=shown, listed=listed, kinds=KINDS, words=STATE_WORDS, **area
    )


def _area(shown: Shown, found: GridView) -> dict[str, Any]:
    """The grid's days, rows and cells, the links around it, and what the script needs
    (resources named in the reader's language, in the cells' labels too)."""
    language = current_language()
    found = replace(found, resources=tuple(r.localized(language) for r in found.resources))
    step = DAY_STEP if shown.day else WEEK_STEP
    words = date_words()
    by_resource: dict[str, dict[str, list]] = {
        r.id: {"busy": [], "open": [], "closed": []} for r in found.resources
    }
    for name in ("busy", "open", "closed"):
        for item in getattr(found, name):
            by_resource[item.resource_id][name].append(item)
    now = ctx().clock()
    state_words = {state: t(word) for state, word in STATE_WORDS.items()}
    form = url_for("pages.new_request")
    days = []
    for d, day in enumerate(shown.days):
        times = cell_times(day, found.hours, step, ctx().zone)
        labels = [(words.time(c.start), _end_label(words.time(c.end))) for c in times]
        day_label = words.date(day, year=False)
        rows = []
        for r, resource in enumerate(found.resources):
            parts = by_resource[resource.id]
            cells = resource_cells(times, parts["busy"], parts["open"], parts["closed"], now)
            shown_cells = [
                _cell(cell, r, ti, d, day, resource, labels[ti], day_label, state_words, form)
                for ti, cell in enumerate(cells)
            ]
            for ti, run in _runs(cells):
                shown_cells[ti].run = min(run, MAX_RUN)
            rows.append({"resource": resource, "cells": shown_cells})
        days.append(
            {
                "date": day,
                "label": day_label,
                "today": day == local(now).date(),
                "times": labels,
                "rows": rows,
                "link": shown.query(day=day.isoformat()),
            }
        )
    return {
        "days": days,
        "resources": found.resources,
        "nav": _nav(shown),
        "week": iso_week(shown.monday),
        "script": json.dumps(
            {
                "form": url_for("pages.new_request"),
                "dates": [day.isoformat() for day in shown.days],
                "days": [d["label"] for d in days],
                "times": days[0]["times"] if days else [],
                "resources": [{"id": r.id, "name": r.name} for r in found.resources],
            }
        ),
    }


def _runs(cells: Sequence[Cell]) -> list[tuple[int, int]]:
    """(index, length) of each run of cells one booking or closure holds, from its first
    cell: how far its title may reach."""
    found = []
    for i, cell in enumerate(cells):
        if cell.first:
            n = 1
            while (
                i + n < len(cells) and not cells[i + n].first and cells[i + n].state == cell.state
            ):
                n += 1
            found.append((i, n))
    return found


def _end_label(value: str) -> str:
    return "24:00" if value == "00:00" else value


@dataclass(slots=True)
class ShownCell:
    """A cell as the page writes it: its state, where it is (``r.t.d``: resource, time and
    day for the script), its words for screen readers, the title its first cell shows (and
    how many cells that title may reach over), and the filled-in form it links to."""

    state: str
    at: str
    label: str
    title: str | None = None
    run: int = 0
    href: str | None = None


def _cell(cell: Cell, r, ti, d, day, resource, label, day_label, words, form) -> ShownCell:
    said = f"{words[cell.state]}: {resource.name}, {day_label} {label[0]}–{label[1]}"
    if cell.title:
        said += f", {cell.title}"
    title = (cell.title or words[cell.state]) if cell.first else None
    shown = ShownCell(cell.state, f"{r}.{ti}.{d}", said, title)
    if cell.selectable:  # ids, dates and times need no quoting: written out, not encoded
        end = "00:00" if label[1] == "24:00" else label[1]
        href = f"{form}?date={day.isoformat()}&start_time={label[0]}&end_time={end}"
        if label[1] == "24:00":
            href += f"&end_date={(day + timedelta(days=1)).isoformat()}"
        shown.href = f"{href}&resource={resource.id}"
    return shown


def _nav(shown: Shown) -> dict[str, Any]:
    """Links to the week or day before and after, this week or today, the other view."""
    today = local(ctx().clock()).date()
    clear = Shown(shown.monday, shown.day, None, (), shown.view).query()
    if shown.day:
        return {
            "clear": clear,
            "previous": shown.query(day=(shown.day - timedelta(days=1)).isoformat()),
            "next": shown.query(day=(shown.day + timedelta(days=1)).isoformat()),
            "now": shown.query(day=today.isoformat()),
            "other": shown.query(week=iso_week(shown.day), view="week"),
            "heading": date_words().date(shown.day, long=True),
        }
    return {
        "clear": clear,
        "previous": shown.query(week=iso_week(shown.monday - timedelta(days=7))),
        "next": shown.query(week=iso_week(shown.monday + timedelta(days=7))),
        "now": shown.query(week=iso_week(today)),
        "other": shown.query(day=(today if _in_week(today, shown) else shown.monday).isoformat()),
        "heading": t("week_of", date=date_words().date(shown.monday)),
    }


def _in_week(day: date, shown: Shown) -> bool:
    return shown.monday <= day < shown.monday + timedelta(days=7)
