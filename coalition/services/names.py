"""What a name typed by a visitor may hold: a name, not a link, a line break or hidden text.

Names go into emails ("Hello Rosa,"; "... that <organization> endorses ..."), onto the
public wall and into exports. A web address there becomes a link in the recipient's mail
program, a line break lets the visitor write their own lines into our email, and invisible
characters let a name pretend to be another (or hide a formula prefix from a spreadsheet).
"""

from __future__ import annotations

import re
import unicodedata

#: A web address, with or without its scheme: "https://...", "www....", "name.tld/...",
#: "example.org", and schemes such as "mailto:" or "javascript:".
_LINK = re.compile(
    r"(?ix)"
    r"(?:[a-z][a-z0-9+.-]*:/{0,2}[^\s]"  # a scheme and something after it
    r"|www\."
    r"|[\w-]\.(?:[^\W\d_]{2,})(?![\w-]))"  # a dotted name ending in a top-level domain
)
#: Joiners that some scripts need inside a word (Persian names use U+200C): allowed
#: between two letters or marks only.
_JOINERS = frozenset("\u200c\u200d")


def _is_letter_or_mark(char: str) -> bool:
    return unicodedata.category(char)[0] in "LM"


def has_invisible_characters(text: str) -> bool:
    """Whether ``text`` holds format characters (zero-width spaces, U+FEFF, direction marks,
    soft hyphens ...) or controls, other than a joiner between two letters."""
    for index, char in enumerate(text):
        category = unicodedata.category(char)
        if category in ("Cc", "Zl", "Zp", "Co", "Cs", "Cn"):
            return True
        if category == "Cf":
            if char in _JOINERS and 0 < index < len(text) - 1:
                if _is_letter_or_mark(text[index - 1]) and _is_letter_or_mark(text[index + 1]):
                    continue
            return True
    return False


def looks_like_link(text: str) -> bool:
    """Whether ``text`` holds something a mail program would turn into a link."""
    return bool(_LINK.search(unicodedata.normalize("NFKC", text)))


def name_problem(text: str) -> str | None:
    """Why ``text`` cannot be a name: "line-break", "invisible", "link", or None if it can."""
    if any(char in text for char in "\r\n\v\f\x85\u2028\u2029"):
        return "line-break"
    if has_invisible_characters(text):
        return "invisible"
    if looks_like_link(text):
        return "link"
    return None
