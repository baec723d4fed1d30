"""The rules of keeping people and of set-password links, without a database: the last
active admin stays one; a link is ours, for one person and purpose, in its time, and only
while their password is the one it was made for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.booking import password_links as links
from services.booking.domain.people import LastAdmin, Standing, check_admins_left
from shared import decision_links

ADMIN, INFRA, ORGANISER = "admin", "infra", "organiser"
NOW = datetime(2030, 3, 1, 11, 0, tzinfo=UTC)
SECRET = "a secret key for the tests"


def standing(role: str, active: bool = True) -> Standing:
    from shared.events import Role

    return Standing(Role(role), active)


@pytest.mark.parametrize(
    ("before", "after", "others", "refused_on"),
    [
        (standing(ADMIN), standing(INFRA), 0, "role"),
        (standing(ADMIN), standing(ADMIN, False), 0, "active"),
        (standing(ADMIN), standing(ORGANISER, False), 0, "active"),
        (standing(ADMIN), standing(INFRA), 1, None),
        (standing(ADMIN), standing(ADMIN, False), 2, None),
        (standing(ADMIN), standing(ADMIN), 0, None),  # nothing changes
        (standing(ADMIN, False), standing(ORGANISER, False), 0, None),  # not one now
        (standing(INFRA), standing(ORGANISER), 0, None),
        (standing(INFRA), standing(ADMIN), 0, None),
    ],
)
def test_the_last_active_admin_stays_one(before, after, others, refused_on):
    if refused_on is None:
        check_admins_left(before, after, others)
        return
    with pytest.raises(LastAdmin) as refused:
        check_admins_left(before, after, others)
    assert refused.value.field == refused_on
    assert refused.value.message.code == "last_active_admin"


HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"


def _token(purpose=links.Purpose.RESET, password_hash=HASH, now=NOW, secret=SECRET) -> str:
    return links.sign(secret, links.make("user-1", password_hash, purpose, now))


@pytest.mark.parametrize(
    ("purpose", "valid_for"),
    [(links.Purpose.RESET, timedelta(hours=1)), (links.Purpose.INVITE, timedelta(days=7))],
)
def test_a_link_carries_its_person_and_purpose_until_its_time_is_up(purpose, valid_for):
    token = _token(purpose)
    link = links.read(SECRET, token, NOW + valid_for - timedelta(seconds=1))
    assert (link.user_id, link.purpose, link.issued_at) == ("user-1", purpose, NOW)
    assert link.expires_at == NOW + valid_for
    assert link.fits(HASH)
    with pytest.raises(links.LinkExpired):
        links.read(SECRET, token, NOW + valid_for)
    assert links.url("https://x.example/", token) == f"https://x.example/password/reset/{token}"


def test_a_link_stops_fitting_once_a_password_is_set():
    never_had_one = links.read(SECRET, _token(password_hash=None), NOW)
    assert never_had_one.fits(None) and not never_had_one.fits(HASH)
    link = links.read(SECRET, _token(), NOW)
    assert not link.fits(HASH.replace("aGFz", "bGFz")) and not link.fits(None)
    assert HASH not in _token() and links.fingerprint(HASH) != HASH


def test_a_link_we_did_not_sign_is_refused():
    token = _token()
    body, _, signature = token.rpartition(".")
    decision = decision_links.sign(
        SECRET,
        decision_links.DecisionLink(
            "b1", 1, "a@example.org", decision_links.Action.APPROVE, ("r1",), NOW
        ),
    )
    for forged in (
        _token(secret="another key"),
        f"{body}.{signature[::-1]}",
        f"x{token}",
        token[: len(token) // 2],
        "",
        decision,  # signed with our key, for another purpose
    ):
        with pytest.raises(links.LinkInvalid):
            links.read(SECRET, forged, NOW)
