"""Every test here is part of the fault suite (``-m faults``) and starts processes; what
each scenario measured (counts, catch-up time) is shown at the end of the run."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/faults/" in str(item.fspath):
            item.add_marker(pytest.mark.faults)
            item.add_marker(pytest.mark.slow)


def pytest_terminal_summary(terminalreporter):
    from tests.faults.harness import REPORTS

    if REPORTS:
        terminalreporter.write_sep("-", "fault suite: expected against seen, catch-up")
        for line in REPORTS:
            terminalreporter.write_line(line)
