"""The calendar part of an invitation, update or cancellation (iMIP, RFC 6047, carrying an
iTIP REQUEST or CANCEL, RFC 5546): the VEVENT calendar's feeds carry too (same UID and
SEQUENCE), built by ``shared.booking_ical``."""

from __future__ import annotations

import dataclasses

from services.notify.domain import Mail, occurrence_of
from services.notify.mail.addresses import one_line
from services.notify.mail.rendering import recording_notice
from services.notify.settings import MailSettings
from shared.booking_ical import assignment_spec, booking_spec
from shared.ical import Attendee, Person, render_calendar, render_event


def calendar_text(mail: Mail, settings: MailSettings) -> str:
    """The iCalendar object of a calendar mail, with its METHOD."""
    method = mail.kind.imip_method
    assert method is not None, mail.kind
    snapshot = mail.snapshot
    fallback = Person(settings.sender_address, settings.sender_name)
    if mail.kind.to_assignee:  # their job: its own UID, the assignee as the one attendee
        spec = assignment_spec(
            snapshot,
            language=mail.language,
            attendee=Person(mail.to.email, mail.to.name),
            status="CANCELLED" if method == "CANCEL" else None,
        )
    elif method == "REQUEST":
        spec = booking_spec(snapshot, attendees=True, fallback_organizer=fallback)
        notice = recording_notice(mail, settings)
        if notice is not None:  # the participant's own: their calendar keeps the link
            described = "\n\n".join(filter(None, [spec.description, notice.as_text()]))
            spec = dataclasses.replace(spec, description=described)
    else:
        spec = booking_spec(
            snapshot, attendees=True, fallback_organizer=fallback, status="CANCELLED"
        )
        occurrence = occurrence_of(snapshot, mail.occurrence)
        if occurrence is not None and snapshot.rrule:  # that instance alone
            spec = dataclasses.replace(
                spec,
                recurrence_id=occurrence.start,
                start=occurrence.start,
                end=occurrence.end,
                rrule=None,
                exdates=(),
            )
        if mail.removed:  # only the attendee being removed (RFC 5546 §3.2.5)
            spec = dataclasses.replace(spec, attendees=[Attendee(mail.to.email, mail.to.name)])
    return render_calendar(
        [render_event(spec)],
        name=one_line(snapshot.title, 120) or "Evenemang",
        method=method,
        zones=[snapshot.timezone],
    )
