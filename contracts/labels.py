"""Labels of the contracts area's audit action codes, shown on the audit log in the reader's language."""
from flask_babel import lazy_gettext as _l

ACTIONS = {
    "contract.created": _l("Contract created"),
    "contract.fee_added": _l("Contract fee added"),
    "contract.kpi_added": _l("Contract KPI added"),
    "contract.kpis_prefilled": _l("Contract KPIs pre-filled from the proposal"),
    "contract.kpi_updated": _l("Contract KPI changed"),
    "contract.kpi_removed": _l("Contract KPI removed"),
    "contract.performance_report_requested": _l("Annual performance report requested"),
    "contract.milestone_added": _l("Contract milestone added"),
    "contract.risk_added": _l("Contract risk added"),
    "contract.issued": _l("Contract issued"),
    "contract.signed": _l("Contract signed"),
    "contract.activated": _l("Contract started"),
    "contract.completed": _l("Contract completed"),
    "contract.terminated": _l("Contract terminated"),
    "contract.varied": _l("Contract varied"),
    "contract.milestone_paid": _l("Contract milestone paid"),
    "kpi_report.filed": _l("KPI report filed"),
    "kpi_report.accepted": _l("KPI report accepted"),
    "kpi_report.queried": _l("KPI report queried"),
    "kpi_report.refiled": _l("KPI report filed again"),
    "letters.issued": _l("Letters to the vendors issued"),
    "letters.deferred": _l("Letters not issued at approval (the reason is recorded)"),
}
OBJECTS = {
    "Contract": _l("Contract"),
    "ContractFee": _l("Contract fee"),
    "ContractVersion": _l("Contract version"),
    "Kpi": _l("Key performance indicator"),
    "KpiReport": _l("KPI report"),
    "KpiResult": _l("KPI result"),
    "Letter": _l("Letter"),
    "LetterBatch": _l("Batch of letters"),
    "Milestone": _l("Milestone"),
    "PerformanceReport": _l("Annual performance report"),
    "Risk": _l("Risk"),
}
ACTIONS |= {
    "decision.recorded": _l("Decision recorded"),
    "decision.resubmitted": _l("Decision revised and resubmitted"),
    "decision.approved": _l("Decision approved"),
    "decision.returned": _l("Decision returned"),
    "decision.approval_refused": _l("Decision approval refused"),
    "decision.outcomes_fixed": _l("Decision outcomes fixed for the letters"),
    "decision.final": _l("Decision final"),
    "decision.declined": _l("Award declined or rejected"),
    "decision.challenged": _l("Award challenged"),
    "decision.challenge_refused": _l("Challenge refused"),
    "decision.challenge_answered": _l("Challenge answered"),
    "exercise.decided": _l("Exercise decided"),
}
OBJECTS |= {
    "Decision": _l("Decision"),
    "DecisionEntry": _l("Decision entry"),
    "Challenge": _l("Challenge"),
}
