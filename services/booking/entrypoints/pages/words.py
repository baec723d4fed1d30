"""The words pages show for values chosen at run time (a booking's status, a resource's
kind, a history entry's action and fields): each id is written out here with ``N_`` so the
catalogue's extraction sees it, and templates ask for ``value|word("status")``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.booking.domain import WEEKDAYS
from services.booking.readmodels import LineView
from shared.events import Change
from shared.formatting import WEEKDAYS_LONG, WEEKDAYS_SHORT
from shared.i18n import translate
from shared.messages import N_, Msg

STATUS = {
    "pending": N_("status_pending"),
    "approved": N_("status_approved"),
    "rejected": N_("status_rejected"),
    "cancelled": N_("status_cancelled"),
}
OCCURRENCE_STATUS = {"active": N_("occurrence_active"), "cancelled": N_("status_cancelled")}
LINE_STATUS = {
    "pending": N_("status_pending"),
    "approved": N_("status_approved"),
    "declined": N_("line_declined"),
}
KIND = {"venue": N_("kind_venue"), "studio": N_("kind_studio"), "service": N_("kind_service")}
KIND_PLURAL = {
    "venue": N_("kind_plural_venue"),
    "studio": N_("kind_plural_studio"),
    "service": N_("kind_plural_service"),
}
VISIBILITY = {
    "public": N_("visibility_public"),
    "internal": N_("visibility_internal"),
    "private": N_("visibility_private"),
}
LANGUAGE = {"sv": N_("language_sv"), "en": N_("language_en")}
ROLE = {"organiser": N_("role_organiser"), "infra": N_("role_infra"), "admin": N_("role_admin")}
ACTION = {
    "submitted": N_("action_submitted"),
    "approved": N_("action_approved"),
    "rejected": N_("action_rejected"),
    "cancelled": N_("action_cancelled"),
    "changed": N_("action_changed"),
    "occurrence_cancelled": N_("action_occurrence_cancelled"),
    "assigned": N_("action_assigned"),
}
WEEKDAY = dict(zip(WEEKDAYS, WEEKDAYS_LONG, strict=True))
WEEKDAY_SHORT = dict(zip(WEEKDAYS, WEEKDAYS_SHORT, strict=True))
CHANGE_FIELD = {
    "title": N_("change_field_title"),
    "description": N_("change_field_description"),
    "start": N_("change_field_start"),
    "end": N_("change_field_end"),
    "rrule": N_("change_field_rrule"),
    "resources": N_("change_field_resources"),
    "expected_attendees": N_("change_field_expected_attendees"),
    "visibility": N_("change_field_visibility"),
    "language": N_("change_field_language"),
    "participants": N_("change_field_participants"),
    "notes": N_("change_field_notes"),
    "category": N_("field_category"),
    "unit": N_("field_unit"),
    "status": N_("change_field_status"),
    "occurrences.status": N_("change_field_occurrences_status"),
}
TABLES: Mapping[str, Mapping[str, str]] = {
    "status": STATUS,
    "line_status": LINE_STATUS,
    "kind": KIND,
    "kind_plural": KIND_PLURAL,
    "visibility": VISIBILITY,
    "language": LANGUAGE,
    "role": ROLE,
    "action": ACTION,
    "weekday": WEEKDAY,
    "weekday_short": WEEKDAY_SHORT,
}
# A changed field's values worded like the field's value elsewhere on the page.
VALUE_WORDS = {"status": STATUS, "visibility": VISIBILITY, "language": LANGUAGE}
MOMENTS = ("start", "end")
OCCURRENCE_INDEX = re.compile(r"\[\d+\]")
LINE_FIELD = "lines."  # a line's decision: ``lines.<resource slug>``, pending → approved
# What else of a line a change names: ``lines.<resource slug>.<what>``.
LINE_PARTS = {
    "": N_("change_field_line"),
    "assignee": N_("change_field_line_assignee"),
    "hours_delivered": N_("change_field_line_hours"),
}


def word(value: Any, table: str) -> str:
    """``value`` (a status, kind, ...) in the reader's language; an unknown one as it is."""
    code = TABLES[table].get(str(value))
    return translate(code) if code else str(value)


def change_field(change: Change, line_names: Mapping[str, str] | None = None) -> str:
    """A changed field's name in a booking's history (``occurrences[2].status`` too; a
    line's decision by its resource's name, from ``line_names`` by slug)."""
    if change.field.startswith(LINE_FIELD):
        slug, _, part = change.field.removeprefix(LINE_FIELD).partition(".")
        name = (line_names or {}).get(slug, slug)
        return translate(Msg(LINE_PARTS.get(part, LINE_PARTS[""]), name=name))
    name = OCCURRENCE_INDEX.sub("", change.field)
    code = CHANGE_FIELD.get(name)
    return translate(code) if code else change.field


def change_value(change: Change, value: Any, moment: Any) -> str:
    """One side of a change as the history keeps it (JSON): times in the zone, lists
    joined, states named. ``moment`` words a datetime."""
    if value is None or value == "" or value == []:
        return "—"
    name = OCCURRENCE_INDEX.sub("", change.field)
    if isinstance(value, list):
        return ", ".join(v.get("email", "") if isinstance(v, dict) else str(v) for v in value)
    if isinstance(value, dict):  # who does a line's job
        return str(value.get("name") or value.get("email") or value.get("supplier_id") or "")
    if name in MOMENTS and isinstance(value, str):
        try:
            return moment(datetime.fromisoformat(value))
        except ValueError:
            return value
    if name.startswith(LINE_FIELD) and name.count(".") == 1:
        words: Mapping[str, str] | None = LINE_STATUS
    elif name == "occurrences.status":
        words = OCCURRENCE_STATUS
    else:
        words = VALUE_WORDS.get(name)
    if words and str(value) in words:
        return translate(words[str(value)])
    return str(value)


def line_deciders(line: LineView) -> str:
    """Who decides a line, as its page lists it: its team by name, the team's members and
    the resource's managers, and infrastructure and admins besides."""
    team = [line.resource.team.name] if line.resource.team is not None else []
    who = ", ".join([*team, *line.deciders])
    return translate(Msg("line_deciders", who=who) if who else Msg("line_deciders_infra"))
