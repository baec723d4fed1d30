"""A form's errors: message ids by the form's field names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.messages import Msg

Errors = dict[str, list[Msg]]


def flat(messages: Any, prefix: str = "") -> Errors:
    """marshmallow's nested errors (``{"participants": {3: {"email": [...]}}}``) by dotted
    key (``participants.3.email``); a message that is not a dict of fields is ``_schema``."""
    found: Errors = {}
    if not isinstance(messages, dict):
        return {prefix.rstrip(".") or "_schema": _listed(messages)}
    for key, value in messages.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            for inner, listed in flat(value, name + ".").items():
                found.setdefault(inner, []).extend(listed)
        else:
            found.setdefault(name, []).extend(_listed(value))
    return found


def _listed(value: Any) -> list[Msg]:
    return list(value) if isinstance(value, list | tuple) else [value]


def on_form(errors: Mapping[str, list[Msg]], names: Mapping[str, str] | None = None) -> Errors:
    """Errors by the form's fields: a dotted key goes to its first part, renamed by
    ``names`` where the form calls a field otherwise (``start`` is ``start_time``)."""
    shown: Errors = {}
    for key, messages in errors.items():
        base = key.split(".")[0]
        shown.setdefault((names or {}).get(base, base), []).extend(messages)
    return shown
