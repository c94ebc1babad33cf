#!/usr/bin/env python3
"""Prepare the reduced fonts the PDF renderer embeds (writes var/fonts/).

Usage: python scripts/prepare_fonts.py [--force]

Why: WeasyPrint subsets every embedded font on every render. Starting from a
small single-face TrueType font with no hinting keeps that step cheap, and
pins the CJK font to a known file instead of whatever fontconfig finds.

Sources (Debian packages):
  fonts-dejavu-core   /usr/share/fonts/truetype/dejavu/DejaVuSans{,-Bold}.ttf
  fonts-wqy-microhei  /usr/share/fonts/truetype/wqy/wqy-microhei.ttc (TrueType outlines)

Idempotent: a manifest records the recipe version and each source's size and
mtime; matching outputs are left alone. Outputs are written atomically.
Exit status: 0 ok, 2 source font missing, 1 other failure.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "var" / "fonts"
MANIFEST = OUT_DIR / "manifest.json"
RECIPE_VERSION = 1  # bump when the character sets or options below change

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
WQY_TTC = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
WQY_FAMILY = "WenQuanYi Micro Hei"  # the proportional face of the collection (not "Mono")


def _ranges(*pairs: tuple[int, int]) -> set[int]:
    return {cp for lo, hi in pairs for cp in range(lo, hi + 1)}


# Latin: English/European names, punctuation, currency, ticks and boxes for forms.
LATIN_CODEPOINTS = _ranges(
    (0x20, 0x7E), (0xA0, 0x24F), (0x2B0, 0x2FF), (0x2000, 0x206F), (0x20A0, 0x20CF),
    (0x2100, 0x214F), (0x2190, 0x2199), (0x2212, 0x2212), (0x2264, 0x2265),
    (0x25A0, 0x25FF), (0x2610, 0x2612), (0x2713, 0x2718), (0xFB00, 0xFB06), (0xFFFD, 0xFFFD),
)

# Punctuation/forms used around CJK text whether or not the codecs below list them.
CJK_EXTRA_CODEPOINTS = _ranges(
    (0x20, 0x7E), (0xA0, 0xFF), (0x2000, 0x206F), (0x2100, 0x214F), (0x2460, 0x24FF),
    (0x2500, 0x257F), (0x3000, 0x303F), (0x3100, 0x312F), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF),
)


def encodable(*codecs: str) -> set[int]:
    """Code points a Hong Kong letter can need: all of Big5-HKSCS, plus GB2312 so
    mainland company names in simplified characters still render."""
    found = set()
    for cp in range(0x80, 0x30000):
        char = chr(cp)
        for codec in codecs:
            try:
                char.encode(codec)
            except UnicodeEncodeError:
                continue
            found.add(cp)
            break
    return found


def _options() -> subset.Options:
    options = subset.Options()
    options.hinting = False  # PDF viewers do their own rasterising; hinting is dead weight
    options.drop_tables += ["FFTM", "gasp", "DSIG", "vhea", "vmtx", "VORG"]  # no vertical text
    options.name_IDs = ["*"]  # keep copyright/licence strings
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.glyph_names = False
    return options


def _load_face(path: Path, family: str | None) -> TTFont:
    if path.suffix.lower() != ".ttc":
        return TTFont(path)
    for index in range(16):
        try:
            font = TTFont(path, fontNumber=index)
        except Exception:
            break
        if family is None or font["name"].getDebugName(1) == family:
            return font
    raise SystemExit(f"prepare_fonts: no face named {family!r} in {path}")


def _build(source: Path, family: str | None, codepoints: set[int], target: Path) -> None:
    font = _load_face(source, family)
    subsetter = subset.Subsetter(_options())
    subsetter.populate(unicodes=codepoints & set(font.getBestCmap()))
    subsetter.subset(font)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".tmp")
    os.close(fd)
    try:
        font.save(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; the web/worker user must read it
        os.replace(tmp, target)  # atomic: a render never sees a half-written font
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _jobs():
    # (output name, source, face family, code points) - names match app/documents/fonts.py
    return [
        ("tb-latin-regular.ttf", DEJAVU_DIR / "DejaVuSans.ttf", None, lambda: LATIN_CODEPOINTS),
        ("tb-latin-bold.ttf", DEJAVU_DIR / "DejaVuSans-Bold.ttf", None, lambda: LATIN_CODEPOINTS),
        ("tb-cjk-regular.ttf", WQY_TTC, WQY_FAMILY,
         lambda: CJK_EXTRA_CODEPOINTS | encodable("big5hkscs", "gb2312")),
    ]


def _stamp(source: Path) -> dict:
    stat = source.stat()
    return {"source": str(source), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
            "recipe": RECIPE_VERSION}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args(argv)

    jobs = _jobs()
    missing = [str(source) for _, source, _, _ in jobs if not source.is_file()]
    if missing:
        print("prepare_fonts: source font(s) missing: " + ", ".join(missing) +
              "\n  install the Debian packages: apt-get install fonts-dejavu-core fonts-wqy-microhei",
              file=sys.stderr)
        return 2

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    try:
        manifest = json.loads(MANIFEST.read_text())
    except (OSError, ValueError):
        manifest = {}

    for name, source, family, codepoints in jobs:
        target = OUT_DIR / name
        entry = manifest.get(name, {})
        stamp = _stamp(source)
        if (not args.force and target.is_file()
                and all(entry.get(k) == v for k, v in stamp.items())
                and entry.get("sha256") == _sha256(target)):
            print(f"prepare_fonts: {target.relative_to(ROOT)} up to date")
            continue
        _build(source, family, codepoints(), target)
        manifest[name] = {**stamp, "sha256": _sha256(target)}
        print(f"prepare_fonts: wrote {target.relative_to(ROOT)} ({target.stat().st_size // 1024} KiB)")

    tmp = MANIFEST.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, MANIFEST)
    return 0


if __name__ == "__main__":
    sys.exit(main())
