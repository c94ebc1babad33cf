"""States and transition tables of the scoring area: score sheets (draft -> submitted -> reopened -> submitted) and
the panel's technical evaluation (scoring -> signed off by the chair; the scores are frozen from then on).
Evaluation criteria have no state of their own: they follow the exercise (editable while it is a draft)."""
from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class ScoreSheetState(str, enum.Enum):
    draft = "draft"
    submitted = "submitted"
    reopened = "reopened"

    @property
    def title(self) -> str:
        return str({ScoreSheetState.draft: _l("Scoring"), ScoreSheetState.submitted: _l("Submitted"),
                    ScoreSheetState.reopened: _l("Reopened by the chair")}[self])


SCORE_SHEET_TRANSITIONS = {
    ScoreSheetState.draft: {ScoreSheetState.submitted},
    ScoreSheetState.submitted: {ScoreSheetState.reopened},
    ScoreSheetState.reopened: {ScoreSheetState.submitted},
}


class PanelState(str, enum.Enum):
    """The panel's technical evaluation: scoring until the chair signs it off (one action, audited); after the
    sign-off no sheet is reopened or saved and no consensus changes, and a tender's price envelopes may be opened."""
    scoring = "scoring"
    signed_off = "signed_off"

    @property
    def title(self) -> str:
        return str({PanelState.scoring: _l("Technical evaluation in progress"),
                    PanelState.signed_off: _l("Technical evaluation signed off")}[self])


PANEL_TRANSITIONS = {
    PanelState.scoring: {PanelState.signed_off},
}
