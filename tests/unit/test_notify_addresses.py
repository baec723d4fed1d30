"""Mail addresses through the standard library: the configured lists, the sender, and the
header addresses a mail may carry (a name with line breaks stays one header line)."""

from __future__ import annotations

import pytest

from services.notify.mail.addresses import (
    address_list,
    header_address,
    one_line,
    recipient_line,
)
from services.notify.settings import MailSettings
from shared.events import Person


def test_the_infra_team_may_be_a_list_with_names_commas_or_semicolons():
    assert address_list("a@x.org, Infra Team <b@y.org>; c@z.org") == (
        "a@x.org",
        "b@y.org",
        "c@z.org",
    )
    assert address_list("") == () and address_list(" , ") == ()


def test_the_sender_is_read_from_mail_from_with_defaults():
    named = MailSettings(mail_from="Bokningar <noreply@evenemang.example>")
    assert (named.sender_name, named.sender_address, named.domain) == (
        "Bokningar",
        "noreply@evenemang.example",
        "evenemang.example",
    )
    bare = MailSettings(mail_from="")
    assert (bare.sender_name, bare.sender_address, bare.domain) == (
        "Evenemang",
        "evenemang@localhost",
        "localhost",
    )


@pytest.mark.parametrize(
    "email", ["bob", "@example.org", "bob@", "a b@example.org", "bob@x\r\nBcc: y@z", "Bob <b@x>"]
)
def test_an_address_no_header_can_carry_is_refused(email):
    with pytest.raises(ValueError, match="not a mail address"):
        header_address(Person(email))


def test_a_name_is_one_line_quoted_or_encoded_by_the_email_package():
    person = Person("john@example.org", "Doe, John\r\nBcc: victim@example.org")
    assert str(header_address(person)) == ('"Doe, John Bcc: victim@example.org" <john@example.org>')
    assert recipient_line(Person("anna@example.org", "Anna Åberg")) == (
        "=?utf-8?q?Anna_=C3=85berg?= <anna@example.org>"
    )
    assert one_line("x" * 300, 10) == "xxxxxxxxx…"
