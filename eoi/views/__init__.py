"""Views of the eoi area: public pages, vendor pages, officer pages (one module each)."""
from eoi.views import officer, public, vendor  # noqa: F401
