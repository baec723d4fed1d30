"""axe-core in the browser tests: the WCAG 2.1 AA rules run on the page a test has open.

axe comes from npm beside the OpenID provider (``npm ci`` in ``tests/support/oidc/``, pinned
in its lock file). The pages' Content-Security-Policy forbids inline script, so axe is not
added as a ``<script>``: its source is evaluated through the DevTools protocol, which the
policy does not govern, and any page of any test can be checked as it is served.

    from tests.support.axe import assert_accessible, require_axe, violations

    require_axe()                     # in the fixture, beside require_browser()
    assert_accessible(page, "login")  # or: found = violations(page)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tests.support.browser import DESKTOP, PHONE
from tests.support.environment import need
from tests.support.processes import ROOT

AXE_JS = ROOT / "tests" / "support" / "oidc" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
RUN = """tags => axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
}).then(result => result.violations.map(rule => ({
    rule: rule.id,
    impact: rule.impact || "",
    help: rule.help,
    url: rule.helpUrl,
    nodes: rule.nodes.map(node => ({
        target: node.target.map(String).join(" "),
        summary: node.failureSummary || "",
    })),
})))"""


# axe leaves focus visibility alone: each element one can Tab to is focused in turn and must
# gain a ring (an outline, or a box-shadow it did not have) on itself or, for an input drawn
# by its label (opacity 0), on that label. Frames are left out: the focus is then inside the
# frame's document, and no selector of the page around it matches the frame.
FOCUS_RINGS = """() => {
    const tabbable = "a[href], button, input:not([type=hidden]), select, textarea, summary, "
        + "[tabindex]:not([tabindex='-1'])";
    const look = el => {
        const style = getComputedStyle(el);
        const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
        return {outline, shadow: style.boxShadow};
    };
    const shown = el =>
        el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
    const missing = [];
    const before = document.activeElement;
    for (const el of document.querySelectorAll(tabbable)) {
        if (el.disabled || !shown(el)) continue;
        const drawn = [el, ...(el.labels || [])];
        if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
        const unfocused = drawn.map(look);
        el.focus({preventScroll: true, focusVisible: true});
        if (document.activeElement !== el) continue;
        const ringed = drawn.map(look).some(
            (now, i) => (now.outline && !unfocused[i].outline) || now.shadow !== unfocused[i].shadow
        );
        if (!ringed) {
            const id = el.id ? "#" + el.id : "";
            const name = el.getAttribute("name") ? `[name=${el.getAttribute("name")}]` : "";
            const words = (el.innerText || el.value || "").trim().slice(0, 40);
            missing.push(`${el.tagName.toLowerCase()}${id}${name} "${words}"`);
        }
    }
    if (before && before.focus) before.focus({preventScroll: true});
    return missing;
}"""


@dataclass(frozen=True)
class Node:
    target: str
    summary: str


@dataclass(frozen=True)
class Violation:
    """One axe rule a page breaks, with the elements that break it."""

    rule: str
    impact: str
    help: str
    url: str
    nodes: tuple[Node, ...]

    def __str__(self) -> str:
        lines = [f"{self.rule} ({self.impact}): {self.help} <{self.url}>"]
        for node in self.nodes:
            lines.append(f"    {node.target}")
            lines.extend(
                f"      {line.strip()}" for line in node.summary.splitlines()[1:] if line.strip()
            )
        return "\n".join(lines)


def require_axe() -> None:
    """axe-core from npm, or skip (developer) / fail (CI) saying how to get it."""
    need(
        AXE_JS.exists(),
        f"{AXE_JS.relative_to(ROOT)} is missing",
        "run `npm ci` in tests/support/oidc",
    )


@cache
def _source(path: Path = AXE_JS) -> str:
    return path.read_text(encoding="utf-8")


def violations(page: Any, tags: tuple[str, ...] = WCAG_21_AA) -> list[Violation]:
    """The rules of ``tags`` (WCAG 2.1 A and AA by default) that the page as it is now
    breaks; empty when it breaks none."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_source())
    found = page.evaluate(RUN, list(tags))
    return [
        Violation(
            rule=v["rule"],
            impact=v["impact"],
            help=v["help"],
            url=v["url"],
            nodes=tuple(Node(n["target"], n["summary"]) for n in v["nodes"]),
        )
        for v in found
    ]


def focus_without_ring(page: Any) -> list[Violation]:
    """The elements of the page that show no ring when focused (WCAG 2.4.7), as one
    violation; empty when every one does."""
    page.keyboard.press("Tab")  # the keyboard's way of focusing, as :focus-visible tells it
    missing = page.evaluate(FOCUS_RINGS)
    if not missing:
        return []
    nodes = tuple(Node(target, "") for target in missing)
    help = "Focused elements must show a focus indicator (no outline or box-shadow appears)"
    url = "https://www.w3.org/WAI/WCAG21/Understanding/focus-visible"
    return [Violation("focus-visible", "serious", help, url, nodes)]


def report(found: dict[str, list[Violation]]) -> str:
    """Each page's violations, readable: the page, then rule, impact, help and the elements."""
    parts = []
    for where, rules in found.items():
        if rules:
            parts.append(f"{where}:\n" + "\n".join(f"  {rule}" for rule in rules))
    return "\n".join(parts)


def assert_accessible(page: Any, where: str = "") -> None:
    """Fails with every WCAG 2.1 AA violation on the page, listed readably."""
    found = violations(page)
    assert not found, "axe-core found violations of WCAG 2.1 AA\n" + report(
        {where or page.url: found}
    )


class Audit:
    """Pages checked one after another, each at desktop and phone width (and, at desktop,
    for a focus ring on everything one can Tab to); every violation is kept and reported
    together at the end, so one run shows all there is to fix."""

    def __init__(self) -> None:
        self.found: dict[str, list[Violation]] = {}
        self.checked = 0
        self.seconds = 0.0  # spent in axe

    def check(self, page: Any, name: str, *, expand: bool = True) -> None:
        """The page as it is now, at both widths (it is left at the width it had); with
        ``expand``, every ``<details>`` is opened first so that what it hides is checked too
        (axe passes over what is not shown)."""
        size = page.viewport_size or DESKTOP
        if expand:
            page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        language = page.locator("html").get_attribute("lang") or "?"
        for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(viewport)
            started = time.monotonic()
            found = violations(page) + (focus_without_ring(page) if label == "desktop" else [])
            self.seconds += time.monotonic() - started
            self.checked += 1
            if found:
                self.found[f"{name} [{language}, {label}] {page.url}"] = found
        page.set_viewport_size(size)

    def assert_clean(self) -> None:
        print(f"axe-core: {self.checked} page views in {self.seconds:.1f} s")
        assert self.checked, "no page was checked"
        assert not self.found, (
            f"axe-core found violations of WCAG 2.1 AA on {len(self.found)} of "
            f"{self.checked} page views\n" + report(self.found)
        )
