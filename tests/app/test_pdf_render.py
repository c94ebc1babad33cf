"""PDF rendering: fonts embedded, Chinese extractable, PDF/A, restricted fetching, escaping.

Needs the prepared fonts (python scripts/prepare_fonts.py) and poppler-utils.
"""
from __future__ import annotations

import http.server
import importlib.util
import os
import re
import shutil
import subprocess
import threading
import time
import zlib
from pathlib import Path

import pytest
from weasyprint.urls import FatalURLFetchingError

from app.documents import fonts, render
from app.documents.render import DocumentRenderError, RestrictedURLFetcher, render_pdf

ROOT = Path(__file__).resolve().parents[2]
ASSET = render.ASSET_BASE_URL


def _load_bench():
    # The letter template and its sample data live with the benchmark: one source of truth.
    spec = importlib.util.spec_from_file_location("bench_pdf_letter", ROOT / "bench" / "pdf_letter.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} not installed (Debian package poppler-utils)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def _run(tool: str, pdf: bytes, tmp_path: Path, *args: str) -> str:
    target = tmp_path / f"doc-{time.monotonic_ns()}.pdf"
    target.write_bytes(pdf)
    return subprocess.run([_tool(tool), *args, str(target), *(["-"] if tool == "pdftotext" else [])],
                          capture_output=True, text=True, check=True).stdout


def _text(pdf: bytes, tmp_path: Path) -> str:
    return _run("pdftotext", pdf, tmp_path, "-enc", "UTF-8")


def _inflated_streams(pdf: bytes):
    # WeasyPrint compresses streams (XMP included); inflate each one we can.
    for match in re.finditer(rb"stream\r?\n", pdf):
        try:
            yield zlib.decompressobj().decompress(pdf[match.end():])
        except zlib.error:
            continue


@pytest.fixture(scope="module")
def bilingual_pdf() -> bytes:
    return render_pdf(bench.letter_html(True))


def test_bilingual_letter_is_a_one_page_pdf(bilingual_pdf, tmp_path):
    assert bilingual_pdf.startswith(b"%PDF-")
    assert "Pages:           1\n" in _run("pdfinfo", bilingual_pdf, tmp_path)


def test_chinese_and_english_text_extractable(bilingual_pdf, tmp_path):
    text = _text(bilingual_pdf, tmp_path).replace("\n", "")
    assert "「一站式入門網站」服務群組公私營合作項目" in text
    assert "個人資料（私隱）條例" in text
    assert "HK$250,000.00" in text
    assert "Tenderbox — EOI submission receipt" in text  # running header
    assert "Page 1 of 1" in text  # footer counters


def test_prepared_fonts_embedded(bilingual_pdf, tmp_path):
    rows = _run("pdffonts", bilingual_pdf, tmp_path).splitlines()[2:]
    by_name = {row.split()[0].split("+", 1)[-1]: row.split() for row in rows}
    assert "TB-CJK" in by_name, rows  # the prepared CJK file, not a fontconfig fallback
    assert "TB-Latin" in by_name, rows
    for name, cols in by_name.items():
        emb, sub, uni = cols[-5], cols[-4], cols[-3]
        assert (emb, sub, uni) == ("yes", "yes", "yes"), f"{name}: {cols}"


def test_pdfa_identification_in_xmp(bilingual_pdf):
    xmp = [s for s in _inflated_streams(bilingual_pdf) if b"x:xmpmeta" in s or b"rdf:RDF" in s]
    assert xmp, "no XMP metadata stream"
    assert any(b'pdfaid:part="3"' in s and b'pdfaid:conformance="U"' in s for s in xmp)


def test_user_text_is_escaped_not_markup(tmp_path):
    pdf = render_pdf(bench.letter_html(False, vendor_name="<script>alert(1)</script> & <b>Co</b>"))
    text = _text(pdf, tmp_path)
    assert "<script>alert(1)</script> & <b>Co</b>" in text


def test_harfbuzz_subset_library_present():
    # Without libharfbuzz-subset0 WeasyPrint subsets with fontTools: ~0.85 s per bilingual letter.
    assert render.harfbuzz_subset_available(), "install the Debian package libharfbuzz-subset0"


# --- restricted fetcher ------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "FILE:///etc/passwd",
    "http://127.0.0.1:9/x",
    "https://127.0.0.1:9/x",
    "https://example.com/assets/fonts/tb-cjk-regular.ttf",
    "http://tenderbox.invalid/assets/fonts/tb-cjk-regular.ttf",
    "https://tenderbox.invalid.example.com/assets/fonts/tb-cjk-regular.ttf",
    "https://user@tenderbox.invalid/assets/fonts/tb-cjk-regular.ttf",
    "ftp://127.0.0.1/x",
    "/etc/passwd",
    f"{ASSET}../../etc/passwd",
    f"{ASSET}fonts/../../../../etc/passwd",
    f"{ASSET}fonts/%2e%2e/%2e%2e/app/documents/render.py",
    f"{ASSET}fonts/..%2f..%2fapp%2fdocuments%2frender.py",
    f"{ASSET}fonts//etc/passwd",
    f"{ASSET}fonts/%2fetc%2fpasswd",
    f"{ASSET}etc/passwd",
    f"{ASSET}fonts/no-such-font.ttf",
    f"{ASSET}fonts",
])
def test_fetcher_refuses(url):
    with pytest.raises(FatalURLFetchingError):
        RestrictedURLFetcher()(url)


def test_fetcher_serves_own_assets_and_data_urls():
    fetcher = RestrictedURLFetcher()
    font = fetcher(f"{ASSET}fonts/{fonts.CJK_REGULAR.name}").read(4)
    assert font == b"\x00\x01\x00\x00"  # TrueType
    assert fetcher(f"{ASSET}pdf/pdf.css").read().startswith(b"/*")
    assert fetcher("data:text/plain;base64,aGVsbG8=").read() == b"hello"


def test_fetcher_refuses_symlink_out_of_root(tmp_path):
    root = tmp_path / "static"
    root.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (root / "ok.txt").write_text("ok")
    (root / "link.txt").symlink_to(secret)
    fetcher = RestrictedURLFetcher(roots={"static": root})
    assert fetcher(f"{ASSET}static/ok.txt").read() == b"ok"
    with pytest.raises(FatalURLFetchingError):
        fetcher(f"{ASSET}static/link.txt")


@pytest.fixture
def canary(tmp_path):
    """An SVG whose text would show up in pdftotext if anything fetched it, and an
    HTTP server on 127.0.0.1 that counts requests."""
    svg = tmp_path / "canary.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40">'
                   '<text x="0" y="20" font-size="12">CANARY7731</text></svg>')
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            body = svg.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "image/svg+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield svg.as_uri(), f"http://127.0.0.1:{server.server_address[1]}/x.svg", hits
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("snippet", [
    '<img src="{file}">',
    '<p style="background: url({file})">x</p>',
    '<style>p {{ background-image: url("{file}") }}</style><p>x</p>',
    '<img src="{http}">',
    '<style>@import url("{http}");</style><p>x</p>',
    '<img src="file:///etc/passwd">',
    '<p style="background: url(file:///etc/passwd)">x</p>',
    '<img src="http://127.0.0.1:9/x">',
])
def test_render_does_not_fetch_foreign_urls(snippet, canary):
    # Our fetcher refuses fatally, so the whole render stops: nothing half-rendered,
    # nothing read, no request made. (A permissive fetcher renders the canary and hits the server.)
    file_url, http_url, hits = canary
    html = f"<p>before</p>{snippet.format(file=file_url, http=http_url)}<p>after</p>"
    with pytest.raises(DocumentRenderError, match="refused"):
        render_pdf(html)
    assert hits == []


def test_base_url_must_be_an_asset_url():
    with pytest.raises(DocumentRenderError, match="base_url must be under"):
        render_pdf('<img src="passwd">', base_url="file:///etc/")


# --- fonts ---------------------------------------------------------------------------------

def test_missing_prepared_font_fails_clearly(monkeypatch, tmp_path):
    monkeypatch.setattr(fonts, "PREPARED_FONTS", (*fonts.PREPARED_FONTS, tmp_path / "gone.ttf"))
    with pytest.raises(DocumentRenderError, match="prepare_fonts.py"):
        render_pdf("<p>x</p>")


def test_prepare_fonts_exits_nonzero_without_source(monkeypatch, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("prepare_fonts", ROOT / "scripts" / "prepare_fonts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "WQY_TTC", tmp_path / "missing.ttc")
    monkeypatch.setattr(module, "OUT_DIR", tmp_path / "out")
    assert module.main([]) == 2
    assert "fonts-wqy-microhei" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
