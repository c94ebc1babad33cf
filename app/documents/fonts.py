"""Prepared PDF fonts: where they live and a check that they are there.

The fonts are reduced copies of Debian-packaged fonts, made at setup time by
`scripts/prepare_fonts.py`. Why: embedding a font in a PDF means subsetting it
on every render, and the cost grows with the size of the source font. The
prepared files are single-face TrueType, hinting dropped, cut down to the
characters our letters can contain, so per-render subsetting stays cheap and
the renderer never depends on whatever CJK font fontconfig would pick.
"""
from __future__ import annotations

from pathlib import Path

from app.documents.errors import DocumentRenderError

# Repo root = two parents up from app/documents/.
ROOT = Path(__file__).resolve().parents[2]
FONTS_DIR = ROOT / "var" / "fonts"

# File names are referenced from templates/pdf/pdf.css (asset URL .../assets/fonts/<name>).
LATIN_REGULAR = FONTS_DIR / "tb-latin-regular.ttf"  # DejaVu Sans, Latin subset
LATIN_BOLD = FONTS_DIR / "tb-latin-bold.ttf"  # DejaVu Sans Bold, Latin subset
CJK_REGULAR = FONTS_DIR / "tb-cjk-regular.ttf"  # WenQuanYi Micro Hei, Big5-HKSCS + GB2312 subset

PREPARED_FONTS = (LATIN_REGULAR, LATIN_BOLD, CJK_REGULAR)
PREPARE_COMMAND = "python scripts/prepare_fonts.py"


def missing_fonts() -> list[Path]:
    return [path for path in PREPARED_FONTS if not path.is_file()]


def ensure_fonts_present() -> None:
    """Raise DocumentRenderError naming the fix when a prepared font is missing."""
    missing = missing_fonts()
    if missing:
        names = ", ".join(str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p) for p in missing)
        raise DocumentRenderError(
            f"prepared PDF fonts missing ({names}); run `{PREPARE_COMMAND}` from the repo root "
            "(needs Debian packages fonts-wqy-microhei and fonts-dejavu-core)"
        )
