"""Run every benchmark and print one table of their figures (``make bench``).

Each ``bench/*.py`` that runs as a script (it has a ``__main__`` block; ``run.py`` itself
and helper modules such as ``figures.py`` do not count) is started in turn with
``--json PATH``, its own output passing through. Each writes ``{"bench": name, "figures":
[{"figure", "baseline", "values": [...], "aim": "<op> <number>"}]}``. The table then shows
per figure: the bench, the figure, its baseline, the values (min / median / max: ratios or
seconds), the aim, and HOLDS or SHORT, judged on the median. A bench that fails or writes
no figures is a SHORT row of its own. The exit status is 1 when anything is short.

    .venv/bin/python bench/run.py                  # every bench
    .venv/bin/python bench/run.py booking load     # only these
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # run as a script: make the project importable
    sys.path.insert(0, str(HERE.parent))

from bench.figures import holds  # noqa: E402


def benches(folder: Path = HERE) -> list[Path]:
    """The benchmarks in ``folder``: scripts with a ``__main__`` block, not this one."""
    return [
        path
        for path in sorted(folder.glob("*.py"))
        if path.name != "run.py" and 'if __name__ == "__main__":' in path.read_text()
    ]


@dataclass(frozen=True)
class Row:
    bench: str
    figure: str
    baseline: str
    values: tuple[float, ...]
    aim: str
    holds: bool


def rows_of(bench: str, report: dict[str, Any] | None, status: int) -> list[Row]:
    """The rows of one bench's report; a failed run or one without figures is one SHORT
    row that says so (its figures stay, but a failed run is short as a whole)."""
    figures = (report or {}).get("figures") or []
    rows = []
    for f in figures:
        values = tuple(float(v) for v in f.get("values") or ())
        try:
            ok = holds(f["aim"], values)
        except (KeyError, ValueError):
            ok = False
        rows.append(
            Row(bench, f.get("figure", "?"), f.get("baseline", ""), values, f.get("aim", "?"), ok)
        )
    if not rows or (status != 0 and all(r.holds for r in rows)):
        what = f"exit status {status}" if status else "no figures written"
        rows.append(Row(bench, f"(the run: {what})", "", (), "", False))
    return rows


def _number(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def table(rows: list[Row]) -> str:
    """One table: bench, figure, baseline, min / median / max, aim, HOLDS or SHORT."""
    head = ("bench", "figure", "baseline", "min / median / max", "aim", "")
    lines = [head]
    for r in rows:
        if r.values:
            spread = " / ".join(
                _number(v) for v in (min(r.values), statistics.median(r.values), max(r.values))
            )
        else:
            spread = "-"
        lines.append(
            (r.bench, r.figure, r.baseline, spread, r.aim, "HOLDS" if r.holds else "SHORT")
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def run(path: Path, out: Path, extra: list[str]) -> tuple[dict[str, Any] | None, int]:
    """Run one bench with ``--json out``; its report (None if it wrote none) and exit."""
    status = subprocess.call([sys.executable, str(path), "--json", str(out), *extra])
    try:
        return json.loads(out.read_text()), status
    except (OSError, ValueError):
        return None, status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="only these benches (file names without .py)")
    args = parser.parse_args(argv)
    found = {p.stem: p for p in benches()}
    unknown = set(args.names) - set(found)
    if unknown:
        parser.error(f"no bench {', '.join(sorted(unknown))} (there are: {', '.join(found)})")
    chosen = [found[n] for n in args.names] if args.names else list(found.values())
    rows: list[Row] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="evenemang-bench-run-") as tmp:
        for path in chosen:
            print(f"\n##### bench/{path.name} #####", flush=True)
            t = time.perf_counter()
            report, status = run(path, Path(tmp) / f"{path.stem}.json", [])
            print(
                f"##### bench/{path.name}: exit {status}, {time.perf_counter() - t:.0f} s",
                flush=True,
            )
            rows += rows_of(path.stem, report, status)
    print(f"\n{table(rows)}")
    short = sum(not r.holds for r in rows)
    print(f"\n{len(rows) - short} hold, {short} short; {time.perf_counter() - started:.0f} s")
    return 1 if short else 0


if __name__ == "__main__":
    sys.exit(main())
