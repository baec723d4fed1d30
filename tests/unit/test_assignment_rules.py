"""Who may do a line's job (domain.assignments): only an approved service or studio line
takes an assignee; a staff member must be in its team or manage it; a supplier must be kept
and its agreement hold on every date of the booking."""

from __future__ import annotations

from datetime import date

import pytest

from services.booking.domain import InvalidTransition, ResourceRules, RuleViolation
from services.booking.domain.assignments import (
    Agreement,
    check_assignable,
    check_staff,
    check_supplier,
)

RULES = ResourceRules(
    "r1",
    "Photographer",
    managers=frozenset({"mona@example.org"}),
    team_members=frozenset({"fia@example.org"}),
    team_mailbox="komm@example.org",
)
MARCH = [date(2030, 3, 4), date(2030, 3, 11)]


@pytest.mark.parametrize("kind", ["service", "studio"])
def test_an_approved_service_or_studio_line_takes_an_assignee(kind):
    check_assignable(kind, "approved", "Photographer")


def test_a_venue_line_is_refused_on_the_resource():
    with pytest.raises(RuleViolation) as refused:
        check_assignable("venue", "approved", "Aula")
    assert [m.code for m in refused.value.errors["resource_id"]] == ["assign_only_services"]


@pytest.mark.parametrize("status", ["pending", "declined"])
def test_a_line_not_approved_is_not_yet_assigned(status):
    with pytest.raises(InvalidTransition) as refused:
        check_assignable("service", status, "Photographer")
    assert refused.value.message.code == "assign_when_approved"


@pytest.mark.parametrize("email", ["fia@example.org", "mona@example.org"])
def test_a_team_member_or_manager_may_do_it(email):
    check_staff(email, RULES, "Photographer")


@pytest.mark.parametrize("email", ["otto@example.org", "komm@example.org"])
def test_someone_else_may_not(email):
    with pytest.raises(RuleViolation) as refused:
        check_staff(email, RULES, "Photographer")
    assert list(refused.value.errors) == ["assignee.email"]


@pytest.mark.parametrize(
    ("agreement", "code"),
    [
        (None, "no_such_supplier"),
        (Agreement("Gone AB", False, date(2030, 1, 1), None), "supplier_retired"),
        (Agreement("Late AB", True, date(2030, 3, 5), None), "supplier_agreement_not_valid"),
        (
            Agreement("Short AB", True, date(2030, 1, 1), date(2030, 3, 10)),
            "supplier_agreement_not_valid",
        ),
    ],
)
def test_a_supplier_must_be_kept_and_valid_on_every_date(agreement, code):
    with pytest.raises(RuleViolation) as refused:
        check_supplier(agreement, MARCH)
    assert [m.code for m in refused.value.errors["assignee.supplier_id"]] == [code]


@pytest.mark.parametrize("valid_to", [None, date(2030, 3, 11)])
def test_an_agreement_holding_on_the_first_and_last_date_will_do(valid_to):
    check_supplier(Agreement("Bild AB", True, date(2030, 3, 4), valid_to), MARCH)
