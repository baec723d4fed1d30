"""Booking's rule violations as HTTP answers: problem details worded in the request's
language, each with its message id as ``code`` (and field ids under ``codes``)."""

from __future__ import annotations

from flask import Flask

from services.booking import domain
from services.booking.domain.people import PasswordLinkRefused, PersonConflict
from services.booking.schemas import ConflictOut, SuggestionsOut
from shared.messages import Msg
from shared.problems import api_language, problem, validation_problem, word

_CONFLICTS = ConflictOut(many=True)
_SUGGESTIONS = SuggestionsOut()


def install_domain_errors(app: Flask) -> None:
    @app.errorhandler(domain.RuleViolation)
    def _rule(exc: domain.RuleViolation):
        return validation_problem(exc.errors)

    @app.errorhandler(domain.SlotTaken)
    def _taken(exc: domain.SlotTaken):
        found = exc.suggestions
        extra = {} if found is None else {"suggestions": _SUGGESTIONS.dump(found)}
        return problem(
            409,
            Msg(exc.title),
            exc.message,
            code=exc.code,
            conflicts=_CONFLICTS.dump(exc.conflicts),
            **extra,
        )

    @app.errorhandler(domain.AlreadyExists)
    def _exists(exc: domain.AlreadyExists):
        return _on_field(409, Msg("already_exists_title"), exc.field, exc.message)

    @app.errorhandler(PersonConflict)
    def _person(exc: PersonConflict):
        return _on_field(409, Msg("not_possible_in_state"), exc.field, exc.message)

    @app.errorhandler(PasswordLinkRefused)
    def _link(exc: PasswordLinkRefused):
        status = {"invalid": 404, "expired": 410}.get(exc.reason, 409)
        return _on_field(status, None, "token", exc.message)

    @app.errorhandler(domain.InvalidTransition)
    def _transition(exc: domain.InvalidTransition):
        return problem(409, Msg("not_possible_in_state"), exc.message)

    @app.errorhandler(domain.Forbidden)
    def _forbidden(exc: domain.Forbidden):
        return problem(403, None, exc.message)

    @app.errorhandler(domain.NotFound)
    def _not_found(exc: domain.NotFound):
        return problem(404, None, exc.message)

    @app.errorhandler(domain.LimitReached)
    def _limit(exc: domain.LimitReached):
        response = problem(429, None, exc.message, code=exc.message.code)
        if exc.retry_after is not None:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(domain.LoginThrottled)
    def _throttled(exc: domain.LoginThrottled):
        response = problem(429, None, exc.message, code="login_throttled")
        response.headers["Retry-After"] = str(exc.retry_after)
        return response


def _on_field(status: int, title: Msg | None, field: str, message: Msg):
    """A refusal about one field: the message as ``detail`` and beside the field, its id as
    ``code``."""
    return problem(
        status,
        title,
        message,
        code=message.code,
        errors={field: [word(message, api_language())]},
        codes={field: [message.code]},
    )
