"""Booking's rule violations as HTTP answers: problem details worded in the request's
language, each with its message id as ``code`` (and field ids under ``codes``)."""

from __future__ import annotations

from flask import Flask

from services.booking import domain
from services.booking.schemas import ConflictOut
from shared.messages import Msg
from shared.problems import problem, validation_problem

_CONFLICTS = ConflictOut(many=True)


def install_domain_errors(app: Flask) -> None:
    @app.errorhandler(domain.RuleViolation)
    def _rule(exc: domain.RuleViolation):
        return validation_problem(exc.errors)

    @app.errorhandler(domain.SlotTaken)
    def _taken(exc: domain.SlotTaken):
        return problem(
            409,
            Msg("slot_taken_title"),
            exc.message,
            code="slot_taken",
            conflicts=_CONFLICTS.dump(exc.conflicts),
        )

    @app.errorhandler(domain.InvalidTransition)
    def _transition(exc: domain.InvalidTransition):
        return problem(409, Msg("not_possible_in_state"), exc.message)

    @app.errorhandler(domain.Forbidden)
    def _forbidden(exc: domain.Forbidden):
        return problem(403, None, exc.message)

    @app.errorhandler(domain.NotFound)
    def _not_found(exc: domain.NotFound):
        return problem(404, None, exc.message)
