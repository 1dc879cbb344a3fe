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


def render_plain_text(text: str | None) -> str:
    """The same text for a plain-text email: paragraphs, "- " bullets, links as "text (url)"."""
    if not text:
        return ""
    blocks = [block.strip("\n") for block in _BLANK_LINE.split(text.replace("\r\n", "\n")) if block.strip()]
    out = []
    for block in blocks:
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if lines and all(_BULLET.match(line) for line in lines):
            out.append("\n".join("- " + _plain_inline(_BULLET.sub("", line).strip()) for line in lines))
        else:
            out.append("\n".join(_plain_inline(line) for line in lines))
    return "\n\n".join(out)


def _plain_inline(text: str) -> str:
    text = _PLAIN_LINK.sub(lambda m: m.group(1) if m.group(1) == m.group(2) else f"{m.group(1)} ({m.group(2)})", text)
    text = _PLAIN_BOLD.sub(r"\1", text)
    return _PLAIN_ITALIC.sub(r"\1", text)


# The inline patterns on raw (unescaped) text, for the plain-text rendering.
_PLAIN_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^\s)]+)\)")
_PLAIN_BOLD = _BOLD
_PLAIN_ITALIC = _ITALIC
