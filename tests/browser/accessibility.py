"""Accessibility checks for pages open in the browser: axe-core, and focus visibility."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

#: WCAG 2.0, 2.1 and 2.2, levels A and AA: what the accessibility statement promises.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

_axe = Axe()


def axe_violations(page, context: str | dict | None = None) -> list[dict]:
    """Run axe-core on the page (or on ``context``, a selector) and return its violations."""
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    results = _axe.run(page, context=context, options=options)
    return results.response["violations"]


def describe_violations(violations: list[dict]) -> str:
    """One readable block per rule broken: id, impact, what it means, and where."""
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation.get('impact') or 'n/a'}): {violation['help']}")
        lines.append(f"  {violation.get('helpUrl', '')}")
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    at {target}")
            if summary:
                lines.append(f"       {summary}")
    return "\n".join(lines)


def assert_no_axe_violations(page, context: str | dict | None = None) -> None:
    """Fail, listing every violation readably, if axe finds any WCAG 2.2 A/AA problem on the page."""
    violations = axe_violations(page, context)
    if violations:
        raise AssertionError(
            f"{len(violations)} accessibility rule(s) broken on {page.url}:\n{describe_violations(violations)}"
        )


#: True when the focused element shows an outline or a ring (box-shadow).
FOCUS_IS_VISIBLE_JS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return false;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  const ring = style.boxShadow && style.boxShadow !== 'none';
  return Boolean(outline || ring);
}
"""


def focus_is_visible(page) -> bool:
    """Whether the element that has the keyboard focus shows a focus indicator."""
    return page.evaluate(FOCUS_IS_VISIBLE_JS)
