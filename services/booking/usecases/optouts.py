"""Opting out of being photographed or filmed, by the personal link in a participant's
invitation or reminder (``/optout/{token}``): what the link is about (reading only: mail
scanners follow links), and the opt-out itself or taking it back, each once.

An opt-out raises the booking's revision and publishes ``booking.opted_out`` with the whole
snapshot, so notify and calendar hold the current list; it changes nothing a participant's
calendar or a feed shows (``updated_at`` stays), and no one is mailed. The history says a
participant opted out, not who: the organiser reads it, the opt-outs are not theirs."""

from __future__ import annotations

from datetime import datetime

from services.booking.persistence.mapping import recording_of
from services.booking.persistence.models import Booking
from services.booking.persistence.unit_of_work import Context
from services.booking.readmodels import OptOutState, OptOutView
from services.booking.usecases.common import add_history, publish
from shared.events import BOOKING_OPTED_OUT, OccurrenceStatus, Status
from shared.optout_links import OptOutLink

PARTICIPANT = "participant"  # the history's actor of an opt-out (not the address)


def _state(booking: Booking, email: str, now: datetime) -> OptOutState:
    recording = recording_of(booking)
    active = [o for o in booking.occurrences if o.status == OccurrenceStatus.ACTIVE]
    if booking.status in (Status.CANCELLED, Status.REJECTED) or not active:
        return OptOutState.CANCELLED
    if max(o.end for o in active) <= now:
        return OptOutState.OVER
    if email not in {p["email"].lower() for p in booking.participants or ()}:
        return OptOutState.GONE
    if email in recording.opt_outs:
        return OptOutState.OPTED_OUT
    return OptOutState.READY if recording.any else OptOutState.NOT_RECORDED


def _view(booking: Booking, link: OptOutLink, state: OptOutState) -> OptOutView:
    active = [o for o in booking.occurrences if o.status == OccurrenceStatus.ACTIVE]
    first = min(active, key=lambda o: o.start) if active else None
    return OptOutView(
        booking_id=booking.id,
        title=booking.title,
        start=first.start if first else booking.start,
        end=first.end if first else booking.end,
        series=len(active),
        photo=bool(booking.recording_photo),
        film=bool(booking.recording_film),
        email=link.email,
        state=state,
    )


def open_opt_out(ctx: Context, link: OptOutLink) -> OptOutView:
    """What a link is about and what it can do now. Reads only."""
    with ctx.uow(readonly=True) as uow:
        booking = uow.bookings.get(link.booking_id)
        return _view(booking, link, _state(booking, link.email, ctx.clock()))


def set_opt_out(ctx: Context, link: OptOutLink, opted_out: bool = True) -> OptOutView:
    """Opt the link's participant out of being recorded (``opted_out``) or take it back,
    while the event is ahead and recorded; doing it again changes nothing (no new
    revision, no event)."""
    with ctx.uow() as uow:
        booking = uow.bookings.get(link.booking_id, lock=True)
        state = _state(booking, link.email, ctx.clock())
        wanted = OptOutState.READY if opted_out else OptOutState.OPTED_OUT
        if state is wanted and uow.bookings.set_opt_out(booking, link.email, opted_out):
            booking.revision += 1  # not ``updated_at``: nothing participants see changed
            add_history(uow, booking, PARTICIPANT, "opted_out" if opted_out else "opted_in")
            publish(ctx, uow, booking, BOOKING_OPTED_OUT)
            state = _state(booking, link.email, ctx.clock())
        view = _view(booking, link, state)
        uow.commit()
    return view


__all__ = ["open_opt_out", "set_opt_out"]
