"""Who may see and do what with contracts: officers manage them; approvers and administrators read them; a
contractor's users see only their own company's contracts and file its KPI reports (tests/contracts/test_access.py)."""
from __future__ import annotations

from app.auth.models import Role
from contracts.models import Contract, KpiReport, PerformanceReport
from contracts.states import ContractState, KpiReportState

STAFF_READERS = frozenset({Role.officer, Role.approver, Role.admin})


def can_manage_contracts(user) -> bool:
    """Procurement officers create contracts, draft their terms, issue, sign, vary and close them."""
    return getattr(user, "role", None) == Role.officer


def can_view_register(user) -> bool:
    return getattr(user, "role", None) in STAFF_READERS


def can_view_contract(user, contract: Contract) -> bool:
    """Staff readers see every contract; a vendor user only its own company's (others get 404)."""
    if getattr(user, "role", None) in STAFF_READERS:
        return True
    return getattr(user, "role", None) == Role.vendor and user.vendor_id == contract.vendor_id


def can_edit_terms(user, contract: Contract) -> bool:
    return can_manage_contracts(user) and contract.state == ContractState.draft


def can_issue(user, contract: Contract) -> bool:
    version = contract.current_version
    return (can_manage_contracts(user) and version is not None and version.document_id is None
            and contract.state not in (ContractState.completed, ContractState.terminated))


def can_sign(user, contract: Contract) -> bool:
    return can_manage_contracts(user) and contract.state == ContractState.draft


def can_activate(user, contract: Contract) -> bool:
    return can_manage_contracts(user) and contract.state == ContractState.signed


def can_close(user, contract: Contract) -> bool:
    return can_manage_contracts(user) and contract.state in (ContractState.signed, ContractState.active)


def can_complete(user, contract: Contract) -> bool:
    return can_manage_contracts(user) and contract.state == ContractState.active


def can_vary(user, contract: Contract) -> bool:
    return can_close(user, contract)


def can_file_report(user, contract: Contract) -> bool:
    """The contractor's users file KPI reports for an active contract."""
    return (getattr(user, "role", None) == Role.vendor and user.vendor_id == contract.vendor_id
            and contract.state == ContractState.active)


def can_view_report(user, report: KpiReport) -> bool:
    return can_view_contract(user, report.contract)


def can_review_report(user, report: KpiReport) -> bool:
    return can_manage_contracts(user) and report.state == KpiReportState.submitted


def can_refile_report(user, report: KpiReport) -> bool:
    return (getattr(user, "role", None) == Role.vendor and user.vendor_id == report.contract.vendor_id
            and report.state == KpiReportState.queried)


def can_issue_letters(user, exercise) -> bool:
    """Procurement officers issue an exercise's letters (once results exist; contracts.letters refuses before)."""
    return getattr(user, "role", None) == Role.officer and exercise.is_opened


def can_view_letter(user, letter) -> bool:
    """A letter goes to its company's users only (others get 404); staff readers see every letter."""
    if getattr(user, "role", None) in STAFF_READERS:
        return True
    return getattr(user, "role", None) == Role.vendor and user.vendor_id == letter.vendor_id


def can_request_performance_report(user, contract: Contract) -> bool:
    """Officers ask for a contract year's performance report once the contract is signed."""
    return can_manage_contracts(user) and contract.state != ContractState.draft


def can_download_performance_report(user, report: PerformanceReport) -> bool:
    """Whoever sees the contract (staff readers, the contractor's users) downloads its reports; others get 404."""
    return can_view_contract(user, report.contract)


# --- decisions (contracts.decisions holds the segregation-of-duties rules they share with the operations) ---------

def can_view_decisions(user) -> bool:
    return getattr(user, "role", None) in STAFF_READERS


def can_record_decision(user, exercise) -> bool:
    from contracts.decisions import evaluation_outstanding, live_decision
    return (can_manage_contracts(user) and evaluation_outstanding(exercise) is None
            and live_decision(exercise) is None)


def can_revise_decision(user, decision) -> bool:
    from contracts.states import DecisionState
    return can_manage_contracts(user) and decision.state == DecisionState.returned


def can_approve_decision(user, decision) -> bool:
    """An approver who neither recorded the decision nor sat on the exercise's panel, while it awaits approval."""
    from contracts.decisions import approval_refusal
    return approval_refusal(user, decision) is None


def can_finalise_award(user, decision) -> bool:
    from app.db import now_utc
    from contracts.states import DecisionKind, DecisionState
    return (can_manage_contracts(user) and decision.kind == DecisionKind.award
            and decision.state == DecisionState.approved and now_utc() >= decision.standstill_ends_at
            and not decision.open_challenges)


def can_answer_challenges(user, decision) -> bool:
    return can_manage_contracts(user) and bool(decision.open_challenges)


def can_decline_award(user, decision) -> bool:
    from contracts.states import DecisionKind, DecisionState
    return (can_manage_contracts(user) and decision.kind == DecisionKind.award
            and decision.state in (DecisionState.approved, DecisionState.final))


def can_create_contract_from(user, decision) -> bool:
    from contracts.states import DecisionKind, DecisionState
    return (can_manage_contracts(user) and decision.kind == DecisionKind.award
            and decision.state == DecisionState.final)


def can_view_decision_as_vendor(user, decision) -> bool:
    """A company that took part sees an approved decision's outcome for itself (and challenges an award)."""
    from contracts.decisions import ANNOUNCED_STATES, participant_vendor_ids
    return (getattr(user, "role", None) == Role.vendor and decision.state in ANNOUNCED_STATES
            and user.vendor_id in participant_vendor_ids(decision.exercise))


def can_challenge(user, decision) -> bool:
    from contracts.decisions import challenge_refusal
    return challenge_refusal(user, decision) is None
