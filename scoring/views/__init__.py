"""Pages of the scoring area: criteria (officers), panels and progress, declarations, score sheets, moderation."""
from scoring.views.criteria import criteria_link_panel, criteria_panel  # noqa: F401
from scoring.views import panels, report, results, sheets  # noqa: F401,E402
