"""Consent to be recorded, as rules: the opt-out link (signed, bound to a booking and an
address, nothing else accepted), the opt-out over the fake store (once, a new revision and
``booking.opted_out``, taken back), who reads the opt-outs, and notify's plan for an
opt-out (no mail to anyone) and for which mail carries the notice."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.booking.commands import CancelBooking
from services.booking.readmodels import OptOutState
from services.booking.usecases import bookings, optouts, queries
from services.notify.domain import Invited, Mail, MailKind, fingerprint, plan_mail
from shared import decision_links, optout_links
from shared.decision_links import Action, DecisionLink, LinkInvalid
from shared.events import EventType, Kind, Person, Recording, make_envelope, parse_event
from shared.optout_links import OptOutLink
from tests.factories import snapshot
from tests.support.fake_booking import NOW, FakeBooking

KEY = "k" * 32
ANNA = "anna@example.org"


def test_an_opt_out_link_reads_back_only_as_signed():
    link = OptOutLink("b-1", ANNA, "en")
    token = optout_links.sign(KEY, link)
    assert optout_links.read(KEY, token) == link
    assert optout_links.url("https://x.example/", token) == f"https://x.example/optout/{token}"
    decision = decision_links.sign(KEY, DecisionLink("b-1", 1, ANNA, Action.APPROVE, ("r1",), NOW))
    for bad in (token[:-2], token + "x", optout_links.sign("other", link), decision, ""):
        with pytest.raises(LinkInvalid):
            optout_links.read(KEY, bad)


class Recorded(FakeBooking):
    """A photographer Maja manages (no approval needed), and Olle's photographed request
    with Anna invited."""

    def __init__(self) -> None:
        super().__init__()
        self.maja = self.person("maja@example.org", "organiser")
        self.photographer = self.resource(
            "Photographer", kind=Kind.SERVICE, requires_approval=False, managers=(self.maja.email,)
        )
        self.booking = self.submit(
            self.olle,
            self.photographer,
            participants=(Person(ANNA, "Anna"),),
            recording=Recording(photo=True, notice="For the website."),
        )
        self.link = OptOutLink(self.booking.id, ANNA, "sv")


@pytest.fixture
def app() -> Recorded:
    return Recorded()


def test_an_opt_out_is_recorded_once_with_a_new_revision_and_its_own_event(app):
    before = len(app.events(app.booking.id))
    assert optouts.open_opt_out(app.ctx, app.link).state is OptOutState.READY
    assert len(app.events(app.booking.id)) == before  # reading writes nothing

    done = optouts.set_opt_out(app.ctx, app.link)
    assert done.state is OptOutState.OPTED_OUT and done.title == "Seminar"
    again = optouts.set_opt_out(app.ctx, app.link)
    assert again.state is OptOutState.OPTED_OUT
    events = app.events(app.booking.id)[before:]
    assert [t for t, _ in events] == [EventType.BOOKING_OPTED_OUT]
    (_, opted) = events[0]
    assert opted.recording == Recording(True, False, "For the website.", (ANNA,))
    assert opted.revision == app.booking.revision + 1
    assert opted.updated_at == app.booking.updated_at

    assert optouts.set_opt_out(app.ctx, app.link, opted_out=False).state is OptOutState.READY
    assert app.events(app.booking.id)[-1][1].recording.opt_outs == ()
    actions = [h.action for h in queries.booking_history(app.ctx, app.infra, app.booking.id)]
    assert actions[-2:] == ["opted_out", "opted_in"]


def test_the_link_does_nothing_for_someone_not_invited_or_an_event_cancelled(app):
    stranger = replace(app.link, email="eve@example.org")
    assert optouts.set_opt_out(app.ctx, stranger).state is OptOutState.GONE
    bookings.cancel_booking(app.ctx, app.olle, app.booking.id, CancelBooking("Off"))
    assert optouts.set_opt_out(app.ctx, app.link).state is OptOutState.CANCELLED
    assert all(not s.recording.opt_outs for _, s in app.events(app.booking.id))


def test_the_opt_outs_are_read_by_deciders_infra_and_admin_not_the_organiser(app):
    optouts.set_opt_out(app.ctx, app.link)
    view = queries.read_booking(app.ctx, app.infra, app.booking.id)
    for reader in (app.maja, app.infra, app.admin):
        shown = view.read_by(reader)
        assert shown.opt_outs_shown and shown.recording.opt_outs == (ANNA,)
    for reader in (app.olle, app.otto):
        hidden = view.read_by(reader)
        assert not hidden.opt_outs_shown and hidden.recording.opt_outs == ()
        assert hidden.recording.notice == "For the website."  # what is asked stays shown
    assigned = replace(view, assignees=(app.otto.email,))
    assert assigned.read_by(app.otto).recording.opt_outs == (ANNA,)
    unread = queries.read_booking(app.ctx, app.infra, app.booking.id)
    assert not unread.opt_outs_shown  # not shown unless a reader is named


def test_a_manager_organising_the_request_is_not_its_decider_and_reads_no_opt_outs(app):
    own = app.submit(app.maja, app.photographer, day=5)
    view = queries.read_booking(app.ctx, app.infra, own.id)
    assert not view.read_by(app.maja).opt_outs_shown  # not a decider of their own line


# --- notify ------------------------------------------------------------------------------------

PARTICIPANTS = [{"email": ANNA, "name": "Anna"}, {"email": "bob@example.org", "name": ""}]
RECORDED = {"photo": True, "film": False, "notice": "For the website.", "opt_outs": []}


def _event(event_type: str, **overrides):
    data = snapshot(status="approved", participants=PARTICIPANTS, recording=RECORDED)
    return parse_event(make_envelope(event_type, {**data, **overrides}))


def test_an_opt_out_mails_no_one():
    approved = _event("booking.approved")
    invited = {
        p["email"]: Invited(p["name"], fingerprint(approved.data), True) for p in PARTICIPANTS
    }
    opted = _event("booking.opted_out", revision=2, recording={**RECORDED, "opt_outs": [ANNA]})
    plan = plan_mail([opted], approved.data, invited, ("infra@example.org",))
    assert plan.mails == () and plan.digest == ()
    assert plan.invited == invited


def test_only_participants_invitations_and_reminders_carry_the_notice():
    data = _event("booking.approved").data
    told = {kind: Mail(kind, Person(ANNA), "e", data).tells_of_recording for kind in MailKind}
    assert {k for k, v in told.items() if v} == {
        MailKind.INVITATION,
        MailKind.INVITATION_UPDATE,
        MailKind.REMINDER,
    }
    assert not Mail(MailKind.REMINDER, Person("org@example.org"), "e", data).tells_of_recording
    quiet = data.replace(recording=Recording())
    assert not Mail(MailKind.INVITATION, Person(ANNA), "e", quiet).tells_of_recording
    assert not Mail(
        MailKind.INVITATION, Person(ANNA), "e", data.replace(recording=None)
    ).tells_of_recording
