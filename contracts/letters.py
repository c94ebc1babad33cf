"""Letters to the vendors of an exercise after its evaluation: award or shortlist letters to the successful ones and
regret letters, with a debrief of that vendor's own scores, to every other one; each a signed PDF in the vendor's
language, rendered by the document task (app.documents), downloaded by that vendor only, announced in-app and by
email, and followed by the public award notice.

`issue_letters(exercise, outcomes, actor=, reference=)` takes the outcome per vendor from its caller (today
`default_outcomes`, from the technical ranking; with decisions, `decision_outcomes(decision)` on approval) and is
idempotent: the Letter rows are the truth, issuing again adds only the vendors that have no letter yet, and a render
task delivered twice finds its document claimed or ready (app.documents.service.claim_document).

Hooking it to decisions: `_on_decision_approved(decision, actor)` calls
    issue_letters(decision.exercise, decision_outcomes(decision), actor=actor,
                  reference=f"{decision.exercise.reference}/L")
(an approver may issue), and the letters page (contracts/letter_views.py) takes the approved decision's outcomes
instead of `default_outcomes`, refusing before approval."""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
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
                  debrief: dict | None) -> str:
    """SHA-256 of what a letter says (canonical JSON), printed in its footer so a paper copy can be checked."""
    content = {"reference": reference, "exercise": exercise.reference, "vendor": vendor.br_number, "kind": kind,
               "language": language, "debrief": debrief}
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# --- issuing ------------------------------------------------------------------------------------

def batch_of(exercise: Exercise) -> LetterBatch | None:
    return db.session.scalar(sa.select(LetterBatch).where(LetterBatch.exercise_id == exercise.id))


def issue_letters(exercise: Exercise, outcomes: dict[int, str], *, actor: User, reference: str | None = None
                  ) -> LetterBatch:
    """One letter per vendor of outcomes (vendor id -> "award" | "shortlist" | "regret"), each queued for rendering
    and signing in the vendor's language, its users notified. Idempotent: the batch and the letters already written
    stay as they are; only vendors without a letter get one. Refused without results, for an unknown outcome, or
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
    existing = {letter.vendor_id for letter in batch.letters}
    number = max((letter.number for letter in batch.letters), default=0)
    vendors = {v.id: v for v in db.session.scalars(sa.select(Vendor).where(Vendor.id.in_(list(outcomes))))}
    added = []
    for vendor_id in sorted(set(outcomes) - existing, key=lambda v: (ranking.results[v].rank, v)):
        vendor, kind = vendors[vendor_id], outcomes[vendor_id]
        number += 1
        language = vendor_language(vendor)
        debrief = debrief_of(ranking, vendor_id, outcomes) if kind == LetterKind.regret.value else None
        letter = Letter(batch=batch, exercise_id=exercise.id, vendor_id=vendor_id, number=number,
                        kind=LetterKind(kind), language=language,
                        debrief=json.dumps(debrief, ensure_ascii=False) if debrief else None,
                        content_sha256="", issued_at=now_utc())
        letter.content_sha256 = letter_digest(exercise, vendor, kind, language, f"{batch.reference}/{number:04d}",
                                              debrief)
        db.session.add(letter)
        db.session.flush()
        letter.document_id = queue_document("letter", letter, language=language, vendor_id=vendor_id,
                                            actor=actor).id
        added.append(letter)
    db.session.flush()
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
    """The public notice once letters are issued: the awarded vendor (a tender) or the shortlist (an EOI), and the
    date. None before."""
    batch = batch_of(exercise)
    if batch is None:
        return None
    kind = LetterKind.award if exercise.kind == ExerciseKind.tender else LetterKind.shortlist
    vendors = [letter.vendor for letter in batch.letters if letter.kind == kind]
    return {"batch": batch, "kind": kind,
            "vendors": sorted(vendors, key=lambda v: v.name_en.casefold())}
