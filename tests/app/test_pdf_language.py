"""Generated PDFs speak the document's language throughout: dates, sizes, labels and the page footer."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from app.documents.models import Document
from app.documents.service import build_pdf
from app.extensions import db
from eoi.models import SubmissionVersion
from tests.factories import create_published_exercise, create_submission, create_vendor_user

pytestmark = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils (pdftotext) is not installed")


def _text(pdf: bytes, tmp_path: Path, name: str) -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    if os.environ.get("TENDERBOX_KEEP_PDF"):  # for looking at the pages: pdftoppm -png
        shutil.copy(path, Path(os.environ["TENDERBOX_KEEP_PDF"]) / path.name)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


@pytest.mark.parametrize("language, expected, foreign", [
    ("en", [r"Page 1 of 1", r"Receipt for a submitted proposal", r"\d{4}, \d\d:\d\d:\d\d"], [r"頁"]),
    ("zh_Hant", [r"第 1 頁，共 1 頁", r"\d{4}年\d+月\d+日 [上下]午\d+:\d\d:\d\d"],
     [r"Page 1 of", r"Receipt for a submitted proposal", r"\[\+0800\]", r"晚上"]),
])
def test_the_receipt_pdf_is_in_one_language_with_a_translated_page_footer(app, tmp_path, language, expected, foreign):
    vendor = create_vendor_user(locale=language)
    exercise = create_published_exercise()
    create_submission(exercise, vendor, file_name="method.pdf")
    version = db.session.scalar(db.select(SubmissionVersion))
    doc = db.session.get(Document, version.receipt_document_id)
    doc.language = language
    text = " ".join(_text(build_pdf(doc), tmp_path, f"receipt-{language}").split())
    for pattern in expected:
        assert re.search(pattern, text), pattern
    for pattern in foreign:
        assert not re.search(pattern, text), pattern
