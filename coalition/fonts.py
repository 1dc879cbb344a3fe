"""Fonts for the images the site draws, from an installed package (never a file in this project).

Noto Sans comes from PyPI's ``fontpkg-noto-sans``; it has the Latin letters Spanish needs
("Campaña"), which Pillow's built-in bitmap font draws as boxes.
"""

from __future__ import annotations

from pathlib import Path

#: The scripts Noto Sans covers.
_MAIN_FONT_SCRIPTS = ("latin", "greek", "cyrillic", "vietnamese")


def main_font_path() -> str | None:
    """Noto Sans (a variable font) from the installed ``fontpkg-noto-sans``; None if not installed."""
    try:
        import fontpkg_noto_sans
    except ImportError:
        return None
    path = Path(fontpkg_noto_sans.ROOT) / "files" / "NotoSans[wdth,wght].ttf"
    return str(path) if path.is_file() else None


def font_path(script: str = "latin") -> str | None:
    """A font file for a script, or None when no installed font is known to have it."""
    return main_font_path() if script in _MAIN_FONT_SCRIPTS else None
