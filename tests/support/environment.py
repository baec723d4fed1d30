"""The one rule for what a test needs from the machine (a server, a command, a package): when
it is missing, the test is skipped with the reason and how to get it on a developer's
machine, and fails in CI (``CI=true``), where .ci/run installs and starts everything."""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(available: bool, what: str, how_to_get_it: str) -> None:
    """Go on when ``available``; else skip (developer) or fail (CI), saying ``what`` is
    missing and ``how_to_get_it``."""
    if available:
        return
    message = f"{what}; {how_to_get_it}"
    if IN_CI:
        pytest.fail(f"{message} (CI must have it: .ci/run provides it)", pytrace=False)
    pytest.skip(message)
