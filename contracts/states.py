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


class DecisionKind(str, enum.Enum):
    """What an officer decides from the panel's recommendation: an EOI's shortlist (the vendors invited to the
    restricted tender) or a tender's award."""
    shortlist = "shortlist"
    award = "award"

    @property
    def title(self) -> str:
        return str({DecisionKind.shortlist: _l("Shortlist for the restricted tender"),
                    DecisionKind.award: _l("Award")}[self])


class DecisionState(str, enum.Enum):
    """submitted (awaiting an approver) -> approved (an award stands still for challenges) -> final; returned to
    the officer with a reason, then submitted again; an approved or final award whose tenderer declines or is
    rejected is `declined` (the next-ranked one is proposed in a new decision)."""
    submitted = "submitted"
    returned = "returned"
    approved = "approved"
    final = "final"
    declined = "declined"

    @property
    def title(self) -> str:
        return str(DECISION_STATE_TITLES[self])


DECISION_STATE_TITLES = {
    DecisionState.submitted: _l("Awaiting approval"),
    DecisionState.returned: _l("Returned to the officer"),
    DecisionState.approved: _l("Approved, in the standstill period"),
    DecisionState.final: _l("Final"),
    DecisionState.declined: _l("Declined or rejected"),
}

DECISION_TRANSITIONS = {
    DecisionState.submitted: {DecisionState.approved, DecisionState.returned},
    DecisionState.returned: {DecisionState.submitted},
    DecisionState.approved: {DecisionState.final, DecisionState.declined},
    DecisionState.final: {DecisionState.declined},
}
#: Decisions that stand (one at a time per exercise): a new decision waits until the standing one is declined.
LIVE_DECISION_STATES = (DecisionState.submitted, DecisionState.returned, DecisionState.approved, DecisionState.final)


class ChallengeState(str, enum.Enum):
    open = "open"
    answered = "answered"

    @property
    def title(self) -> str:
        return str({ChallengeState.open: _l("Awaiting the officer's answer"),
                    ChallengeState.answered: _l("Answered")}[self])


CHALLENGE_TRANSITIONS = {ChallengeState.open: {ChallengeState.answered}}
