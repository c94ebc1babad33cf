"""States and transition tables of the scoring area (ScoreSheetState comes with panels and score sheets).
Evaluation criteria have no state of their own: they follow the exercise (editable while it is a draft)."""
