"""Views of the eoi area: public pages, vendor pages, officer pages (one module each), and its panels on the home page."""
from eoi.views import home, officer, public, vendor  # noqa: F401
