"""Labels of the scoring area's audit action codes, shown on the audit log in the reader's language."""
from flask_babel import lazy_gettext as _l

ACTIONS = {
    "exercise.criterion_added": _l("Evaluation criterion added"),
    "exercise.criterion_deleted": _l("Evaluation criterion deleted"),
    "exercise.evaluation_settings": _l("Evaluation settings changed"),
    "exercise.evaluation_started": _l("Evaluation started"),
    "panel.technical_signed_off": _l("Technical evaluation signed off"),
    "interest.added": _l("Interest recorded"),
    "interest.removed": _l("Interest removed"),
    "panel.access_refused": _l("Panel access refused"),
    "panel.assigned": _l("Proposals assigned to the panel"),
    "panel.assignment_excluded": _l("Member excluded from a proposal"),
    "panel.conflict_declared": _l("Conflict of interest declared"),
    "panel.formed": _l("Assessment panel formed"),
    "panel.member_added": _l("Panel member added"),
    "panel.member_removed": _l("Panel member removed"),
    "panel.reminded": _l("Panel reminded"),
    "panel.scores_exported": _l("Scores and justifications exported"),
    "score.changed": _l("Score changed"),
    "score.consensus_recorded": _l("Consensus score recorded"),
    "score_sheet.reopened": _l("Score sheet reopened"),
    "score_sheet.submitted": _l("Score sheet submitted"),
}
OBJECTS = {
    "Criterion": _l("Evaluation criterion"),
    "EvaluationSettings": _l("Evaluation settings"),
    "Panel": _l("Assessment panel"),
    "PanelMember": _l("Panel member"),
    "Assignment": _l("Proposal assignment"),
    "ConflictDeclaration": _l("Conflict-of-interest declaration"),
    "Interest": _l("Declared interest"),
    "ScoreSheet": _l("Score sheet"),
    "Score": _l("Score"),
    "ConsensusScore": _l("Consensus score"),
}
