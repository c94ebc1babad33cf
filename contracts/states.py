"""States and transition tables of the contracts area: a contract (draft -> signed -> active -> completed |
terminated) and a contractor's KPI report (submitted -> accepted | queried; a queried report is filed again)."""
from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class ContractState(str, enum.Enum):
    draft = "draft"
    signed = "signed"
    active = "active"
    completed = "completed"
    terminated = "terminated"

    @property
    def title(self) -> str:
        return str(CONTRACT_STATE_TITLES[self])


CONTRACT_STATE_TITLES = {
    ContractState.draft: _l("Draft"),
    ContractState.signed: _l("Signed"),
    ContractState.active: _l("Active"),
    ContractState.completed: _l("Completed"),
    ContractState.terminated: _l("Terminated"),
}

CONTRACT_TRANSITIONS = {
    ContractState.draft: {ContractState.signed},
    ContractState.signed: {ContractState.active, ContractState.terminated},
    ContractState.active: {ContractState.completed, ContractState.terminated},
}


class KpiReportState(str, enum.Enum):
    submitted = "submitted"
    accepted = "accepted"
    queried = "queried"

    @property
    def title(self) -> str:
        return str({KpiReportState.submitted: _l("Submitted, awaiting review"),
                    KpiReportState.accepted: _l("Accepted"),
                    KpiReportState.queried: _l("Queried by the officer")}[self])


KPI_REPORT_TRANSITIONS = {
    KpiReportState.submitted: {KpiReportState.accepted, KpiReportState.queried},
    KpiReportState.queried: {KpiReportState.submitted},
}
