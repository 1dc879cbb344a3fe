"""The campaign body's formatting: a small, safe subset of Markdown.

Staff write paragraphs (blank lines between), ``**bold**``, ``*italic*``, links
``[text](https://...)`` (http and https only) and bullet lists (lines starting with
``- `` or ``* ``). Everything is HTML-escaped first and only these patterns become
markup, so no text a staff member types can carry script or any other HTML.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_BLANK_LINE = re.compile(r"\n\s*\n")
_BULLET = re.compile(r"^\s*[-*]\s+")
# Applied to already-escaped text: the captured parts contain no raw < > " '.
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^\s)]+)\)")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?=\S)(.+?)(?<=\S)\*(?![*\w])")


def _inline(text: str) -> str:
    """Escape ``text``, then turn the allowed inline patterns into markup."""
    html = str(escape(text))
    html = _LINK.sub(r'<a href="\2" rel="nofollow noopener">\1</a>', html)
    html = _BOLD.sub(r"<strong>\1</strong>", html)
    html = _ITALIC.sub(r"<em>\1</em>", html)
    return html


def render_campaign_body(text: str | None) -> Markup:
    """The body as safe HTML: paragraphs, bullet lists, bold, italic, http(s) links."""
    if not text:
        return Markup("")
    blocks = [block.strip("\n") for block in _BLANK_LINE.split(text.replace("\r\n", "\n")) if block.strip()]
    out = []
    for block in blocks:
        lines = [line for line in block.split("\n") if line.strip()]
        if lines and all(_BULLET.match(line) for line in lines):
            items = "".join(f"<li>{_inline(_BULLET.sub('', line).strip())}</li>" for line in lines)
            out.append(f"<ul>{items}</ul>")
        else:
            out.append("<p>" + "<br>\n".join(_inline(line.strip()) for line in lines) + "</p>")
    # Every piece was escaped in _inline before the few tags were added.
    return Markup("\n".join(out))  # nosec B704
