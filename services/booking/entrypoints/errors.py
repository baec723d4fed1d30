"""Booking's rule violations as HTTP answers (problem details)."""

from __future__ import annotations

from flask import Flask

from services.booking import domain
from services.booking.schemas import ConflictOut
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
            "Slot taken",
            "The time is taken for a resource you asked for.",
            conflicts=_CONFLICTS.dump(exc.conflicts),
        )

    @app.errorhandler(domain.InvalidTransition)
    def _transition(exc: domain.InvalidTransition):
        return problem(409, "Not possible in this state", str(exc))

    @app.errorhandler(domain.Forbidden)
    def _forbidden(exc: domain.Forbidden):
        return problem(403, "Forbidden", str(exc))

    @app.errorhandler(domain.NotFound)
    def _not_found(exc: domain.NotFound):
        return problem(404, "Not Found", str(exc))
