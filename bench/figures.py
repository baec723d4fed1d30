"""What every benchmark hands ``bench/run.py``: its figures, written with ``--json PATH``.

A figure is a measured value against a baseline measured in the same run: ``values`` are
the ratios (or seconds) of the trials, ``aim`` is ``"<op> <number>"`` with op one of
``>=``, ``<=``, ``<``, ``>``, judged on the median. This module is a helper, not a
benchmark: it has no ``__main__``, so ``run.py`` does not run it."""

from __future__ import annotations

import json
import operator
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

OPERATORS = {">=": operator.ge, "<=": operator.le, "<": operator.lt, ">": operator.gt}


def figure(name: str, baseline: str, values: Sequence[float], aim: str) -> dict[str, Any]:
    """One figure as ``--json`` writes it (the aim checked for its form)."""
    parse_aim(aim)
    return {"figure": name, "baseline": baseline, "values": [float(v) for v in values], "aim": aim}


def write(path: str | Path | None, bench: str, figures: Sequence[dict[str, Any]]) -> None:
    """Write the bench's figures to ``path`` (nothing when no path was asked for)."""
    if path:
        Path(path).write_text(json.dumps({"bench": bench, "figures": list(figures)}, indent=1))


def parse_aim(aim: str) -> tuple[str, float]:
    """``">= 0.8"`` → ``(">=", 0.8)``; a ValueError for anything else."""
    op, _, number = aim.strip().partition(" ")
    if op not in OPERATORS:
        raise ValueError(f"aim {aim!r}: the operator must be one of {', '.join(OPERATORS)}")
    return op, float(number.strip().split()[0])


def holds(aim: str, values: Sequence[float]) -> bool:
    """Whether the median of ``values`` meets ``aim``."""
    op, bound = parse_aim(aim)
    return bool(values) and OPERATORS[op](statistics.median(values), bound)
