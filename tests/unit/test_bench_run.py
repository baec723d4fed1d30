"""``make bench``'s table: which benches run, and each figure judged on its median."""

from __future__ import annotations

import pytest

from bench import run
from bench.figures import figure, holds, parse_aim


@pytest.mark.parametrize(
    ("aim", "values", "expected"),
    [
        (">= 0.8", [0.1, 0.85, 0.2], False),  # the median is 0.2
        (">= 0.8", [0.79, 0.8, 5.0], True),  # the bound itself holds
        ("> 0.8", [0.8, 0.8, 0.8], False),
        ("< 1", [0.4, 0.9, 3.0], True),  # one slow trial does not sink the median
        ("<= 5 s", [5.0, 5.0, 6.0], True),  # a unit after the number is allowed
        ("< 0.3", [], False),  # nothing measured holds nothing
    ],
)
def test_a_figure_is_judged_on_its_median(aim, values, expected):
    assert holds(aim, values) is expected


@pytest.mark.parametrize("aim", ["about 1", "== 1", ">=0.8", ">= many"])
def test_an_aim_is_an_operator_and_a_number(aim):
    with pytest.raises(ValueError):
        parse_aim(aim)
    with pytest.raises(ValueError):
        figure("x", "y", [1.0], aim)


def test_the_table_shows_min_median_max_and_the_verdict():
    report = {
        "bench": "booking",
        "figures": [
            figure("week page, 100,000 vs 1,000", "1,000 bookings", [0.9, 0.7, 1.1], ">= 0.8"),
            figure("submit, 100,000 vs 1,000", "1,000 bookings", [0.75, 0.72, 0.8], ">= 0.7"),
        ],
    }
    rows = run.rows_of("booking", report, status=1)

    # it failed, and no figure says why: a row of its own says so
    assert [(r.figure, r.holds) for r in rows][2:] == [("(the run: exit status 1)", False)]
    text = run.table(rows)
    lines = text.splitlines()
    assert lines[0].split() == [
        "bench",
        "figure",
        "baseline",
        "min",
        "/",
        "median",
        "/",
        "max",
        "aim",
    ]
    assert "0.7 / 0.9 / 1.1" in lines[2] and lines[2].endswith("HOLDS")
    assert "0.72 / 0.75 / 0.8" in lines[3] and lines[3].endswith("HOLDS")


def test_a_bench_that_fails_or_writes_nothing_is_short():
    assert [(r.figure, r.holds) for r in run.rows_of("load", None, 1)] == [
        ("(the run: exit status 1)", False)
    ]
    assert [(r.figure, r.holds) for r in run.rows_of("load", {"figures": []}, 0)] == [
        ("(the run: no figures written)", False)
    ]
    short = {"figures": [figure("pairs/s", "1 client", [0.5, 0.6, 0.7], ">= 1.0")]}
    assert [r.holds for r in run.rows_of("load", short, 1)] == [False]  # short says why


def test_only_scripts_are_benches(tmp_path):
    (tmp_path / "run.py").write_text('if __name__ == "__main__":\n    pass\n')
    (tmp_path / "figures.py").write_text("def helper(): ...\n")
    (tmp_path / "load.py").write_text('if __name__ == "__main__":\n    pass\n')
    assert [p.name for p in run.benches(tmp_path)] == ["load.py"]
    assert "run.py" not in {p.name for p in run.benches()}
    assert {"booking.py", "series.py", "login.py", "grid.py"} <= {p.name for p in run.benches()}


@pytest.mark.parametrize("path", run.benches(), ids=lambda p: p.name)
def test_every_bench_imports(path):
    """A bench that cannot even start (a name another bench no longer has) is found here,
    not at the end of a half-hour `make bench`."""
    import importlib

    importlib.import_module(f"bench.{path.stem}")
