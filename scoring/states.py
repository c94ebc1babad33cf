"""States and transition tables of the scoring area: score sheets (draft -> submitted -> reopened -> submitted).
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
