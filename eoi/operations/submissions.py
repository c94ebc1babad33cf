"""Vendor actions on a submission: draft, upload, price, submit (with receipt), withdraw, re-confirm."""
from __future__ import annotations

import hashlib
from datetime import datetime
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from app.audit import record
from app.auth.models import User
from app.db import now_utc
from app.documents.service import queue_document
from app.errors import DomainError
from app.extensions import db
from app.i18n import hk_datetime, hk_datetime_precise, list_separator, sentences
from app.states import transition
from app.storage import SavedUpload
from eoi import sealed
from eoi.models import Exercise, LateAttempt, Section, Submission, SubmissionVersion
from eoi.operations.clarifications_addenda import unacknowledged_addenda
from eoi.operations.interest import acknowledge_to_company
from eoi.permissions import can_take_part
from eoi import rules
from eoi.sealed import PriceContent, SealedFile, TechnicalContent
from eoi.states import ExerciseState, SubmissionState


class SubmissionError(DomainError):
    pass


class SubmissionClosed(SubmissionError):
    """Refused after closing; the message states the server's time of receipt and the closing time.
    The boundary rolls the refused work back, then records the LateAttempt in its own transaction."""

    def __init__(self, message, *, exercise: Exercise, actor: User, action: str, received):
        super().__init__(message)
        self.exercise_id, self.closes_at = exercise.id, exercise.closes_at
        self.vendor_id, self.user_id = actor.vendor_id, actor.id
        self.action, self.received = action, received
        self.record_after_rollback(lambda: record_late_attempt(self))


@dataclass
class SaveResult:
    submission: Submission
    overwrote: User | None  # someone else saved after the version this user was editing
    saved: bool = True      # False when nothing differed from what was stored (save_on_screen)
    kept_theirs: tuple = ()  # sections ("answer", id) / ("price", id) a colleague changed and this page did not: kept


class DraftConflict(SubmissionError):
    """A colleague changed what this page also changed, since the page was loaded: nothing is saved, and the page
    shows both texts (theirs: {("answer", section id) or ("price", item id): their stored value})."""

    def __init__(self, message, *, theirs: dict, by: User | None, **params):
        super().__init__(message, **params)
        self.theirs, self.by = theirs, by


def fingerprint(value) -> str:
    """What the proposal page was loaded with, per answer or price (a hidden field): 16 hex digits of SHA-256. Only
    in the page sent to the vendor, never stored."""
    if isinstance(value, Decimal):
        value = f"{value:.2f}"
    return hashlib.sha256(str(value or "").replace("\r\n", "\n").encode()).hexdigest()[:16]


def require_open(exercise: Exercise, *, actor: User, action: str) -> datetime:
    """Invariant 2: the server clock decides. A late action is refused, recorded, and nothing is saved.
    Returns the time of receipt, which is the time the action is recorded at."""
    received = now_utc()
    if exercise.state == ExerciseState.published and not exercise.is_closed_at(received):
        return received
    if exercise.closes_at is not None and exercise.state in (ExerciseState.published, ExerciseState.closed,
                                                             ExerciseState.opened):
        message = _l("Refused: received at %(received)s (server time), after the closing time of %(closes)s.",
                     received=hk_datetime_precise(received), closes=hk_datetime(exercise.closes_at, "seconds"))
        raise SubmissionClosed(message, exercise=exercise, actor=actor, action=action, received=received)
    raise SubmissionError(_l("This exercise is not open for submissions."))


def record_late_attempt(refusal: SubmissionClosed) -> LateAttempt:
    """Keep the refusal for incident review; called after the refused work was rolled back."""
    attempt = LateAttempt(exercise_id=refusal.exercise_id, vendor_id=refusal.vendor_id, user_id=refusal.user_id,
                          action=refusal.action, received_at=refusal.received, closes_at=refusal.closes_at)
    db.session.add(attempt)
    db.session.flush()
    record(refusal.user_id and db.session.get(User, refusal.user_id), "submission.refused_late", attempt,
           exercise_id=refusal.exercise_id, received_at=refusal.received.isoformat(),
           closes_at=refusal.closes_at.isoformat())
    return attempt


def get_or_create_submission(exercise: Exercise, *, actor: User) -> Submission:
    if not can_take_part(actor, exercise):
        raise SubmissionError(_l("Your company cannot take part in this exercise."))
    submission = db.session.scalar(sa.select(Submission).where(Submission.exercise_id == exercise.id,
                                                               Submission.vendor_id == actor.vendor_id))
    if submission is None:
        try:
            require_open(exercise, actor=actor, action="start")
        except SubmissionClosed as late:  # starting is not a late submission: refused, nothing recorded
            raise SubmissionError(_l("This exercise closed at %(time)s. Proposals can no longer be started.",
                                     time=hk_datetime(exercise.closes_at))) from late
        submission = Submission(exercise=exercise, vendor_id=actor.vendor_id)
        db.session.add(submission)
        db.session.flush()
        record(actor, "submission.started", submission, exercise_id=exercise.id)
    return submission


_LOCKED_KEY = "tenderbox_locked_submissions"  # session.info: (transaction, ids of submissions locked in it)


def _locked_in_this_transaction(submission_id: int) -> bool:
    session = db.session()
    transaction, ids = session.info.get(_LOCKED_KEY, (None, ()))
    return transaction is not None and transaction is session.get_transaction() and submission_id in ids


def _select_for_update(*where) -> Submission | None:
    """Load a submission under its row lock (PostgreSQL; SQLite already serialises writers), its state fresh, and
    remember that this transaction holds the lock."""
    submission = db.session.scalars(sa.select(Submission).where(*where)
                                    .with_for_update().execution_options(populate_existing=True)).one_or_none()
    if submission is not None:
        session = db.session()
        transaction, ids = session.info.get(_LOCKED_KEY, (None, frozenset()))
        ids = ids if transaction is session.get_transaction() else frozenset()
        session.info[_LOCKED_KEY] = (session.get_transaction(), ids | {submission.id})
    return submission


def lock_submission_of(exercise: Exercise, vendor_id: int | None) -> Submission | None:
    """The company's submission in the exercise, loaded under its row lock: a request that is about to change it
    (the proposal page's actions) reads and locks it in one statement, and the operations do not lock it again."""
    return _select_for_update(Submission.exercise_id == exercise.id, Submission.vendor_id == vendor_id)


def _lock(submission: Submission) -> Submission:
    """Row lock on PostgreSQL (SQLite already serialises writers), so concurrent saves and submits queue; a
    submission already locked (and so read fresh) in this transaction is not selected again."""
    if _locked_in_this_transaction(submission.id):
        return submission
    return _select_for_update(Submission.id == submission.id)


def _reopen_if_withdrawn(submission: Submission, actor: User) -> None:
    if submission.state == SubmissionState.withdrawn:
        transition(submission, SubmissionState.draft, actor=actor, action="submission.reopened")


def _touch(submission: Submission, actor: User, expected_version: int | None) -> User | None:
    overwrote = None
    if expected_version is not None and submission.draft_version != expected_version and submission.last_saved_by_id != actor.id:
        overwrote = db.session.get(User, submission.last_saved_by_id) if submission.last_saved_by_id else None
    submission.draft_version += 1
    submission.last_saved_by_id, submission.last_saved_at = actor.id, now_utc()
    return overwrote


def _require_editable(submission: Submission, actor: User, action: str) -> None:
    require_open(submission.exercise, actor=actor, action=action)
    if submission.state == SubmissionState.submitted:
        raise SubmissionError(_l("Your proposal is submitted. Withdraw it first to make changes."))


def save_draft(submission: Submission, *, actor: User, answers: dict[int, str], expected_version: int | None = None) -> SaveResult:
    """Save answers (last save wins; the result names a colleague whose save this one replaced)."""
    submission = _lock(submission)
    _require_editable(submission, actor, "save")
    _reopen_if_withdrawn(submission, actor)
    sections = {s.id for s in submission.exercise.sections}
    sealed.write_answers(submission, {section_id: (text or "").replace("\r\n", "\n")
                                      for section_id, text in answers.items() if section_id in sections})
    overwrote = _touch(submission, actor, expected_version)
    db.session.flush()
    record(actor, "submission.draft_saved", submission, draft_version=submission.draft_version)  # never the content
    return SaveResult(submission, overwrote)


def save_on_screen(submission: Submission, *, actor: User, answers: dict[int, str], prices: dict[int, Decimal] | None = None,
                   expected_version: int | None = None, action: str = "save", loaded: dict | None = None) -> SaveResult:
    """What the vendor has on the proposal page, saved before the action the page asked for (save, upload, remove,
    submit) in the same transaction: the answers and prices that differ from the stored ones. Nothing differs:
    nothing is written or checked (the action checks for itself), so a resent page never adds a version or an event.
    A blank price leaves the stored one (as save_prices). `action` names a refusal after closing (late attempts)."""
    exercise = submission.exercise
    if not answers and not prices:
        return SaveResult(submission, None, saved=False)
    sections, items = {s.id for s in exercise.sections}, {i.id for i in exercise.price_items}
    stored = {} if not answers else sealed.content_for_system(submission, purpose="compare with what is on screen").answers
    changed_answers = {section_id: text for section_id, text in
                       ((k, (v or "").replace("\r\n", "\n")) for k, v in answers.items() if k in sections)
                       if text != stored.get(section_id, "")}
    changed_prices: dict[int, Decimal] = {}
    stored_prices: dict = {}
    if prices and exercise.has_price_envelope:
        stored_prices = sealed.prices_for_system(submission, purpose="compare with what is on screen").lines
        changed_prices = {k: v for k, v in prices.items() if k in items and stored_prices.get(k) != v}
    kept_theirs: list = []
    if loaded is not None:  # three-way: what the page was loaded with, what it sends, what is stored now
        conflicts: dict = {}
        for kind, changed, current in (("answer", changed_answers, stored),
                                       ("price", changed_prices, stored_prices if changed_prices else {})):
            for key in list(changed):
                base = loaded.get((kind, key))
                if base is None:
                    continue
                if fingerprint(changed[key]) == base:  # not edited on this page: the stored one is a colleague's
                    del changed[key]
                    kept_theirs.append((kind, key))
                elif fingerprint(current.get(key, "")) != base:  # edited here and by a colleague since loading
                    conflicts[(kind, key)] = current.get(key, "")
        if conflicts:
            by = db.session.get(User, submission.last_saved_by_id) if submission.last_saved_by_id else None
            raise DraftConflict(_l("%(name)s changed this proposal after you opened the page, in the same places as "
                                   "you. Nothing was saved. What you typed is in the fields; what they saved is shown "
                                   "under each of those fields. Combine the two, then press the button again."),
                                theirs=conflicts, by=by, name=by.name if by else _l("A colleague"))
    if not changed_answers and not changed_prices:
        return SaveResult(submission, None, saved=False, kept_theirs=tuple(kept_theirs))
    submission = _lock(submission)
    _require_editable(submission, actor, action)
    _reopen_if_withdrawn(submission, actor)
    if changed_answers:
        sealed.write_answers(submission, changed_answers)
    if changed_prices:
        sealed.write_prices(submission, changed_prices)
    overwrote = _touch(submission, actor, expected_version)
    db.session.flush()
    if changed_answers:
        record(actor, "submission.draft_saved", submission, draft_version=submission.draft_version)  # never the content
    if changed_prices:
        record(actor, "submission.prices_saved", submission)  # never the amounts
    if loaded is not None:
        overwrote = None  # three-way: nothing a colleague saved was replaced
    return SaveResult(submission, overwrote, kept_theirs=tuple(kept_theirs))


def add_submission_file(submission: Submission, upload: SavedUpload, *, actor: User, section: Section | None) -> SealedFile:
    """Attach a file received through eoi.sealed.receive_file (before closing, to an unsubmitted proposal)."""
    submission = _lock(submission)
    _require_editable(submission, actor, "upload")
    _reopen_if_withdrawn(submission, actor)
    item = sealed.attach_file(submission, upload, section_id=section.id if section else None, uploaded_by_id=actor.id)
    _touch(submission, actor, None)
    db.session.flush()
    record(actor, "submission.file_added", submission, file_id=item.id)  # no name, size or hash: sealed
    return item


def remove_submission_file(submission: Submission, file_id: int, *, actor: User) -> None:
    """Remove an attachment (before closing, from an unsubmitted proposal); raises SubmissionError if absent."""
    submission = _lock(submission)
    _require_editable(submission, actor, "remove_file")
    _reopen_if_withdrawn(submission, actor)
    if not sealed.detach_file(submission, file_id):  # the stored file stays: an earlier version may list it
        raise SubmissionError(_l("This file is not part of your proposal."))
    _touch(submission, actor, None)
    db.session.flush()
    record(actor, "submission.file_removed", submission, file_id=file_id)


def save_prices(submission: Submission, *, actor: User, prices: dict[int, Decimal]) -> None:
    submission = _lock(submission)
    _require_editable(submission, actor, "price")
    _reopen_if_withdrawn(submission, actor)
    items = {i.id for i in submission.exercise.price_items}
    sealed.write_prices(submission, {item_id: amount for item_id, amount in prices.items() if item_id in items})
    _touch(submission, actor, None)
    db.session.flush()
    record(actor, "submission.prices_saved", submission)  # never the amounts


def completeness_problems(submission: Submission, *, content: TechnicalContent | None = None,
                          prices: PriceContent | None = None) -> list[str]:
    """What is missing before the proposal can be submitted (the rule: eoi.rules), read through the sealed box's
    system door. A caller that has already read the content (the proposal page, submit) passes it in, so it is
    read once per request."""
    exercise = submission.exercise
    if content is None:
        content = sealed.content_for_system(submission, purpose="completeness check")
    priced, items = None, ()  # without a price envelope the schedule is not checked, so not loaded
    if exercise.has_price_envelope:
        if prices is None:
            prices = sealed.prices_for_system(submission, purpose="completeness check")
        priced, items = set(prices.lines), exercise.price_items
    return rules.completeness_problems(exercise.sections, content.answers, {f.section_id for f in content.files},
                                       items, priced, locale=get_locale())


def _sealed_for_submit(submission: Submission) -> tuple[TechnicalContent, PriceContent]:
    """The content and prices read once for the completeness check and the manifest. Without a price envelope
    there are no price items, so no price lines can exist (save_prices keeps only the exercise's items)."""
    content = sealed.content_for_system(submission, purpose="submission")
    if not submission.exercise.has_price_envelope:
        return content, PriceContent()
    return content, sealed.prices_for_system(submission, purpose="submission")


def submit_submission(submission: Submission, *, actor: User, draft_version: int) -> SubmissionVersion:
    """Submit in one step: server-clock closing check, addenda acknowledged, complete; answered with a receipt.
    Idempotent: resending the same draft version returns the same receipt (no second submission)."""
    submission = _lock(submission)
    current = submission.current_version
    if submission.state == SubmissionState.submitted and current and current.from_draft_version == draft_version:
        return current
    received = require_open(submission.exercise, actor=actor, action="submit")
    if submission.state == SubmissionState.submitted:
        raise SubmissionError(_l("Your proposal is already submitted."))
    if draft_version != submission.draft_version:
        raise SubmissionError(_l("The proposal changed since you opened this page. Review it and submit again."))
    if missing := unacknowledged_addenda(submission.exercise, submission.vendor_id):
        raise SubmissionError(_l("Acknowledge addendum no. %(n)s before submitting.",
                                 n=list_separator().join(str(a.number) for a in missing)))
    content, prices = _sealed_for_submit(submission)
    if problems := completeness_problems(submission, content=content, prices=prices):
        raise SubmissionError(_l("Your proposal is not complete: %(list)s", list=sentences(problems)))
    # The current version is always the latest one (every submit makes the new version current; a withdrawal
    # keeps it), so its number is the count so far; the (submission, number) unique constraint backs this up.
    number = current.number + 1 if current else 1
    now = received
    version = SubmissionVersion(submission_id=submission.id, number=number, submitted_at=now,
                                submitted_by_id=actor.id, from_draft_version=draft_version,
                                receipt_number=f"{submission.exercise.reference}-R{submission.id:04d}-{number:02d}")
    sealed.freeze_manifest(version, submission, content=content, prices=prices)
    db.session.add(version)
    db.session.flush()
    # The foreign key itself, not the post_update relationship: one UPDATE of the submission instead of two.
    submission.current_version_id, submission.submitted_at, submission.needs_reconfirmation = version.id, now, False
    db.session.expire(submission, ["current_version", "versions"])
    transition(submission, SubmissionState.submitted, actor=actor, action="submission.submitted",
               receipt_number=version.receipt_number, sha256=version.sha256)
    doc = queue_document("submission_receipt", version, language=actor.locale or "en", vendor_id=submission.vendor_id,
                         actor=actor)
    version.receipt_document_id = doc.id
    acknowledge_to_company(submission.vendor_id, "submission_received", submission.exercise,
                           endpoint="eoi.submission_receipt", receipt_number=version.receipt_number,
                           received_at=version.submitted_at, manifest_sha256=version.sha256, by=actor.name)
    return version


def withdraw_submission(submission: Submission, *, actor: User) -> Submission:
    """Withdraw before closing; the version stays on record, marked withdrawn."""
    submission = _lock(submission)
    received = require_open(submission.exercise, actor=actor, action="withdraw")
    if submission.current_version is not None:
        submission.current_version.withdrawn_at = received
    submission.submitted_at = None
    transition(submission, SubmissionState.withdrawn, actor=actor, action="submission.withdrawn")
    acknowledge_to_company(submission.vendor_id, "submission_withdrawn", submission.exercise,
                           endpoint="eoi.submission_edit", withdrawn_at=received, closes_at=submission.exercise.closes_at,
                           receipt_number=getattr(submission.current_version, "receipt_number", None), by=actor.name)
    return submission


def reconfirm_submission(submission: Submission, *, actor: User) -> Submission:
    """After an addendum that changed requirements, the vendor confirms its submission still stands."""
    submission = _lock(submission)
    received = require_open(submission.exercise, actor=actor, action="reconfirm")
    if submission.state != SubmissionState.submitted or not submission.needs_reconfirmation:
        raise SubmissionError(_l("Nothing to re-confirm."))
    if missing := unacknowledged_addenda(submission.exercise, submission.vendor_id):
        raise SubmissionError(_l("Acknowledge addendum no. %(n)s first.",
                                 n=list_separator().join(str(a.number) for a in missing)))
    submission.needs_reconfirmation = False
    record(actor, "submission.reconfirmed", submission)
    acknowledge_to_company(submission.vendor_id, "submission_reconfirmed", submission.exercise,
                           endpoint="eoi.submission_receipt", reconfirmed_at=received,
                           receipt_number=submission.current_version.receipt_number, by=actor.name)
    return submission


