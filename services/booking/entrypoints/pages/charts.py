"""The reports' charts as SVG drawn on the server: no script, no inline style (colours and
patterns are classes in shared/static/evenemang.css and SVG attributes), a viewBox that
scales to a phone, and readable without colour: each series has its own pattern, bars
carry their values as text, and every chart has a title and a description for screen
readers (the same figures are in the table below it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

PATTERNS = 6  # series beyond these repeat the patterns (their names still in the legend)
WIDTH = 640
ROW = 28  # a horizontal bar's band
LABEL = 150  # room for names left of horizontal bars


@dataclass(frozen=True)
class Series:
    """One named part of a stacked bar (a category), drawn with pattern ``index``."""

    name: str
    index: int


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _defs() -> str:
    """Hatchings the series fill with (the colour comes from the series' class)."""
    shapes = (
        "",
        '<path d="M0 6 L6 0" class="hatch"/>',
        '<circle cx="3" cy="3" r="1.3" class="dot"/>',
        '<path d="M0 3 H6" class="hatch"/>',
        '<path d="M3 0 V6" class="hatch"/>',
        '<path d="M0 0 L6 6 M0 6 L6 0" class="hatch"/>',
    )
    patterns = "".join(
        f'<pattern id="pat{i}" width="6" height="6" patternUnits="userSpaceOnUse">'
        f'<rect width="6" height="6" class="pat-bg s{i}"/>{shape}</pattern>'
        for i, shape in enumerate(shapes)
    )
    return f"<defs>{patterns}</defs>"


def _svg(key: str, title: str, description: str, height: int, body: str) -> Markup:
    head = (
        f'<svg class="chart-svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{key}-t {key}-d" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{key}-t">{escape(title)}</title>'
        f'<desc id="{key}-d">{escape(description)}</desc>'
    )
    return Markup(f"{head}{_defs()}{body}</svg>")


def _bar(x: float, y: float, w: float, h: float, index: int, extra: str = "") -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" '
        f'fill="url(#pat{index % PATTERNS})" class="bar s{index % PATTERNS}{extra}"/>'
    )


def _text(x: float, y: float, text: str, anchor: str = "start", cls: str = "label") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{cls}">{escape(text)}</text>'
    )


def legend(series: Sequence[Series]) -> Markup:
    """The series' names beside swatches of their patterns (HTML list of small SVGs)."""
    items = "".join(
        f'<li><svg class="swatch" viewBox="0 0 16 16" aria-hidden="true">{_defs()}'
        f"{_bar(0, 0, 16, 16, s.index)}</svg> {escape(s.name)}</li>"
        for s in series
    )
    return Markup(f'<ul class="chart-legend">{items}</ul>')


def stacked_columns(
    key: str,
    title: str,
    description: str,
    axis: Sequence[str],
    stacks: dict[str, list[tuple[int, float]]],
) -> Markup:
    """A column per period (``axis``), stacked by series (index, value), its total above."""
    height, top, bottom = 300, 24, 40
    totals = [sum(v for _, v in stacks.get(label, ())) for label in axis]
    most = max(totals, default=0) or 1
    band = (WIDTH - 20) / max(len(axis), 1)
    scale = (height - top - bottom) / most
    base = height - bottom
    body = [f'<line x1="10" x2="{WIDTH - 10}" y1="{base}" y2="{base}" class="axis"/>']
    for i, label in enumerate(axis):
        x, y = 10 + i * band + band * 0.15, height - bottom
        for index, value in stacks.get(label, ()):
            body.append(_bar(x, y - value * scale, band * 0.7, value * scale, index))
            y -= value * scale
        if totals[i]:
            body.append(_text(x + band * 0.35, y - 6, _number(totals[i]), "middle", "value"))
        short = label[2:] if len(axis) > 12 else label
        body.append(_text(x + band * 0.35, height - bottom + 16, short, "middle", "tick"))
    return _svg(key, title, description, height, "".join(body))


def horizontal_bars(
    key: str,
    title: str,
    description: str,
    rows: Sequence[tuple[str, Sequence[tuple[int, float, str]]]],
) -> Markup:
    """A band per row (name, bars: pattern index, value, its label), the bars one under
    another, each with its label at its end."""
    per_band = max((len(bars) for _, bars in rows), default=1)
    band = ROW * per_band + 10
    height = max(band * len(rows), band) + 10
    most = max((v for _, bars in rows for _, v, _ in bars), default=0) or 1
    room = WIDTH - LABEL - 70
    body = []
    for i, (name, bars) in enumerate(rows):
        y = 10 + i * band
        body.append(_text(LABEL - 8, y + band / 2, name[:24], "end", "label"))
        for j, (index, value, text) in enumerate(bars):
            w = value / most * room
            body.append(_bar(LABEL, y + j * ROW, w, ROW - 6, index))
            body.append(_text(LABEL + w + 6, y + j * ROW + ROW / 2, text, "start", "value"))
    return _svg(key, title, description, height, "".join(body))


def heat_map(
    key: str,
    title: str,
    description: str,
    days: Sequence[str],
    hours: dict[tuple[int, int], float],
) -> Markup:
    """Weekdays down, hours across; a cell darker the more hours were booked in it (five
    steps), and the hours written in every cell that has any."""
    left, top, cell_w, cell_h = 44, 22, (WIDTH - 50) / 24, 30
    most = max(hours.values(), default=0) or 1
    body = [
        _text(left + h * cell_w + cell_w / 2, 15, f"{h:02d}", "middle", "tick")
        for h in range(0, 24, 3)
    ]
    for d, day in enumerate(days):
        y = top + d * cell_h
        body.append(_text(left - 6, y + cell_h / 2 + 4, day, "end", "label"))
        for h in range(24):
            value = hours.get((d, h), 0)
            level = 0 if not value else min(4, 1 + int(value / most * 4))
            x = left + h * cell_w
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{cell_w - 1:.1f}" height="{cell_h - 1}" '
                f'class="heat h{level}"/>'
            )
            if value:
                cls = "cell-value dark" if level >= 3 else "cell-value"
                body.append(
                    _text(x + cell_w / 2, y + cell_h / 2 + 4, _number(value), "middle", cls)
                )
    return _svg(key, title, description, top + len(days) * cell_h + 4, "".join(body))
