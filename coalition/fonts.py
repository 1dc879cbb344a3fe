"""Fonts for documents the site draws (delivery packets, share cards), and which one can print a name.

The main font is Noto Sans (Latin, Greek, Cyrillic, Vietnamese), installed from PyPI as
``fontpkg-noto-sans``: no font file lives in this repository. For other scripts (Chinese,
Japanese, Korean, Arabic, Hebrew...) the system's installed fonts are listed once through
fontconfig (``fc-list``) and their character tables read once each; where none has a
name's letters, ``font_for_text`` says so (None) and the caller marks the name instead of
printing boxes or nothing. (Bold: a bold instance of the variable font costs fontTools
several seconds to build, so the packets use the regular face only.)
"""

from __future__ import annotations

import functools
import shutil
import subprocess  # nosec B404 - runs fc-list, a fixed local program, with no shell
import unicodedata
from pathlib import Path

#: A letter of each script, to ask fontconfig for a font that has it.
SCRIPT_SAMPLES = {
    "latin": "A",
    "greek": "Ω",
    "cyrillic": "Ж",
    "cjk": "中",
    "japanese": "あ",
    "korean": "한",
    "arabic": "ع",
    "hebrew": "א",
    "devanagari": "क",
    "thai": "ก",
}
_USABLE_SUFFIXES = (".ttf", ".otf", ".ttc")
_NOT_REGULAR = ("bold", "italic", "oblique", "mono", "condensed", "light", "math")


@functools.cache
def main_font_path() -> str | None:
    """Noto Sans (a variable font) from the installed ``fontpkg-noto-sans``; None if not installed."""
    try:
        import fontpkg_noto_sans
    except ImportError:
        return None
    path = Path(fontpkg_noto_sans.ROOT) / "files" / "NotoSans[wdth,wght].ttf"
    return str(path) if path.is_file() else None


@functools.lru_cache(maxsize=512)
def _cmap(path: str) -> frozenset[int]:
    """The code points a font file has glyphs for."""
    from fontTools.ttLib import TTCollection, TTFont

    points: set[int] = set()
    if path.lower().endswith(".ttc"):
        with TTCollection(path) as collection:
            points.update(collection.fonts[0].getBestCmap() or {})
    else:
        with TTFont(path) as font:
            points.update(font.getBestCmap() or {})
    return frozenset(points)


def _letters(text: str) -> set[int]:
    """The code points of a text that must be drawn (not spaces, joiners or marks of direction)."""
    return {
        ord(ch)
        for ch in unicodedata.normalize("NFC", text)
        if not ch.isspace() and unicodedata.category(ch) not in ("Cf", "Cc")
    }


@functools.cache
def installed_font_files() -> tuple[str, ...]:
    """The system's TrueType/OpenType font files, as fontconfig lists them (regular faces first)."""
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return ()
    try:
        found = subprocess.run(  # nosec B603 - a fixed program and fixed arguments
            [fc_list, "--format", "%{file}\n"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        return ()
    # Regular faces first, so a fallback name is not printed in bold italic.
    files = {f for f in found if f.lower().endswith(_USABLE_SUFFIXES)}
    return tuple(sorted(files, key=lambda f: (any(w in f.lower() for w in _NOT_REGULAR), f)))


def _installed_fonts_with(points: set[int]) -> list[str]:
    """Installed font files that have glyphs for all these code points (each font's table read once)."""
    return [path for path in installed_font_files() if points <= _cmap(path)]


def font_path(script: str = "latin") -> str | None:
    """A font file for a script (``latin``, ``greek``, ``cyrillic``, ``cjk``, ``arabic``...), or None."""
    sample = SCRIPT_SAMPLES.get(script, script[:1])
    main = main_font_path()
    if main and ord(sample) in _cmap(main):
        return main
    candidates = _installed_fonts_with({ord(sample)})
    return candidates[0] if candidates else None


@functools.lru_cache(maxsize=4096)
def font_for_text(text: str) -> str | None:
    """The first font that has every letter of the text: Noto Sans, else an installed one; None if none has."""
    points = _letters(text)
    main = main_font_path()
    if main and points <= _cmap(main):
        return main
    candidates = _installed_fonts_with(points)
    return candidates[0] if candidates else None
