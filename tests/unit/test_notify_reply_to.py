"""A rejection asks the organiser to reply with questions: the reply reaches whoever
declined (their address), else the declined resource's team mailbox, and only then the
infra team, which may well be unset (then the mail had no Reply-To at all)."""

from __future__ import annotations

from services.notify.domain import MailKind, plan_mail, reply_to
from shared.events import make_envelope, parse_event
from tests.factories import line, resource_ref, snapshot, team

AV = team("av", "AV", "av-team@example.org", ("a@example.org",))


def _mail_to_organiser(event_type: str, status: str, **overrides):
    data = snapshot(booking_id="b-1", status=status, **overrides)
    event = parse_event(make_envelope(event_type, data))
    (mail,) = [m for m in plan_mail([event], None, {}, ()).mails if m.for_organiser]
    return mail


def test_a_rejection_replies_to_whoever_declined_without_an_infra_team():
    mail = _mail_to_organiser(
        "booking.rejected",
        "rejected",
        lines=[line("r1", "declined", decided_by="Vera.Venues@example.org")],
    )
    assert mail.kind is MailKind.REJECTED
    assert [p.email for p in reply_to(mail, ())] == ["vera.venues@example.org"]
    assert [p.email for p in reply_to(mail, ("infra@example.org",))] == ["vera.venues@example.org"]


def test_declined_by_a_team_link_replies_to_the_teams_mailbox():
    mail = _mail_to_organiser(
        "booking.rejected",
        "rejected",
        resources=[resource_ref(team=AV)],
        lines=[line("r1", "declined", decided_by="AV")],
    )
    assert [p.email for p in reply_to(mail, ())] == ["av-team@example.org"]


def test_a_declined_line_tells_the_organiser_who_to_answer():
    mail = _mail_to_organiser(
        "booking.lines_decided",
        "pending",
        resources=[resource_ref(), resource_ref("r2", "studio", "Studio")],
        lines=[line("r1", "declined", decided_by="d@example.org"), line("r2")],
    )
    assert mail.kind is MailKind.LINES_DECIDED
    assert [p.email for p in reply_to(mail, ("infra@example.org",))] == ["d@example.org"]
