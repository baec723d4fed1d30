"""Mail addresses, parsed and formatted by the standard library's ``email`` package: header
addresses (``email.headerregistry.Address``), the configured lists (``email.utils``), and
one line of text for a header made safe."""

from __future__ import annotations

from email.errors import HeaderParseError
from email.headerregistry import Address
from email.utils import formataddr, getaddresses, parseaddr
from functools import lru_cache

from shared.events import Person

NAME_LENGTH = 120
DEFAULT_SENDER = "evenemang@localhost"


def one_line(text: object, limit: int = 250) -> str:
    """Text for a header: every run of whitespace or control characters one space, cut
    at ``limit`` with an ellipsis."""
    raw = str(text or "")
    cleaned = " ".join("".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in raw).split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1].rstrip() + "…"


def header_address(person: Person) -> Address:
    """A header address; raises ValueError for an address that cannot be one."""
    try:
        return _address(one_line(person.name, NAME_LENGTH), person.email.strip())
    except (ValueError, IndexError, HeaderParseError) as exc:
        raise ValueError(f"not a mail address: {person.email!r}") from exc


@lru_cache(maxsize=4096)
def _address(name: str, address: str) -> Address:
    """Parsed once for the many mails to and from the same people (an ``Address`` does not
    change)."""
    return Address(display_name=name, addr_spec=address)


def recipient_line(person: Person) -> str:
    """The ``To`` value: the name quoted or RFC 2047-encoded by ``formataddr`` (one line:
    :func:`one_line` took out every control character)."""
    header_address(person)  # the same check as every other address
    return formataddr((one_line(person.name, NAME_LENGTH), person.email.strip()), "utf-8")


def address_list(value: str) -> tuple[str, ...]:
    """``a@x, Name <b@y>`` (``;`` works too) as the bare addresses, blanks dropped."""
    pairs = getaddresses([(value or "").replace(";", ",")])
    return tuple(address for _, address in pairs if address)


def sender_parts(mail_from: str) -> tuple[str, str]:
    """``Name <address>`` (or a bare address) as (name, address), with defaults."""
    name, address = parseaddr(mail_from)
    return name or "Evenemang", address or DEFAULT_SENDER


def domain_of(address: str) -> str:
    """The domain of an address (for Message-IDs), ``localhost`` when there is none."""
    try:
        return Address(addr_spec=address).domain or "localhost"
    except (ValueError, IndexError, HeaderParseError):
        return "localhost"


def shown(person: Person) -> str:
    """A person as running text shows them: ``Name <address>``, or the address alone."""
    return f"{person.name} <{person.email}>" if person.name else person.email
