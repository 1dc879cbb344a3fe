"""Fonts for documents the site draws (delivery packets, share cards), and which one can print a name.

The main font is Noto Sans (Latin, Greek, Cyrillic, Vietnamese), installed from PyPI as
``fontpkg-noto-sans``: no font file lives in this repository. For other scripts (Chinese,
Japanese, Korean, Arabic, Hebrew...) the system's installed fonts are asked through
fontconfig; where none has a name's letters, ``font_for_text`` says so (None) and the
caller marks the name instead of printing boxes or nothing.
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


@functools.cache
def main_font_path() -> str | None:
    """Noto Sans (a variable font) from the installed ``fontpkg-noto-sans``; None if not installed."""
    try:
        import fontpkg_noto_sans
    except ImportError:
        return None
    path = Path(fontpkg_noto_sans.ROOT) / "files" / "NotoSans[wdth,wght].ttf"
    return str(path) if path.is_file() else None


@functools.lru_cache(maxsize=64)
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


@functools.lru_cache(maxsize=256)
def _installed_fonts_with(points: tuple[int, ...]) -> tuple[str, ...]:
    """Installed font files (TrueType/OpenType) that fontconfig says have all these code points."""
    fc_list = shutil.which("fc-list")
    if not fc_list or not points:
        return ()
    charset = " ".join(f"{p:x}" for p in points)
    try:
        found = subprocess.run(  # nosec B603 - fixed program, arguments built from code points
            [fc_list, f":charset={charset}", "--format", "%{file}\n"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        return ()
    # Regular faces first, so a fallback name is not printed in bold italic.
    files = sorted({f for f in found if f.lower().endswith(_USABLE_SUFFIXES)},
                   key=lambda f: (any(w in f.lower() for w in ("bold", "italic", "oblique", "mono")), f))
    return tuple(files)


def font_path(script: str = "latin") -> str | None:
    """A font file for a script (``latin``, ``greek``, ``cyrillic``, ``cjk``, ``arabic``...), or None."""
    sample = SCRIPT_SAMPLES.get(script, script[:1])
    main = main_font_path()
    if main and ord(sample) in _cmap(main):
        return main
    candidates = _installed_fonts_with((ord(sample),))
    return candidates[0] if candidates else None


@functools.lru_cache(maxsize=4096)
def font_for_text(text: str) -> str | None:
    """The first font that has every letter of the text: Noto Sans, else an installed one; None if none has."""
    points = _letters(text)
    main = main_font_path()
    if main and points <= _cmap(main):
        return main
    for candidate in _installed_fonts_with(tuple(sorted(points))):
        if points <= _cmap(candidate):
            return candidate
    return None
