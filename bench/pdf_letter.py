#!/usr/bin/env python3
"""Benchmark: one-page EOI receipt letter, Latin-only vs English + Traditional Chinese.

Usage (from the repo root): python bench/pdf_letter.py [--runs N] [--no-hb-subset]

Renders templates/pdf/bench_letter.html with a plain jinja2 Environment through
app.documents.render.render_pdf, warms up once, times N renders of each, checks
the bilingual PDF embeds its fonts and gives back its Chinese text (poppler-utils),
and ends with exactly one line:
    pdf-letter: latin_ms=<median> bilingual_ms=<median> ratio=<bilingual/latin>
Exit status 1 when a check fails.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jinja2  # noqa: E402

from app.documents.render import DocumentRenderError, render_pdf  # noqa: E402

CHINESE_PROBE = "一站式入門網站"  # must come back out of pdftotext

LETTER = {
    "reference": "TB/EOI/2025/0147",
    "date": "23 November 2025",
    "vendor_name": "Harbour Digital Services Limited",
    "vendor_address": ["18/F, Example Tower", "88 Queen's Road Central", "Hong Kong"],
    "contact_name": "Ms Chan Tai-man",
    "submitted_at": "14:32 on 21 November 2025 (HKT)",
    "project_en": "“One-Stop Portal” Service Cluster Public-Private Partnership",
    "project_zh": "「一站式入門網站」服務群組公私營合作項目",
    "fees": [
        {"item_en": "EOI document fee", "item_zh": "意向書文件費", "amount": "1,500.00"},
        {"item_en": "Bid bond (refundable)", "item_zh": "投標保證金（可退還）", "amount": "250,000.00"},
        {"item_en": "Total", "item_zh": "總額", "amount": "251,500.00"},
    ],
}


def template_env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(ROOT / "templates")),
        autoescape=True,  # same as the app's env for .html
    )


def letter_html(bilingual: bool, env: jinja2.Environment | None = None, **overrides) -> str:
    env = env or template_env()
    return env.get_template("pdf/bench_letter.html").render(
        lang="en", bilingual=bilingual, letter={**LETTER, **overrides})


def time_renders(html: str, runs: int) -> tuple[float, bytes]:
    pdf = render_pdf(html)  # warm-up: font configuration, @font-face loading
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        pdf = render_pdf(html)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000, pdf


def check_pdf(pdf: bytes) -> list[str]:
    problems = []
    for tool in ("pdftotext", "pdffonts", "pdfinfo"):
        if shutil.which(tool) is None:
            return [f"{tool} not found: install the Debian package poppler-utils"]
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(pdf)
        handle.flush()
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", handle.name, "-"],
                              capture_output=True, text=True, check=True).stdout
        font_lines = subprocess.run(["pdffonts", handle.name], capture_output=True,
                                    text=True, check=True).stdout.splitlines()[2:]
        xmp = subprocess.run(["pdfinfo", "-meta", handle.name], capture_output=True,
                             text=True, check=True).stdout
        pages = subprocess.run(["pdfinfo", handle.name], capture_output=True,
                               text=True, check=True).stdout
    if CHINESE_PROBE not in text.replace("\n", ""):
        problems.append(f"Chinese text {CHINESE_PROBE!r} not extractable by pdftotext")
    cjk = [line for line in font_lines if "CJK" in line]
    if not cjk:
        problems.append("CJK font not used (pdffonts lists no TB-CJK font)")
    for line in font_lines:
        # columns: name type... encoding emb sub uni objectID gen
        if line.split()[-5] != "yes":
            problems.append(f"font not embedded: {line}")
    if 'pdfaid:part="3"' not in xmp:  # the XMP stream is compressed: ask poppler
        problems.append("no PDF/A-3 identification in XMP metadata")
    if "Pages:           1\n" not in pages:
        problems.append("letter is not one page")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description="PDF letter render benchmark")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--no-hb-subset", action="store_true",
                        help="simulate a host without libharfbuzz-subset0 (WeasyPrint's fontTools fallback)")
    args = parser.parse_args()
    if args.no_hb_subset:
        import weasyprint.pdf.fonts
        weasyprint.pdf.fonts.harfbuzz_subset = None

    env = template_env()
    try:
        latin_ms, _ = time_renders(letter_html(False, env), args.runs)
        bilingual_ms, pdf = time_renders(letter_html(True, env), args.runs)
    except DocumentRenderError as exc:
        print(f"pdf-letter: render failed: {exc}", file=sys.stderr)
        return 1
    problems = check_pdf(pdf)
    if os.environ.get("PDF_LETTER_OUT"):
        Path(os.environ["PDF_LETTER_OUT"]).write_bytes(pdf)
    for problem in problems:
        print(f"pdf-letter: CHECK FAILED: {problem}", file=sys.stderr)
    print(f"pdf-letter: latin_ms={latin_ms:.1f} bilingual_ms={bilingual_ms:.1f} "
          f"ratio={bilingual_ms / latin_ms:.2f}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
