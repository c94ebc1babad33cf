"""HTML -> PDF/A through WeasyPrint, with a fetcher that can only read our own assets.

Usable without a Flask app: callers pass finished HTML (rendered from
templates/pdf/*.html) and get PDF bytes back.

Asset URLs: ``https://tenderbox.invalid/assets/<root>/<path>`` where <root> is
``static`` (app/static/), ``pdf`` (templates/pdf/) or ``fonts`` (var/fonts/).
The ``.invalid`` TLD can never resolve, and the fetcher maps these URLs to
files itself - nothing is ever fetched over the network or via file://.
Relative URLs in documents resolve against ``ASSET_BASE_URL``, so
``<img src="static/img/logo.png">`` works.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

import weasyprint
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcherResponse

from app.documents import fonts
from app.documents.errors import DocumentRenderError

log = logging.getLogger(__name__)

ROOT = fonts.ROOT
ASSET_HOST = "tenderbox.invalid"
ASSET_BASE_URL = f"https://{ASSET_HOST}/assets/"
ASSET_ROOTS = {
    "static": ROOT / "app" / "static",
    "pdf": ROOT / "templates" / "pdf",
    "fonts": fonts.FONTS_DIR,
}
PDF_CSS = ASSET_ROOTS["pdf"] / "pdf.css"
PDF_VARIANT = "pdf/a-3u"  # archival, Unicode-mapped text (so copy/search of Chinese works)
_MAX_ASSET_BYTES = 20 * 1024 * 1024


class AssetRefused(FatalURLFetchingError):
    """A URL the PDF tried to load is not one of our assets. Fatal: stops the render."""


class RestrictedURLFetcher(weasyprint.URLFetcher):
    """Serve data: URLs and files under ASSET_ROOTS; refuse everything else.

    No network, no file://, no redirects (never followed: we never make requests).
    """

    def __init__(self, roots: dict[str, Path] | None = None):
        # fail_on_errors: any error (e.g. a missing font) aborts instead of a silent warning.
        super().__init__(allowed_protocols=("data",), allow_redirects=False, fail_on_errors=True)
        self._roots = {name: path.resolve() for name, path in (roots or ASSET_ROOTS).items()}

    def fetch(self, url, headers=None):
        if url[:5].lower() == "data:":
            return super().fetch(url, headers)  # urllib's DataHandler decodes it, no I/O
        path = self.resolve(url)
        try:
            with path.open("rb") as handle:
                body = handle.read(_MAX_ASSET_BYTES + 1)
        except OSError as exc:
            raise AssetRefused(f"asset unreadable: {url} ({exc.strerror})") from None
        if len(body) > _MAX_ASSET_BYTES:
            raise AssetRefused(f"asset too large: {url}")
        return URLFetcherResponse(url, body)

    def resolve(self, url: str) -> Path:
        """Map an asset URL to a file inside its root, or raise AssetRefused."""
        try:
            parts = urlsplit(url)
        except ValueError:
            raise AssetRefused(f"malformed URL refused: {url!r}") from None
        if parts.scheme != "https" or parts.netloc != ASSET_HOST or not parts.path.startswith("/assets/"):
            raise AssetRefused(f"URL refused (only {ASSET_BASE_URL}... and data: are allowed): {url!r}")
        segments = parts.path[len("/assets/"):].split("/")
        decoded = [unquote(segment) for segment in segments]
        # Check after decoding so %2e%2e / %2f can't smuggle a traversal through.
        if len(decoded) < 2 or any(
            seg in ("", ".", "..") or "/" in seg or "\\" in seg or "\x00" in seg for seg in decoded
        ):
            raise AssetRefused(f"asset path refused: {url!r}")
        root = self._roots.get(decoded[0])
        if root is None:
            raise AssetRefused(f"unknown asset root {decoded[0]!r}: {url!r}")
        path = root.joinpath(*decoded[1:]).resolve()
        # resolve() follows symlinks, so a link pointing outside the root is caught here.
        if not path.is_relative_to(root) or not path.is_file():
            raise AssetRefused(f"asset not found or outside {root.name}/: {url!r}")
        return path


_lock = threading.Lock()
_font_config: FontConfiguration | None = None
_fetcher = RestrictedURLFetcher()


def _shared_font_config() -> FontConfiguration:
    # One FontConfiguration per process: @font-face files are copied into
    # fontconfig once, not on every render. Call with _lock held.
    global _font_config
    if _font_config is None:
        if not harfbuzz_subset_available():
            log.warning("libharfbuzz-subset0 not found: WeasyPrint falls back to fontTools "
                        "and a bilingual PDF takes ~1 s instead of ~0.1 s; install it")
        _font_config = FontConfiguration()
    return _font_config


def harfbuzz_subset_available() -> bool:
    """True when WeasyPrint can subset fonts with HarfBuzz (fast) rather than fontTools."""
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

    return harfbuzz_subset is not None and bool(harfbuzz.hb_version_atleast(4, 1, 0))


def render_pdf(html: str, *, base_url: str | None = None) -> bytes:
    """Render finished HTML to PDF/A-3u bytes (tagged, fonts embedded).

    base_url must be ASSET_BASE_URL or below it (default ASSET_BASE_URL).
    Raises DocumentRenderError for missing fonts, refused/missing assets and
    any WeasyPrint failure.
    """
    base_url = base_url or ASSET_BASE_URL
    if not base_url.startswith(ASSET_BASE_URL):
        raise DocumentRenderError(f"base_url must be under {ASSET_BASE_URL}, got {base_url!r}")
    fonts.ensure_fonts_present()
    try:
        stylesheet_text = PDF_CSS.read_text(encoding="utf-8")
    except OSError as exc:
        raise DocumentRenderError(f"PDF stylesheet unreadable: {PDF_CSS} ({exc.strerror})") from None
    # Pango/fontconfig objects are not thread-safe; a process renders one PDF at a time.
    with _lock:
        font_config = _shared_font_config()
        try:
            # The stylesheet is passed as a string, never as a URL (CVE-2026-55073).
            css = weasyprint.CSS(
                string=stylesheet_text, base_url=ASSET_BASE_URL + "pdf/",
                url_fetcher=_fetcher, font_config=font_config,
            )
            document = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=_fetcher)
            pdf = document.write_pdf(
                stylesheets=[css], font_config=font_config,
                pdf_variant=PDF_VARIANT, pdf_tags=True,
            )
        except FatalURLFetchingError as exc:  # BaseException subclass: catch explicitly
            cause = exc if isinstance(exc, AssetRefused) else (exc.__cause__ or exc)
            raise DocumentRenderError(f"PDF asset refused: {cause}") from exc
        except Exception as exc:
            raise DocumentRenderError(f"WeasyPrint failed: {type(exc).__name__}: {exc}") from exc
    if not pdf or not pdf.startswith(b"%PDF"):
        raise DocumentRenderError("WeasyPrint produced no PDF output")
    return pdf
