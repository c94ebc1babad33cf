"""Letters to the vendors of an exercise after its evaluation: award or shortlist letters to the successful ones and
regret letters, with a debrief of that vendor's own scores, to every other one; each a signed PDF in the vendor's
language, rendered by the document task (app.documents), downloaded by that vendor only, announced in-app and by
email, and followed by the public award notice.

`issue_letters(exercise, outcomes, actor=, reference=, decision=)` takes the outcome per vendor from its caller
(`decision_outcomes(decision)` at the decision's approval, contracts/decisions.py `_on_decision_approved`, or from the
letters page; `default_outcomes`, from the technical ranking, in the harness and the benchmark) and writes the
letters `letters_due` says are owed. A letter belongs to the decision that caused it (one per decision and vendor,
enforced by the database), so issuing is idempotent: the Letter rows are the truth, issuing again adds nothing, and a
render task delivered twice finds its document claimed or ready (app.documents.service.claim_document).

A replacement award (the recommended tenderer declined or was rejected, contracts.decisions.decline_award, and the
next-ranked tenderer's award was approved) writes only to the vendors whose outcome changed: the new awardee gets an
award letter that names the regret letter it replaces; see `letters_due` for who gets nothing new. Every letter stays
on record and downloadable; the public award notice names the award that stands."""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from app.audit import record
from app.auth.models import Role, User, Vendor
from app.db import now_utc
from app.documents.models import Document, DocumentStatus
from app.documents.service import queue_document
from app.extensions import db
from app.guards import ActionRefused, require_role
from contracts.letter_models import Letter, LetterBatch, LetterKind
from eoi.models import Exercise
from eoi.states import ExerciseKind

LANGUAGES = ("en", "zh_Hant")
TWO_PLACES = Decimal("0.01")


class LettersRefused(ActionRefused):
    """Issuing letters was refused, with the reason."""


# --- the vendor's language -----------------------------------------------------------------------

def vendor_language(vendor: Vendor) -> str:
    """The language a company's letters are written in: the one most of its enabled users saved (ties go to the
    earliest user's), English when none saved one."""
    users = sorted((u for u in vendor.users if u.is_enabled), key=lambda u: u.id)
    saved = [u.locale for u in users if u.locale in LANGUAGES]
    if not saved:
        return "en"
    counts = Counter(saved)
    best = max(counts.values())
    return next(language for language in saved if counts[language] == best)


# --- results, outcomes and debriefs -------------------------------------------------------------

@dataclass(frozen=True)
class Ranking:
    """The technical results of an exercise by vendor: vendor id -> ProposalResult (scoring.aggregation), the
    criteria, the overall pass mark, or `error` when there are no results to write from."""
    results: dict
    criteria: list
    overall_pass_mark: Decimal | None = None
    error: str | None = None


def ranking_of(exercise: Exercise) -> Ranking:
    """The exercise's technical results (scoring.queries.results_of: consensus where recorded, else the mean of the
    submitted sheets; pass marks; ranking with its tie-break) keyed by vendor."""
    from scoring.queries import panel_of, results_of

    panel = panel_of(exercise)
    if panel is None:
        return Ranking({}, [], error=str(_l("This exercise has no assessment panel, so it has no results yet.")))
    view = results_of(panel)
    if "error" in view:
        return Ranking({}, [], error=str(_l("The panel's results are not complete yet: every proposal needs its "
                                           "scores on every criterion before letters can be written.")))
    submissions = view["submissions"]
    by_vendor = {submissions[r.proposal].vendor_id: r for r in view["results"]}
    return Ranking(by_vendor, view["criteria"], view["overall_pass_mark"])


def default_outcomes(exercise: Exercise, ranking: Ranking | None = None) -> dict[int, str]:
    """The outcome per vendor from the technical ranking, until decisions give the approved one: for an EOI every
    proposal that passes is shortlisted, for a tender the first-ranked one that passes is awarded; every other vendor
    gets a regret letter. Raises LettersRefused when there are no results yet."""
    ranking = ranking or ranking_of(exercise)
    if ranking.error:
        raise LettersRefused(ranking.error)
    outcomes = {}
    awarded = False
    for vendor_id, result in sorted(ranking.results.items(), key=lambda item: item[1].rank):
        if not result.passed:
            outcomes[vendor_id] = LetterKind.regret.value
        elif exercise.kind == ExerciseKind.eoi:
            outcomes[vendor_id] = LetterKind.shortlist.value
        elif not awarded:
            outcomes[vendor_id], awarded = LetterKind.award.value, True
        else:
            outcomes[vendor_id] = LetterKind.regret.value
    return outcomes


def _two(value) -> str:
    return str(Decimal(value).quantize(TWO_PLACES, rounding=ROUND_HALF_UP))


def debrief_of(ranking: Ranking, vendor_id: int, outcomes: dict[int, str]) -> dict:
    """What a regret letter tells one vendor, from its own results only: per criterion its score against the scale
    and the pass mark, its weighted total against the overall pass mark, its rank among how many, and the successful
    score (the lowest total among the successful proposals: the award's, or the shortlist's threshold). No other
    vendor's name, scores or rank."""
    result = ranking.results[vendor_id]
    successful = [ranking.results[v].total for v, kind in outcomes.items()
                  if kind != LetterKind.regret.value and v in ranking.results]
    criteria = []
    for criterion in ranking.criteria:
        key = str(criterion.id)
        criteria.append({"name_en": criterion.name_en, "name_zh": criterion.name_zh, "max": criterion.max_score,
                         "pass_mark": criterion.pass_mark, "weight": _two(criterion.weight),
                         "score": _two(result.scores[key]), "weighted": _two(result.weighted[key]),
                         "passed": key not in result.failed_criteria})
    return {"criteria": criteria, "total": _two(result.total), "passed": result.passed,
            "overall_pass_mark": _two(ranking.overall_pass_mark) if ranking.overall_pass_mark is not None else None,
            "below_overall_pass_mark": result.below_overall_pass_mark,
            "rank": result.rank, "proposals": len(ranking.results),
            "successful_total": _two(min(successful)) if successful else None}


def letter_digest(exercise: Exercise, vendor: Vendor, kind: str, language: str, reference: str,
                  debrief: dict | None, replaces: str | None = None) -> str:
    """SHA-256 of what a letter says (canonical JSON), printed in its footer so a paper copy can be checked; a
    replacing letter's content names the letter it replaces (a first letter's digest is as before)."""
    content = {"reference": reference, "exercise": exercise.reference, "vendor": vendor.br_number, "kind": kind,
               "language": language, "debrief": debrief} | ({"replaces": replaces} if replaces else {})
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# --- issuing ------------------------------------------------------------------------------------

def batch_of(exercise: Exercise) -> LetterBatch | None:
    return db.session.scalar(sa.select(LetterBatch).where(LetterBatch.exercise_id == exercise.id))


@dataclass(frozen=True)
class DueLetter:
    """A letter owed to a vendor: its outcome, and the vendor's earlier letter it replaces (None for a first one)."""
    vendor_id: int
    kind: str
    replaces: Letter | None = None


def _latest_letters(exercise: Exercise) -> dict[int, Letter]:
    """Each vendor's latest letter on the exercise (the one in force, unless its award was declined)."""
    letters = db.session.scalars(sa.select(Letter).where(Letter.exercise_id == exercise.id).order_by(Letter.number)
                                 .options(so.joinedload(Letter.decision), so.joinedload(Letter.vendor)))
    return {letter.vendor_id: letter for letter in letters}


def letters_due(exercise: Exercise, outcomes: dict[int, str], decision=None) -> list[DueLetter]:
    """The letters issuing `outcomes` (for `decision`, or without one) would write, from the letters on record:

    - a vendor with no letter on the exercise gets one;
    - without a decision, a vendor with any letter gets nothing more (one letter per exercise and vendor);
    - a vendor that already has its letter for this decision gets nothing more (idempotent per decision and vendor);
    - a vendor whose outcome did not change gets nothing: its letter in force says the same, so an unsuccessful
      tenderer is not sent a second regret letter when the award passes to the next-ranked one (its debrief stays
      as written, with the successful score of the award first decided);
    - a tenderer whose award was declined or rejected gets nothing: its award letter stays on record and the
      decision records the lapse (contracts.decisions.decline_award); it is not told it "was not successful";
    - a vendor whose outcome changed (the next-ranked tenderer, from regret to award) gets a letter of its new
      outcome that replaces its earlier one."""
    from contracts.decisions import declined_vendor_ids  # decisions call issue_letters at approval

    latest = _latest_letters(exercise)
    declined = declined_vendor_ids(exercise) if decision is not None else set()
    due = []
    for vendor_id, kind in outcomes.items():
        current = latest.get(vendor_id)
        if vendor_id in declined:
            continue
        if current is None:
            due.append(DueLetter(vendor_id, kind))
        elif decision is not None and current.decision_id != decision.id and current.kind.value != kind:
            due.append(DueLetter(vendor_id, kind, current))
    return due


def issue_letters(exercise: Exercise, outcomes: dict[int, str], *, actor: User, reference: str | None = None,
                  decision=None) -> LetterBatch:
    """The letters owed for outcomes (vendor id -> "award" | "shortlist" | "regret"; `letters_due` says which), each
    belonging to `decision` (the approved decision that causes them; None in the harness and the benchmark), queued
    for rendering and signing in the vendor's language, its users notified. Idempotent per decision and vendor: the
    batch and the letters already written stay as they are. Refused without results, for an unknown outcome, or
    for a vendor that did not take part."""
    # an officer from the letters page; the approver whose approval of the decision issues them (decisions)
    require_role(actor, Role.officer, Role.approver, error=LettersRefused,
                 message=_l("Only procurement officers and approvers can issue letters."))
    if not outcomes:
        raise LettersRefused(_l("There is no vendor to write to."))
    if bad := sorted({kind for kind in outcomes.values() if kind not in LetterKind.__members__}):
        raise LettersRefused(_l("Unknown outcome: %(kinds)s.", kinds=", ".join(map(str, bad))))
    ranking = ranking_of(exercise)
    if ranking.error:
        raise LettersRefused(ranking.error)
    if strangers := sorted(set(outcomes) - set(ranking.results)):
        raise LettersRefused(_l("Only vendors whose proposals were evaluated get a letter (not vendor %(ids)s).",
                                ids=", ".join(map(str, strangers))))
    if exercise.kind == ExerciseKind.tender and LetterKind.shortlist.value in outcomes.values():
        raise LettersRefused(_l("A tender is awarded: its letters are award and regret letters."))
    batch = batch_of(exercise)
    if batch is None:
        batch = LetterBatch(exercise=exercise, reference=(reference or f"{exercise.reference}/L")[:60],
                            issued_by_id=actor.id, issued_at=now_utc())
        db.session.add(batch)
        db.session.flush()
        record(actor, "letters.issued", batch, exercise_id=exercise.id, letters=len(outcomes))
    number = max((letter.number for letter in batch.letters), default=0)
    vendors = {v.id: v for v in db.session.scalars(sa.select(Vendor).where(Vendor.id.in_(list(outcomes))))}
    added = []
    for due in sorted(letters_due(exercise, outcomes, decision),
                      key=lambda d: (ranking.results[d.vendor_id].rank, d.vendor_id)):
        vendor, kind = vendors[due.vendor_id], due.kind
        number += 1
        language = vendor_language(vendor)
        debrief = debrief_of(ranking, due.vendor_id, outcomes) if kind == LetterKind.regret.value else None
        letter = Letter(batch=batch, exercise_id=exercise.id, vendor_id=due.vendor_id, number=number,
                        decision_id=getattr(decision, "id", None), replaces=due.replaces,
                        kind=LetterKind(kind), language=language,
                        debrief=json.dumps(debrief, ensure_ascii=False) if debrief else None,
                        content_sha256="", issued_at=now_utc())
        letter.content_sha256 = letter_digest(exercise, vendor, kind, language, f"{batch.reference}/{number:04d}",
                                              debrief, replaces=due.replaces.reference if due.replaces else None)
        db.session.add(letter)
        db.session.flush()
        letter.document_id = queue_document("letter", letter, language=language, vendor_id=due.vendor_id,
                                            actor=actor).id
        added.append(letter)
    db.session.flush()
    if added and decision is not None and any(letter.replaces_id for letter in added):
        record(actor, "letters.replaced", batch, decision_id=decision.id,
               letters={letter.reference: letter.replaces.reference for letter in added if letter.replaces})
    _notify(exercise, added)
    return batch


def _notify(exercise: Exercise, letters: list[Letter]) -> None:
    """Each user of each company gets a message about its letter, in the user's saved language (else the letter's)."""
    from app.notifications import external_url, notify

    if not letters:
        return
    users = db.session.scalars(sa.select(User).where(User.vendor_id.in_([letter.vendor_id for letter in letters]),
                                                     User.is_enabled.is_(True), User.email_verified_at.is_not(None)))
    by_vendor: dict[int, list[User]] = {}
    for user in users:
        by_vendor.setdefault(user.vendor_id, []).append(user)
    link = external_url("contracts.my_letters")
    for letter in letters:
        for user in by_vendor.get(letter.vendor_id, []):
            locale = user.locale if user.locale in LANGUAGES else letter.language
            notify(to_email=user.email, template="letter_issued", locale=locale, user=user, link=link,
                   reference=exercise.reference, title=exercise.title(locale), letter_reference=letter.reference)


# --- reading ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Progress:
    total: int
    ready: int
    failed: int

    @property
    def pending(self) -> int:
        return self.total - self.ready - self.failed

    @property
    def done(self) -> bool:
        return self.pending == 0

    @property
    def percent(self) -> int:
        return 100 if not self.total else (100 * self.ready) // self.total


def progress_of(batch: LetterBatch) -> Progress:
    """How far the batch's renders are, counted in the database (one query)."""
    rows = db.session.execute(sa.select(Document.status, sa.func.count()).join(Letter, Letter.document_id == Document.id)
                              .where(Letter.batch_id == batch.id).group_by(Document.status))
    counts = {status: n for status, n in rows}
    return Progress(sum(counts.values()), counts.get(DocumentStatus.ready, 0), counts.get(DocumentStatus.failed, 0))


def letters_of_vendor(vendor_id: int) -> list[Letter]:
    return list(db.session.scalars(sa.select(Letter).where(Letter.vendor_id == vendor_id)
                                   .order_by(Letter.issued_at.desc(), Letter.id.desc())))


def debrief(letter: Letter) -> dict | None:
    return json.loads(letter.debrief) if letter.debrief else None


def award_notice(exercise: Exercise) -> dict | None:
    """The public notice once letters are issued: the award that stands (a tender) or the shortlist (an EOI), and the
    date of their letters. A letter in force is each vendor's latest; an award whose decision was declined no longer
    stands, so after a decline the notice names the replacement awardee once its letter is issued, and shows
    nothing in between. None before any letter."""
    from contracts.states import DecisionState

    batch = batch_of(exercise)
    if batch is None:
        return None
    kind = LetterKind.award if exercise.kind == ExerciseKind.tender else LetterKind.shortlist
    successful = [letter for letter in _latest_letters(exercise).values() if letter.kind == kind]
    standing = [letter for letter in successful
                if letter.decision is None or letter.decision.state != DecisionState.declined]
    if successful and not standing:
        return None  # the award lapsed: no notice until the next-ranked tenderer's award letter is issued
    return {"batch": batch, "kind": kind,
            "issued_at": max((letter.issued_at for letter in standing), default=batch.issued_at),
            "vendors": sorted((letter.vendor for letter in standing), key=lambda v: v.name_en.casefold())}
