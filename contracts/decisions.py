"""Decisions with approval: the officer records a shortlist (EOI) or an award (tender) from the panel's
recommendation with a justification; an approver who took no part in the evaluation approves or returns it
(segregation of duties, enforced here); an approved award stands still for challenges before it is final; a declined
award makes way for the next-ranked tenderer. Operations take actor=, audit, flush and never commit; refusals raise
DecisionRefused with the reason (and `field`), the segregation and challenge refusals are audited after the rollback.

Letters (issue 11 item 2) hook in at `_on_decision_approved`; `decision_outcomes` says each company's outcome, and
contracts.letters.letters_due which of them a decision's letters still owe (a replacement award writes only to the
companies whose outcome changed)."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from app.audit import record
from app.auth.models import Role, User
from app.db import now_utc
from app.extensions import db
from app.guards import require_role
from app.i18n import list_separator
from app.states import transition
from contracts.models import Challenge, Decision, DecisionEntry
from contracts.operations import ContractRefused
from contracts.states import LIVE_DECISION_STATES, ChallengeState, DecisionKind, DecisionState
from eoi.models import Exercise, Invitation, Submission
from eoi.queries import standing_submissions
from eoi.states import ExerciseKind, ExerciseState

#: Decisions that are announced to the companies that took part (approved, then final or declined).
ANNOUNCED_STATES = (DecisionState.approved, DecisionState.final, DecisionState.declined)
#: Exercises a decision may be recorded on: the box was opened (the panel evaluates, or has).
DECIDABLE = (ExerciseState.opened, ExerciseState.evaluating, ExerciseState.decided)


class DecisionRefused(ContractRefused):
    """A refused decision action; the message is in the user's language, `field` names the form field."""


# --- the panel's recommendation -----------------------------------------------------------------

def _panel_results(exercise: Exercise) -> dict | None:
    from scoring.queries import panel_of, results_of
    panel = panel_of(exercise)
    if panel is None:
        return None
    results = results_of(panel)
    return None if "error" in results else results


def evaluation_outstanding(exercise: Exercise):
    """Why no decision can be recorded or approved on the exercise (a translatable message), or None once it can:
    a decision follows the panel's technical evaluation, signed off by its chair; a tender's award goes to a tender
    that passed it, and with a sealed price envelope follows the opening of the compliant tenders' prices. Without
    this an award could be made on proposals nobody evaluated."""
    from scoring.queries import panel_of
    if exercise.state == ExerciseState.cancelled:
        return _l("The exercise was cancelled: no decision follows it.")
    if exercise.state not in DECIDABLE:
        return _l("A decision follows the opening and evaluation of the proposals.")
    panel = panel_of(exercise)
    if panel is None:
        return _l("A decision follows the panel's evaluation: form the exercise's panel first.")
    if not panel.is_signed_off:
        return _l("A decision follows the panel's evaluation: its chair has not signed the technical evaluation off "
                  "yet.")
    if exercise.kind == ExerciseKind.tender and not panel.compliant:
        return _l("No tender passed the technical evaluation, so there is none to award: cancel the tender, with the "
                  "reason.")
    if exercise.has_price_envelope and exercise.price_opened_at is None:
        return _l("A tender's decision follows the opening of the compliant tenders' price envelopes by two of the "
                  "named officers.")
    return None


def ranked_submission_ids(exercise: Exercise) -> list[int]:
    """The proposals that pass the technical evaluation, best first (the order the next-ranked one is taken from)."""
    results = _panel_results(exercise)
    return [int(r.proposal) for r in results["results"] if r.passed] if results else []


def recommendation_for(exercise: Exercise) -> list[int]:
    """The submission ids the panel recommends: an EOI's shortlist in rank order, or a tender's one tenderer (a list
    of one, empty when no proposal passes or there are no results yet). Reads scoring's `results["recommended"]`
    (a list of ids in rank order where only the technical evaluation counts; for a tender with a price envelope the
    first by combined score, or None before the price opening) and, where scoring does not give it, the technical
    ranking."""
    results = _panel_results(exercise)
    if results is None:
        return []
    if "recommended" in results:
        recommended = results["recommended"]
    else:
        ranked = [int(r.proposal) for r in results["results"] if r.passed]
        recommended = ranked if exercise.kind == ExerciseKind.eoi else (ranked[0] if ranked else None)
    if recommended is None:  # a tender with a price envelope: none until the prices are opened
        return []
    if isinstance(recommended, (list, tuple)):  # an EOI, or a tender without a price envelope (technical only)
        ids = [int(i) for i in recommended]
        return ids if exercise.kind == ExerciseKind.eoi else ids[:1]
    return [int(recommended)]


# --- who may decide -----------------------------------------------------------------------------

def took_part(user, exercise: Exercise) -> bool:
    """Whether user sat on the exercise's panel in any role (chair, member, secretary; removed seats count)."""
    from scoring.models import Panel, PanelMember
    if getattr(user, "id", None) is None:
        return False
    return db.session.scalar(sa.select(sa.func.count(PanelMember.id)).join(Panel, Panel.id == PanelMember.panel_id)
                             .where(Panel.exercise_id == exercise.id, PanelMember.user_id == user.id)) > 0


def approval_refusal(user, decision: Decision):
    """Why user may not approve or return decision (a translatable message), or None when it may."""
    if getattr(user, "role", None) != Role.approver:
        return _l("Only approvers can approve or return a decision.")
    if decision.recorded_by_id == user.id:
        return _l("You recorded this decision: another approver must approve it.")
    if took_part(user, decision.exercise):
        return _l("You took part in the evaluation of this exercise: an approver who did not must approve it.")
    if decision.state != DecisionState.submitted:
        return _l("This decision is not awaiting approval (it is %(state)s).", state=decision.state.title)
    return evaluation_outstanding(decision.exercise)  # e.g. the exercise was cancelled while the decision waited


def challenge_refusal(user, decision: Decision):
    """Why user may not lodge a challenge to decision now, or None when it may."""
    if getattr(user, "role", None) != Role.vendor:
        return _l("Only a company that took part may challenge an award.")
    if decision.kind != DecisionKind.award or decision.standstill_ends_at is None:
        return _l("This decision cannot be challenged.")
    if user.vendor_id not in participant_vendor_ids(decision.exercise):
        return _l("Your company did not take part in this exercise.")
    if user.vendor_id in decision.vendor_ids:
        return _l("Your company is the successful tenderer.")
    if now_utc() >= decision.standstill_ends_at:
        return _l("The standstill period has ended: challenges are no longer accepted.")
    if decision.state != DecisionState.approved:
        return _l("This decision cannot be challenged.")
    return None


# --- queries ------------------------------------------------------------------------------------

def participant_vendor_ids(exercise: Exercise) -> set[int]:
    """The companies whose proposals stood at opening."""
    return {s.vendor_id for s in standing_submissions(exercise)}


def live_decision(exercise: Exercise) -> Decision | None:
    return db.session.scalar(sa.select(Decision).where(Decision.exercise_id == exercise.id,
                                                       Decision.state.in_(LIVE_DECISION_STATES)))


def decisions_of(exercise: Exercise) -> list[Decision]:
    return list(db.session.scalars(sa.select(Decision).where(Decision.exercise_id == exercise.id)
                                   .order_by(Decision.id.desc())))


def all_decisions() -> list[Decision]:
    return list(db.session.scalars(sa.select(Decision).order_by(Decision.id.desc())))


def decisions_awaiting(user) -> list[Decision]:
    """Decisions waiting for an approver, oldest first, without those user recorded or evaluated."""
    waiting = db.session.scalars(sa.select(Decision).where(Decision.state == DecisionState.submitted)
                                 .order_by(Decision.recorded_at, Decision.id))
    return [d for d in waiting if approval_refusal(user, d) is None]


def decisions_for_vendor(vendor_id: int) -> list[Decision]:
    """Approved (and later) decisions on exercises the company took part in, newest first."""
    decisions = db.session.scalars(
        sa.select(Decision).where(Decision.state.in_(ANNOUNCED_STATES))
        .where(Decision.exercise_id.in_(sa.select(Submission.exercise_id).where(Submission.vendor_id == vendor_id,
                                                                               Submission.standing())))
        .order_by(Decision.id.desc()))
    return list(decisions)


def decision_outcomes(decision: Decision) -> dict[int, str]:
    """Vendor id -> "award" | "shortlist" | "regret" for every company whose proposal stood at opening: the
    decision's entries get its kind, every other participant a regret (the letters to send at approval)."""
    chosen = set(decision.vendor_ids)
    outcome = decision.kind.value
    return {vendor_id: (outcome if vendor_id in chosen else "regret")
            for vendor_id in sorted(participant_vendor_ids(decision.exercise))}


def declined_submission_ids(exercise: Exercise) -> set[int]:
    """Submissions of awards that were declined or rejected (not proposed again)."""
    return set(db.session.scalars(sa.select(DecisionEntry.submission_id).join(Decision)
                                  .where(Decision.exercise_id == exercise.id,
                                         Decision.state == DecisionState.declined)))


def declined_vendor_ids(exercise: Exercise) -> set[int]:
    """The companies whose award on the exercise was declined or rejected (their award letter stays on record, they
    get no further letter: contracts.letters.letters_due)."""
    return set(db.session.scalars(sa.select(Submission.vendor_id).where(
        Submission.id.in_(sa.select(DecisionEntry.submission_id).join(Decision).where(
            Decision.exercise_id == exercise.id, Decision.state == DecisionState.declined)))))


def proposal_for(exercise: Exercise) -> list[int]:
    """What a new decision is pre-filled with: the recommendation, or after a declined award the next-ranked
    passing tenderer that has not declined."""
    declined = declined_submission_ids(exercise)
    if exercise.kind == ExerciseKind.eoi or not declined:
        return [i for i in recommendation_for(exercise) if i not in declined]
    following = [i for i in ranked_submission_ids(exercise) if i not in declined]
    return following[:1]


def contracts_from(decision: Decision) -> list:
    """The contracts drawn up with the awarded company from the decision's exercise."""
    from contracts.models import Contract
    if decision.kind != DecisionKind.award or not decision.entries:
        return []
    return list(db.session.scalars(sa.select(Contract).where(Contract.exercise_id == decision.exercise_id,
                                                             Contract.vendor_id.in_(decision.vendor_ids))
                                   .order_by(Contract.id)))


def child_tenders(decision: Decision) -> list[Exercise]:
    """The restricted tenders that follow the decision's EOI."""
    return list(db.session.scalars(sa.select(Exercise).where(Exercise.parent_id == decision.exercise_id,
                                                             Exercise.kind == ExerciseKind.tender)
                                   .order_by(Exercise.id)))


# --- operations ---------------------------------------------------------------------------------

def _officer(actor: User) -> None:
    require_role(actor, Role.officer, error=DecisionRefused)


def _compliant_ids(exercise: Exercise) -> list[int]:
    from scoring.queries import panel_of
    panel = panel_of(exercise)
    return panel.compliant if panel is not None else []


def _entries(exercise: Exercise, submission_ids, kind: DecisionKind) -> list[DecisionEntry]:
    ids = list(dict.fromkeys(int(i) for i in submission_ids))
    standing = {s.id: s for s in standing_submissions(exercise)}
    if not ids:
        raise DecisionRefused(_l("Choose at least one proposal."), field="submissions")
    if kind == DecisionKind.award and len(ids) != 1:
        raise DecisionRefused(_l("An award goes to one tenderer."), field="submissions")
    if any(i not in standing for i in ids):
        raise DecisionRefused(_l("Choose among the proposals that stood at opening."), field="submissions")
    if kind == DecisionKind.award and ids[0] not in _compliant_ids(exercise):
        raise DecisionRefused(_l("%(name)s did not pass the technical evaluation: an award goes to a tender that did.",
                                 name=standing[ids[0]].vendor.name_en), field="submissions")
    if declined := (set(ids) & declined_submission_ids(exercise)):
        raise DecisionRefused(_l("%(names)s declined or was rejected; propose the next-ranked tenderer.",
                                 names=list_separator().join(standing[i].vendor.name_en for i in sorted(declined))),
                              field="submissions")
    return [DecisionEntry(submission_id=i, position=n) for n, i in enumerate(ids, start=1)]


def _justification(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise DecisionRefused(_l("Give the justification of the decision."), field="justification")
    return text


def record_decision(exercise: Exercise, *, actor: User, submission_ids, justification: str) -> Decision:
    """The officer's decision on an opened exercise (its kind follows the exercise: an EOI's shortlist, a tender's
    award), sent for approval. One decision stands at a time; after a declined award, the next one."""
    _officer(actor)
    if (outstanding := evaluation_outstanding(exercise)) is not None:
        raise DecisionRefused(outstanding)
    if live_decision(exercise) is not None:
        raise DecisionRefused(_l("This exercise already has a decision; it can be replaced only when its tenderer "
                                 "declines or is rejected."))
    kind = DecisionKind.shortlist if exercise.kind == ExerciseKind.eoi else DecisionKind.award
    entries = _entries(exercise, submission_ids, kind)
    justification = _justification(justification)
    previous = db.session.scalar(sa.select(Decision).where(Decision.exercise_id == exercise.id,
                                                           Decision.state == DecisionState.declined)
                                 .order_by(Decision.id.desc()))
    decision = Decision(exercise=exercise, kind=kind, justification=justification, recorded_by_id=actor.id,
                        previous=previous,
                        standstill_days=current_app.config["STANDSTILL_DAYS"] if kind == DecisionKind.award else 0)
    decision.entries = entries
    db.session.add(decision)
    db.session.flush()
    record(actor, "decision.recorded", decision, exercise_id=exercise.id, kind=kind.value,
           submission_ids=[e.submission_id for e in entries],
           recommended=recommendation_for(exercise), previous_id=previous.id if previous else None)
    return decision


def resubmit_decision(decision: Decision, *, actor: User, submission_ids, justification: str) -> Decision:
    """A returned decision, revised by the officer and sent for approval again."""
    _officer(actor)
    if decision.state != DecisionState.returned:
        raise DecisionRefused(_l("Only a returned decision can be revised."))
    if (outstanding := evaluation_outstanding(decision.exercise)) is not None:
        raise DecisionRefused(outstanding)
    entries = _entries(decision.exercise, submission_ids, decision.kind)
    decision.justification = _justification(justification)
    decision.entries.clear()
    db.session.flush()
    decision.entries.extend(entries)
    decision.recorded_by_id = actor.id
    decision.recorded_at = now_utc()
    transition(decision, DecisionState.submitted, actor=actor, action="decision.resubmitted",
               submission_ids=[e.submission_id for e in entries])
    db.session.flush()
    return decision


def _require_approver(decision: Decision, actor: User, action: str) -> None:
    reason = approval_refusal(actor, decision)
    if reason is not None:
        raise DecisionRefused(reason).record_after_rollback(
            lambda: record(actor, "decision.approval_refused", decision, attempted=action, reason=str(reason)))


def approve_decision(decision: Decision, *, actor: User) -> Decision:
    """The approver's approval. A shortlist is final at once and fills the restricted tenders' invited lists; an
    award stands still for the configured days before the officer can make it final."""
    _require_approver(decision, actor, "approve")
    now = now_utc()
    decision.approved_by_id, decision.approved_at = actor.id, now
    transition(decision, DecisionState.approved, actor=actor, action="decision.approved")
    if decision.kind == DecisionKind.award:
        decision.standstill_ends_at = now + timedelta(days=decision.standstill_days)
    else:
        for tender in child_tenders(decision):
            invite_shortlist(decision, tender, actor=actor)
        _make_final(decision, actor)
    db.session.flush()
    _on_decision_approved(decision, actor)
    return decision


def _on_decision_approved(decision: Decision, actor: User) -> None:
    """What follows an approval: the outcomes are fixed and the letters go out (award or shortlist letters, a
    regret letter with its debrief to every other company). Without the panel's results to debrief from, the
    approval stands and the letters wait: the reason is recorded, and an officer issues them from the letters
    page once the results exist. The letters belong to this decision: after a declined award, approving the
    next-ranked tenderer's award writes only to the companies whose outcome changed (contracts.letters.letters_due:
    the new awardee's award letter replaces its regret letter; nobody gets a second identical regret letter)."""
    from contracts.letters import LettersRefused, issue_letters  # letters build on decisions' outcomes

    outcomes = decision_outcomes(decision)
    record(actor, "decision.outcomes_fixed", decision, outcomes=outcomes)
    try:  # issue_letters checks everything before it writes: a refusal leaves nothing of the letters behind
        issue_letters(decision.exercise, outcomes, actor=actor, reference=f"{decision.exercise.reference}/L",
                      decision=decision)
    except LettersRefused as refusal:
        record(actor, "letters.deferred", decision, reason=str(refusal))


def approved_decision(exercise: Exercise) -> Decision | None:
    """The decision whose outcomes the letters follow: the latest approved or final one."""
    return db.session.scalar(sa.select(Decision).where(
        Decision.exercise_id == exercise.id, Decision.state.in_((DecisionState.approved, DecisionState.final)))
        .order_by(Decision.id.desc()).limit(1))


def return_decision(decision: Decision, *, actor: User, reason: str) -> Decision:
    """The approver sends the decision back to the officer with the reason."""
    _require_approver(decision, actor, "return")
    reason = (reason or "").strip()
    if not reason:
        raise DecisionRefused(_l("Say why the decision is returned."), field="reason")
    decision.return_reason = reason
    transition(decision, DecisionState.returned, actor=actor, action="decision.returned", reason=reason)
    db.session.flush()
    return decision


def invite_shortlist(decision: Decision, tender: Exercise, *, actor: User) -> int:
    """Invite the approved shortlist's companies to a restricted tender that follows the EOI and is still being
    set up (a draft whose publication is not ordered); returns how many were added."""
    require_role(actor, Role.officer, Role.approver, error=DecisionRefused)
    if decision.kind != DecisionKind.shortlist or decision.state not in (DecisionState.approved, DecisionState.final):
        raise DecisionRefused(_l("Only an approved shortlist fills a tender's invited list."))
    if tender.parent_id != decision.exercise_id or tender.state != ExerciseState.draft or tender.is_scheduled:
        return 0
    have = {i.vendor_id for i in tender.invitations}
    added = [Invitation(exercise_id=tender.id, vendor_id=s.vendor_id) for s in decision.submissions
             if s.vendor_id not in have]
    db.session.add_all(added)
    db.session.flush()
    db.session.expire(tender, ["invitations"])
    if added:
        record(actor, "exercise.vendors_invited", tender, vendor_ids=[i.vendor_id for i in added],
               decision_id=decision.id)
    return len(added)


def _make_final(decision: Decision, actor: User) -> None:
    decision.final_at = now_utc()
    transition(decision, DecisionState.final, actor=actor, action="decision.final")
    exercise = decision.exercise
    if exercise.state == ExerciseState.evaluating:
        transition(exercise, ExerciseState.decided, actor=actor, action="exercise.decided", decision_id=decision.id)


def finalise_award(decision: Decision, *, actor: User) -> Decision:
    """The officer makes an approved award final once its standstill period is over and every challenge answered."""
    _officer(actor)
    if decision.kind != DecisionKind.award or decision.state != DecisionState.approved:
        raise DecisionRefused(_l("Only an approved award in its standstill period can become final."))
    if now_utc() < decision.standstill_ends_at:
        raise DecisionRefused(_l("The standstill period has not ended yet."))
    if decision.open_challenges:
        raise DecisionRefused(_l("Answer every challenge before the award becomes final."))
    _make_final(decision, actor)
    db.session.flush()
    return decision


def lodge_challenge(decision: Decision, *, actor: User, text: str) -> Challenge:
    """An unsuccessful company's challenge to an award during its standstill period."""
    reason = challenge_refusal(actor, decision)
    if reason is not None:
        raise DecisionRefused(reason).record_after_rollback(
            lambda: record(actor, "decision.challenge_refused", decision, reason=str(reason)))
    text = (text or "").strip()
    if not text:
        raise DecisionRefused(_l("Write your challenge."), field="text")
    challenge = Challenge(decision=decision, vendor_id=actor.vendor_id, text=text, lodged_by_id=actor.id)
    db.session.add(challenge)
    db.session.flush()
    record(actor, "decision.challenged", decision, challenge_id=challenge.id)
    return challenge


def answer_challenge(challenge: Challenge, *, actor: User, answer: str) -> Challenge:
    """The officer's recorded answer; the challenge is then resolved."""
    _officer(actor)
    answer = (answer or "").strip()
    if not answer:
        raise DecisionRefused(_l("Write the answer."), field="answer")
    if challenge.state != ChallengeState.open:
        raise DecisionRefused(_l("This challenge has been answered already."))
    challenge.answer, challenge.answered_by_id, challenge.answered_at = answer, actor.id, now_utc()
    transition(challenge, ChallengeState.answered, actor=actor, action="decision.challenge_answered",
               decision_id=challenge.decision_id)
    db.session.flush()
    return challenge


def decline_award(decision: Decision, *, actor: User, reason: str) -> list[int]:
    """The awarded tenderer declined or was rejected: the award lapses with the reason; returns what the next
    decision is pre-filled with (the next-ranked passing tenderer, or nothing)."""
    _officer(actor)
    if decision.kind != DecisionKind.award or decision.state not in (DecisionState.approved, DecisionState.final):
        raise DecisionRefused(_l("Only an approved award can be declined."))
    reason = (reason or "").strip()
    if not reason:
        raise DecisionRefused(_l("Say why the award lapses."), field="reason")
    decision.decline_reason = reason
    transition(decision, DecisionState.declined, actor=actor, action="decision.declined", reason=reason)
    db.session.flush()
    return proposal_for(decision.exercise)
