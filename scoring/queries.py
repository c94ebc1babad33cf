"""Read-side helpers of the scoring area, named for what they return."""
from __future__ import annotations

from collections import Counter
from contextlib import nullcontext

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.auth.models import Role, User, Vendor
from app.extensions import db
from eoi.models import Exercise, Submission
from scoring.models import (Assignment, ConflictDeclaration, Criterion, Envelope, Interest, Panel, PanelMember,
                            PanelRole, Score, ScoreSheet)
from scoring.states import ScoreSheetState


def criteria_of(exercise: Exercise) -> list[Criterion]:
    """The exercise's evaluation criteria in their order."""
    return list(db.session.scalars(sa.select(Criterion).where(Criterion.exercise_id == exercise.id)
                                   .order_by(Criterion.position)))


def settings_of(exercise: Exercise):
    """The exercise's evaluation settings, or unsaved defaults (a 70/30 split and the lowest price scoring full
    marks, others pro rata, when it has a price envelope)."""
    from scoring.models import EvaluationSettings
    return db.session.get(EvaluationSettings, exercise.id) or EvaluationSettings(
        exercise_id=exercise.id, overall_pass_mark=None, technical_weight=70 if exercise.has_price_envelope else 100,
        price_formula="lowest_pro_rata")


def technical_criteria_of(exercise: Exercise) -> list[Criterion]:
    """The criteria a panel scores (the technical envelope)."""
    return [c for c in criteria_of(exercise) if c.envelope == Envelope.technical]


def panel_of(exercise: Exercise) -> Panel | None:
    return db.session.scalar(sa.select(Panel).where(Panel.exercise_id == exercise.id))


def seat_of(user, panel: Panel | None) -> PanelMember | None:
    """user's active seat on panel (None if it has none or was removed)."""
    if panel is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(sa.select(PanelMember).where(PanelMember.panel_id == panel.id,
                                                          PanelMember.user_id == user.id,
                                                          PanelMember.removed_at.is_(None)))


def active_members(panel: Panel) -> list[PanelMember]:
    return [m for m in panel.members if m.active]


def scoring_members(panel: Panel) -> list[PanelMember]:
    return [m for m in active_members(panel) if m.role.scores]


def panel_candidates() -> list[User]:
    """Enabled panel-member accounts, by name."""
    return list(db.session.scalars(sa.select(User).where(User.role == Role.panel, User.is_enabled.is_(True))
                                   .order_by(User.name)))


def proposals_of(panel: Panel) -> list[Submission]:
    """The proposals the panel evaluates (those that stand after opening, as eoi.queries.standing_submissions), in
    a fixed order, with their vendors loaded in the same round trip (names are shown beside every proposal: one
    query per vendor would be 1,000 queries for a big exercise)."""
    return list(db.session.scalars(sa.select(Submission).options(so.selectinload(Submission.vendor))
                                   .where(Submission.exercise_id == panel.exercise_id, Submission.standing())
                                   .order_by(Submission.id)))


def proposal_labels(panel: Panel) -> dict[int, str]:
    """Submission id -> its letter (A, B, ...), used instead of the vendor's name when identities are hidden."""
    labels = {}
    for n, submission in enumerate(proposals_of(panel)):
        labels[submission.id] = chr(ord("A") + n % 26) + (str(n // 26) if n >= 26 else "")
    return labels


def anonymous_proposal_names(panel: Panel, language: str | None = None) -> dict[int, str]:
    """Submission id -> "Proposal A", ...: how a proposal is named to a reader from whom the panel hides the
    vendors' identities (in language, or the request's)."""
    from flask_babel import force_locale
    from flask_babel import gettext as _
    with force_locale(language) if language else nullcontext():
        return {sid: _("Proposal %(letter)s", letter=letter) for sid, letter in proposal_labels(panel).items()}


def vendors_of(panel: Panel) -> list[Vendor]:
    """The vendors whose proposals the panel evaluates, by name (the list members declare against)."""
    return sorted({s.vendor for s in proposals_of(panel)}, key=lambda v: v.name_en.casefold())


def declarations_of(member: PanelMember) -> dict[int, ConflictDeclaration]:
    """Vendor id -> the member's declaration."""
    return {d.vendor_id: d for d in db.session.scalars(
        sa.select(ConflictDeclaration).where(ConflictDeclaration.member_id == member.id))}


def _undeclared_vendors(member: PanelMember):
    """Standing proposals of the panel's exercise whose vendor the member has not declared for (a guard on every
    request of a member, so a statement: loading the vendors of 1,000 proposals each time is what it must not do)."""
    declared = sa.select(ConflictDeclaration.id).where(ConflictDeclaration.member_id == member.id,
                                                       ConflictDeclaration.vendor_id == Submission.vendor_id)
    return sa.select(Submission.id).where(Submission.exercise_id == member.panel.exercise_id, Submission.standing(),
                                          ~declared.exists())


def has_declared_for_all(member: PanelMember) -> bool:
    return not db.session.scalar(sa.select(_undeclared_vendors(member).exists()))


def declared_clear_of(member: PanelMember, vendor_id: int) -> bool:
    """The member declared no conflict with this vendor and has declared for every vendor: one statement."""
    clear = sa.select(ConflictDeclaration.id).where(ConflictDeclaration.member_id == member.id,
                                                    ConflictDeclaration.vendor_id == vendor_id,
                                                    ConflictDeclaration.has_conflict.is_(False))
    return bool(db.session.scalar(sa.select(sa.and_(clear.exists(), ~_undeclared_vendors(member).exists()))))


def declarations_of_panel(panel: Panel) -> list[ConflictDeclaration]:
    return list(db.session.scalars(sa.select(ConflictDeclaration).join(PanelMember)
                                   .where(PanelMember.panel_id == panel.id).order_by(ConflictDeclaration.id)))


def assignments_of(member: PanelMember, *, include_excluded: bool = False) -> list[Assignment]:
    query = sa.select(Assignment).where(Assignment.member_id == member.id).order_by(Assignment.submission_id)
    if not include_excluded:
        query = query.where(Assignment.excluded_at.is_(None))
    return list(db.session.scalars(query))


def assignments_of_panel(panel: Panel) -> list[Assignment]:
    return list(db.session.scalars(sa.select(Assignment).join(PanelMember).where(PanelMember.panel_id == panel.id)
                                   .order_by(Assignment.member_id, Assignment.submission_id)))


def open_sheet_count(panel: Panel) -> int:
    """Assigned sheets of the panel's active scoring members not submitted yet (not started counts), in one
    statement."""
    return db.session.scalar(
        sa.select(sa.func.count(Assignment.id)).join(PanelMember, PanelMember.id == Assignment.member_id)
        .outerjoin(ScoreSheet, ScoreSheet.assignment_id == Assignment.id)
        .where(PanelMember.panel_id == panel.id, PanelMember.removed_at.is_(None),
               PanelMember.role != PanelRole.secretary, Assignment.excluded_at.is_(None),
               sa.or_(ScoreSheet.id.is_(None), ScoreSheet.state != ScoreSheetState.submitted)))


def assignment_for(member: PanelMember, submission: Submission) -> Assignment | None:
    return db.session.scalar(sa.select(Assignment).where(Assignment.member_id == member.id,
                                                         Assignment.submission_id == submission.id))


def sheet_state(assignment: Assignment) -> ScoreSheetState | None:
    return assignment.sheet.state if assignment.sheet is not None else None


def progress_of(panel: Panel) -> list[dict]:
    """Per scoring member: declarations made / needed, and how many assigned sheets are not started, scoring,
    submitted. Never a score (invariant 6: nobody sees a score before its sheet is submitted)."""
    vendors = len(vendors_of(panel))
    rows = []
    for member in scoring_members(panel):
        states = Counter(sheet_state(a) for a in assignments_of(member))
        rows.append({"member": member, "declared": len(declarations_of(member)), "to_declare": vendors,
                     "conflicts": sum(d.has_conflict for d in declarations_of(member).values()),
                     "not_started": states[None], "scoring": states[ScoreSheetState.draft] + states[ScoreSheetState.reopened],
                     "submitted": states[ScoreSheetState.submitted], "assigned": sum(states.values())})
    return rows


def members_yet_to_submit(panel: Panel) -> list[PanelMember]:
    """Scoring members with an assigned proposal whose sheet is not submitted."""
    return [m for m in scoring_members(panel)
            if any(sheet_state(a) != ScoreSheetState.submitted for a in assignments_of(m))]


def seats_of(user) -> list[PanelMember]:
    """user's active seats on panels, newest panel first."""
    return list(db.session.scalars(sa.select(PanelMember).where(PanelMember.user_id == user.id,
                                                                PanelMember.removed_at.is_(None))
                                   .order_by(PanelMember.panel_id.desc())))


def interests_of_user(user) -> list[Interest]:
    return list(db.session.scalars(sa.select(Interest).where(Interest.user_id == user.id).order_by(Interest.id)))


def interests_of_vendor(vendor_id: int) -> list[Interest]:
    return list(db.session.scalars(sa.select(Interest).where(Interest.vendor_id == vendor_id).order_by(Interest.id)))


def sheets_for_submission(panel: Panel, submission: Submission) -> list[ScoreSheet]:
    """Every member's sheet for one proposal (for moderation and, after one's own is submitted, for members)."""
    return list(db.session.scalars(sa.select(ScoreSheet).join(Assignment).join(PanelMember)
                                   .where(PanelMember.panel_id == panel.id, Assignment.submission_id == submission.id,
                                          Assignment.excluded_at.is_(None))
                                   .order_by(PanelMember.id)))


def scores_by_criterion(sheet: ScoreSheet) -> dict[int, Score]:
    return {s.criterion_id: s for s in sheet.scores}


def _normal(name: str) -> str:
    return " ".join(name.casefold().replace(",", " ").replace(".", " ").split())


def likely_conflicts(panel: Panel) -> list[dict]:
    """Links between a scoring member's recorded interests and a vendor (its name, directors, group companies),
    flagged to the chair before scoring starts: [{member, vendor, interest, matched}]."""
    vendors = vendors_of(panel)
    vendor_names = {v.id: {_normal(v.name_en), _normal(v.name_zh)} | {_normal(i.name) for i in interests_of_vendor(v.id)}
                    for v in vendors}
    flags = []
    for member in scoring_members(panel):
        for interest in interests_of_user(member.user):
            mine = _normal(interest.name)
            for vendor in vendors:
                matched = next((n for n in vendor_names[vendor.id] if n and (n == mine or (len(mine) >= 4 and mine in n)
                                                                           or (len(n) >= 4 and n in mine))), None)
                if matched:
                    flags.append({"member": member, "vendor": vendor, "interest": interest, "matched": matched})
    return flags


def consensus_of(submission: Submission) -> dict[int, "ConsensusScore"]:
    from scoring.models import ConsensusScore
    return {c.criterion_id: c for c in db.session.scalars(sa.select(ConsensusScore)
                                                          .where(ConsensusScore.submission_id == submission.id))}


def moderation_of(panel: Panel, submission: Submission, threshold=None) -> dict:
    """Everything the moderation page shows for one proposal: each member's sheet and scores, and per criterion
    the statistics of the submitted sheets (scoring.aggregation.moderation: mean, median, range, spread,
    outliers beyond the panel's threshold) and the consensus, if recorded. For moderators only (can_moderate)."""
    from decimal import Decimal

    from scoring.aggregation import CriterionSpec, MemberScore, ProposalSpec, build_table, moderation
    criteria = technical_criteria_of(panel.exercise)
    sheets = sheets_for_submission(panel, submission)
    submitted = [s for s in sheets if s.state == ScoreSheetState.submitted]
    stats = {}
    if criteria and submitted:
        # The statistics do not depend on the weights; the specs carry placeholder weights adding up to 100 so
        # the table validates whatever the exercise's split between envelopes.
        specs = [CriterionSpec(key=str(c.id), weight=Decimal(100) - Decimal("0.01") * (len(criteria) - 1) if i == 0
                               else Decimal("0.01"), max_score=Decimal(c.max_score), position=c.position)
                 for i, c in enumerate(criteria)]
        scores = [MemberScore("p", str(score.criterion_id), str(sheet.id), Decimal(score.value))
                  for sheet in submitted for score in sheet.scores if score.value is not None]
        table = build_table(specs, [ProposalSpec("p", submission.submitted_at or submission.created_at)], scores,
                            members=[str(s.id) for s in submitted])
        stats = {int(cell.criterion): cell for cell in moderation(table, threshold or panel.outlier_threshold)}
    return {"criteria": criteria, "sheets": sheets, "scores": {s.id: scores_by_criterion(s) for s in sheets},
            "stats": stats, "consensus": consensus_of(submission),
            "all_submitted": bool(sheets) and len(submitted) == len(sheets)}


def results_of(panel: Panel, lang: str = "en", *, names: dict[int, str] | None = None) -> dict:
    """The technical results of the panel's proposals from the submitted sheets and the consensus scores
    (scoring.aggregation.technical_results: weighted totals, pass/fail against the pass marks, ranking with its
    tie-break) and the robustness of the first place (scoring.robustness: agreement per criterion, leaving out
    one member, the smallest weight shift) in plain sentences. {"error": ...} when the criteria cannot be used.

    names: submission id -> what the reader calls each proposal (scoring.views.panels.proposal_names: its letter
    when the panel hides identities from this reader); the sentences name proposals with it. Without it they use
    the anonymous letters, so no caller names a vendor to a reader who may not see it by forgetting to pass it."""
    from decimal import Decimal

    from scoring.aggregation import CriterionSpec, MemberScore, ProposalSpec, build_table, technical_results
    from scoring.models import ConsensusScore
    from scoring.robustness import robustness, robustness_sentences
    criteria = technical_criteria_of(panel.exercise)
    proposals = proposals_of(panel)
    specs = [CriterionSpec(key=str(c.id), weight=c.weight, max_score=Decimal(c.max_score),
                           pass_mark=Decimal(c.pass_mark) if c.pass_mark is not None else None, position=c.position,
                           name_en=c.name_en, name_zh=c.name_zh) for c in criteria]
    rows = db.session.execute(
        sa.select(Assignment.submission_id, PanelMember.user_id, Score.criterion_id, Score.value)
        .join(ScoreSheet, ScoreSheet.assignment_id == Assignment.id).join(Score, Score.sheet_id == ScoreSheet.id)
        .join(PanelMember, PanelMember.id == Assignment.member_id)
        .where(PanelMember.panel_id == panel.id, Assignment.excluded_at.is_(None),
               ScoreSheet.state == ScoreSheetState.submitted, Score.value.is_not(None)))
    scores = [MemberScore(str(sid), str(cid), str(uid), Decimal(value)) for sid, uid, cid, value in rows]
    consensus = {(str(c.submission_id), str(c.criterion_id)): c.value for c in db.session.scalars(
        sa.select(ConsensusScore).where(ConsensusScore.panel_id == panel.id))}
    try:
        table = build_table(specs, [ProposalSpec(str(s.id), s.submitted_at or s.created_at) for s in proposals],
                            scores, consensus=consensus)
    except ValueError as exc:
        return {"error": str(exc), "recommended": None if panel.exercise.has_price_envelope else []}
    if not scores:
        return {"error": "no submitted sheet yet", "recommended": None if panel.exercise.has_price_envelope else []}
    member_names = {str(user_id): name for user_id, name in db.session.execute(
        sa.select(PanelMember.user_id, User.name).join(User, User.id == PanelMember.user_id)
        .where(PanelMember.panel_id == panel.id))}
    settings = settings_of(panel.exercise)
    overall = settings.overall_pass_mark
    try:
        report = robustness(table, overall_pass_mark=overall)
        results = technical_results(table, overall_pass_mark=overall)
    except ValueError as exc:  # a proposal not yet scored on every criterion: no ranking to state yet
        return {"error": str(exc), "recommended": None if panel.exercise.has_price_envelope else []}
    view = {"results": results, "overall_pass_mark": overall, "criteria": criteria,
            "submissions": {str(s.id): s for s in proposals},
            "sentences": robustness_sentences(report, lang, member_names=member_names,
                                              proposal_names=_sentence_names(panel, lang, names)),
            "agreement": report.agreement}
    if not panel.exercise.has_price_envelope:
        # EOI: the shortlist to propose is every proposal that passes, in rank order
        view["recommended"] = [int(r.proposal) for r in results if r.passed]
        return view
    view.update(combined_of(panel, results, settings))
    first = next((c for c in view["combined"] or () if c.rank == 1), None)
    view["recommended"] = int(first.proposal) if first is not None else None
    return view


def _sentence_names(panel: Panel, lang: str, names: dict[int, str] | None) -> dict[str, str]:
    names = anonymous_proposal_names(panel, lang) if names is None else names
    return {str(sid): name for sid, name in names.items()}


def price_totals_of(panel: Panel) -> dict[int, "Decimal"]:
    """Submission id -> its total price (each price line's unit price × the line's quantity) for the tenders whose
    price envelope was opened (the technically compliant ones, after the chair's sign-off); {} before."""
    exercise = panel.exercise
    if exercise.price_opened_at is None:
        return {}
    items = list(exercise.price_items)
    proposals = {s.id: s for s in proposals_of(panel)}
    return {sid: price_total_of(proposals[sid], items) for sid in panel.compliant if sid in proposals}


def price_total_of(submission: Submission, items) -> "Decimal":
    """One opened tender's total price: each price line's unit price × the line's quantity. Raises
    eoi.sealed.SealedContent while its envelope is sealed, DamagedContent when a price line fails its check."""
    from eoi import sealed
    return sealed.prices_for_system(submission, purpose="combined scores").total(items)


def combined_of(panel: Panel, results, settings) -> dict:
    """A tender's combined scores once the prices of the compliant tenders are open
    (scoring.aggregation.combined_results with the published split and price formula): {"combined": tuple of
    CombinedResult (ranked, then the non-compliant ones unranked) or None before the price opening, "prices":
    submission id -> total price, "combined_error": why they cannot be computed, or None}."""
    from decimal import Decimal

    from eoi.sealed import DamagedContent, SealedContent
    from scoring.aggregation import combined_results
    out = {"combined": None, "prices": {}, "combined_error": None, "technical_weight": settings.technical_weight,
           "price_weight": settings.price_weight, "price_formula": settings.price_formula,
           "signed_off": panel.is_signed_off, "price_opened": panel.exercise.price_opened_at is not None}
    if not out["price_opened"]:
        return out
    try:
        totals = price_totals_of(panel)
        out["prices"] = totals
        out["combined"] = combined_results(results, {str(k): v for k, v in totals.items()}, settings.price_formula,
                                           technical_share=Decimal(settings.technical_weight),
                                           price_share=Decimal(settings.price_weight))
    except (ValueError, SealedContent, DamagedContent) as exc:
        out["combined_error"] = str(exc)
    return out



def submitted_score_rows(panel: Panel) -> list:
    """Every score of every submitted sheet of the panel's standing, not excluded assignments, in one query:
    rows of (submission_id, member_id, member name, criterion_id, value, justification), by proposal, member and
    criterion position. For the moderation statistics of the whole panel, the evaluation report and the exports
    (never per row: 140,000 scores are one statement)."""
    from scoring.models import Score as _Score
    standing = {s.id for s in proposals_of(panel)}
    rows = db.session.execute(
        sa.select(Assignment.submission_id, PanelMember.id, User.name, _Score.criterion_id, _Score.value,
                  _Score.justification)
        .join(ScoreSheet, ScoreSheet.assignment_id == Assignment.id).join(_Score, _Score.sheet_id == ScoreSheet.id)
        .join(PanelMember, PanelMember.id == Assignment.member_id).join(User, User.id == PanelMember.user_id)
        .join(Criterion, Criterion.id == _Score.criterion_id)
        .where(PanelMember.panel_id == panel.id, Assignment.excluded_at.is_(None),
               ScoreSheet.state == ScoreSheetState.submitted, Criterion.envelope == Envelope.technical)
        .order_by(Assignment.submission_id, PanelMember.id, Criterion.position)).all()
    return [r for r in rows if r[0] in standing]


def _submitted_values(panel: Panel) -> list:
    """(submission_id, member_id, criterion_id, value) of every scored criterion of the submitted sheets of the
    panel's standing proposals: submitted_score_rows without names and justifications, filtered in SQL."""
    return db.session.execute(
        sa.select(Assignment.submission_id, PanelMember.id, Score.criterion_id, Score.value)
        .join(ScoreSheet, ScoreSheet.assignment_id == Assignment.id).join(Score, Score.sheet_id == ScoreSheet.id)
        .join(PanelMember, PanelMember.id == Assignment.member_id)
        .join(Submission, Submission.id == Assignment.submission_id)
        .join(Criterion, Criterion.id == Score.criterion_id)
        .where(PanelMember.panel_id == panel.id, Assignment.excluded_at.is_(None), Submission.standing(),
               ScoreSheet.state == ScoreSheetState.submitted, Criterion.envelope == Envelope.technical,
               Score.value.is_not(None))).all()


def panel_moderation(panel: Panel, rows: list | None = None) -> dict[int, dict[int, "CellStats"]]:
    """moderation_of's statistics for every proposal of the panel at once (one query, one vectorised pass):
    submission id -> criterion id -> CellStats (mean, median, range, spread, outliers by member id)."""
    from decimal import Decimal

    from scoring.aggregation import CriterionSpec, MemberScore, ProposalSpec, build_table, moderation
    criteria = technical_criteria_of(panel.exercise)
    if not criteria:
        return {}
    rows = _submitted_values(panel) if rows is None else [(r[0], r[1], r[3], r[4]) for r in rows]
    specs = [CriterionSpec(key=str(c.id), weight=Decimal(100) - Decimal("0.01") * (len(criteria) - 1) if i == 0
                           else Decimal("0.01"), max_score=Decimal(c.max_score), position=c.position)
             for i, c in enumerate(criteria)]
    submissions = sorted({r[0] for r in rows})
    scores = [MemberScore(str(sid), str(cid), str(mid), Decimal(value)) for sid, mid, cid, value in rows
              if value is not None]
    if not scores:
        return {}
    table = build_table(specs, [ProposalSpec(str(s), panel.created_at) for s in submissions], scores)
    out: dict[int, dict[int, object]] = {}
    for cell in moderation(table, panel.outlier_threshold):
        out.setdefault(int(cell.proposal), {})[int(cell.criterion)] = cell
    return out


def consensus_of_panel(panel: Panel) -> dict[int, dict[int, "ConsensusScore"]]:
    """Submission id -> criterion id -> the recorded consensus score, in one query."""
    from scoring.models import ConsensusScore
    out: dict[int, dict] = {}
    for c in db.session.scalars(sa.select(ConsensusScore).where(ConsensusScore.panel_id == panel.id)):
        out.setdefault(c.submission_id, {})[c.criterion_id] = c
    return out
