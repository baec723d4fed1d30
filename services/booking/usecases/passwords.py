"""Passwords by mail: the set-password link of an invitation or a reset, written as an
event for notify to mail (in the transaction of the change that calls for it), a reset
asked for by address (the same answer, in the same time, whether the address is known or
not), and a password set with a link, once."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from services.booking import password_links
from services.booking.domain.people import PasswordLinkRefused
from services.booking.password_links import LinkExpired, LinkInvalid, PasswordLink, Purpose
from services.booking.persistence import people as found
from services.booking.persistence.models import User, new_id
from services.booking.persistence.repositories import UnitOfWork
from services.booking.persistence.unit_of_work import Context
from services.booking.readmodels import PasswordLinkView
from services.booking.usecases.users import apply_change
from shared.auth import hash_password
from shared.db import utcnow
from shared.events import AccountMailSnapshot, EventType, Language

log = logging.getLogger(__name__)

# A reset request is answered after this long whatever it found, so its timing says
# nothing about the address; an account is sent at most so many reset mails an hour.
RESET_ANSWER_SECONDS = 0.3
RESETS_PER_HOUR = 3
EVENTS = {
    Purpose.INVITE: EventType.ACCOUNT_INVITED,
    Purpose.RESET: EventType.ACCOUNT_PASSWORD_RESET,
}


def mail_link(ctx: Context, uow: UnitOfWork, user: User, purpose: Purpose) -> None:
    """Write the invitation or reset mail for this user to the outbox (notify mails it).
    It carries a set-password link while password login is on — except a reset for
    someone who logs in only with the university account, which says just that — and says
    whether they may log in with the university account."""
    config = ctx.config
    linked = user.oidc_subject is not None
    sso = config.oidc_enabled and (purpose is Purpose.INVITE or linked)
    url, expires_at = "", None
    if config.password_login and not (purpose is Purpose.RESET and sso and not user.password_hash):
        link = password_links.make(user.id, user.password_hash, purpose, ctx.clock())
        url = password_links.url(config.base_url, password_links.sign(config.secret_key, link))
        expires_at = link.expires_at
    uow.publish(
        EVENTS[purpose],
        AccountMailSnapshot(
            user_id=user.id,
            email=user.email,
            name=user.name,
            language=Language(user.language),
            url=url,
            expires_at=expires_at,
            mail_id=new_id(),
            sso=sso,
        ),
    )


def request_password_reset(ctx: Context, email: str) -> None:
    """Mail a reset link to the active user with this address (at most
    :data:`RESETS_PER_HOUR` an hour); for anyone else, nothing. Either way it returns
    after :data:`RESET_ANSWER_SECONDS`, so neither the answer nor its time tells them
    apart."""
    started = time.monotonic()
    try:
        _reset(ctx, email)
    finally:
        time.sleep(max(0.0, started + RESET_ANSWER_SECONDS - time.monotonic()))


def _reset(ctx: Context, email: str) -> None:
    with ctx.uow(readonly=True) as uow:  # an unknown address takes no write lock
        user = found.by_email(uow.session, email)
        user_id = user.id if user is not None and user.active else None
    if user_id is None:
        return
    with ctx.uow() as uow:
        user = found.by_id(uow.session, user_id, lock=True)
        if user is None or not user.active:
            return
        if found.reset_mails_since(uow.session, user.id, utcnow() - timedelta(hours=1)) >= (
            RESETS_PER_HOUR
        ):
            log.info("password reset for %s not mailed: %d this hour", user.id, RESETS_PER_HOUR)
            return
        mail_link(ctx, uow, user, Purpose.RESET)
        uow.commit()


def _read(ctx: Context, token: str) -> PasswordLink:
    try:
        return password_links.read(ctx.config.secret_key, token, ctx.clock())
    except LinkInvalid as exc:
        raise PasswordLinkRefused("invalid") from exc
    except LinkExpired as exc:
        raise PasswordLinkRefused("expired") from exc


def _holder(user: User | None, link: PasswordLink) -> User:
    """The link's person, while the link still works for them."""
    if user is None:
        raise PasswordLinkRefused("invalid")
    if not user.active:
        raise PasswordLinkRefused("inactive")
    if not link.fits(user.password_hash):
        raise PasswordLinkRefused("used")
    return user


def _view(user: User, link: PasswordLink) -> PasswordLinkView:
    return PasswordLinkView(user.email, user.name, link.purpose is Purpose.INVITE, link.expires_at)


def check_link(ctx: Context, token: str) -> PasswordLinkView:
    """Whom a set-password link is for, while it works; ``PasswordLinkRefused`` says why
    not."""
    link = _read(ctx, token)
    with ctx.uow(readonly=True) as uow:
        return _view(_holder(found.by_id(uow.session, link.user_id), link), link)


def set_password(ctx: Context, token: str, password: str) -> PasswordLinkView:
    """Set the password of the link's person, once: the new password's hash no longer fits
    the link (nor any other link made before). Calendar and notify hear of it
    (``user.changed``)."""
    link = _read(ctx, token)
    with ctx.uow(readonly=True) as uow:  # refused before hashing: argon2 is slow on purpose
        _holder(found.by_id(uow.session, link.user_id), link)
    new_hash = hash_password(password)
    with ctx.uow() as uow:
        user = _holder(found.by_id(uow.session, link.user_id, lock=True), link)  # once only
        apply_change(uow.session, user, password_hash=new_hash)
        view = _view(user, link)
        uow.commit()
    return view
