"""The end of the technical evaluation (issue 10, item 6): the chair signs it off (one action, audited; the
scores are frozen from then on), and for a tender the price envelopes of the technically compliant tenders are
opened by two named officers with the cryptographic opening (eoi.operations.opening, envelope=price), which asks
this area's price gate (registered in scoring.init_app) first."""
from __future__ import annotations

import json

from flask_babel import lazy_gettext as _l

from app.audit import record
from app.auth.models import User
from app.db import now_utc
from app.documents.service import queue_document
from app.guards import ActionRefused
from app.hooks import PriceGate
from app.i18n import sentences
from app.states import transition
from eoi.models import Exercise, Submission
from eoi.operations import confirm_opening, start_opening
from eoi.states import OpeningEnvelope
from scoring.documents import PRICE_RECORD_KIND
from scoring.models import Panel
from scoring.permissions import can_sign_off
from scoring.queries import (consensus_of_panel, open_sheet_count, panel_moderation, panel_of, results_of)
from scoring.states import PanelState

__all__ = ["ResultsError", "sign_off_problems", "sign_off_technical", "require_scores_open", "price_gate",
           "start_price_opening", "confirm_price_opening", "require_price_readable"]

PRICE_REFUSED = "exercise.price_opening_refused"


class ResultsError(ActionRefused):
    pass


def require_scores_open(panel: Panel, *, error: type[ActionRefused] = ActionRefused) -> None:
    """After the chair's sign-off the scores are frozen: no save, submission, reopening or consensus."""
    if panel.is_signed_off:
        raise error(_l("The chair signed the technical evaluation off on %(when)s: the scores are frozen and can no "
                       "longer change.", when=_hk(panel.signed_off_at)))


def _hk(moment) -> str:
    from app.i18n import hk_datetime
    return hk_datetime(moment)


def sign_off_problems(panel: Panel) -> list[str]:
    """What still stands in the way of the sign-off (empty when the panel is ready): every assigned sheet of the
    panel's active members submitted, a consensus recorded for every criterion where the submitted scores have an
    outlier, and every proposal scored on every criterion."""
    problems = []
    open_sheets = open_sheet_count(panel)
    if open_sheets:
        problems.append(str(_l("Assigned score sheets not submitted yet: %(n)s.", n=open_sheets)))
    # the whole panel's statistics and consensus in two statements (per proposal, 1,000 proposals were 1,000 rounds)
    consensus = consensus_of_panel(panel)
    needing = sum(1 for submission_id, cells in panel_moderation(panel).items()
                  for criterion_id, cell in cells.items()
                  if cell.outliers and criterion_id not in consensus.get(submission_id, {}))
    if needing:
        problems.append(str(_l("Criteria with an outlying score and no consensus yet (record one on the proposal's "
                               "moderation page): %(n)s.", n=needing)))
    if not problems and "error" in results_of(panel):
        problems.append(str(_l("Every proposal must have a submitted score on every criterion.")))
    return problems


def sign_off_technical(panel: Panel, *, actor: User) -> Panel:
    """The chair signs the technical evaluation off: one action, audited with the ranking it signs (each proposal's
    weighted total and pass/fail). The proposals that pass every pass mark are kept as the technically compliant
    ones: for a tender, only their price envelopes are opened. Raises ResultsError."""
    if not can_sign_off(actor, panel):
        if panel.is_signed_off:
            require_scores_open(panel, error=ResultsError)
        raise ResultsError(_l("Only the panel's chair signs the technical evaluation off, once, while the exercise "
                              "is under evaluation."))
    if problems := sign_off_problems(panel):
        raise ResultsError(_l("The technical evaluation cannot be signed off yet: %(problems)s",
                              problems=sentences(problems)))
    view = results_of(panel)
    compliant = [int(r.proposal) for r in view["results"] if r.passed]
    panel.signed_off_at, panel.signed_off_by_id = now_utc(), actor.id
    panel.compliant_ids = json.dumps(compliant)
    transition(panel, PanelState.signed_off, actor=actor, action="panel.technical_signed_off",
               exercise_id=panel.exercise_id, compliant=compliant,
               ranking=[{"submission_id": int(r.proposal), "rank": r.rank, "total": str(r.total), "passed": r.passed}
                        for r in view["results"]])
    return panel


def price_gate(exercise: Exercise) -> PriceGate:
    """Registered as the scoring area's price-opening gate (app.hooks): a tender's prices are opened only after
    the chair's sign-off, and only those of the technically compliant tenders."""
    panel = panel_of(exercise)
    if panel is None or not panel.is_signed_off:
        return PriceGate((str(_l("The price envelopes are opened only after the panel's chair has signed the "
                                 "technical evaluation off.")),), frozenset())
    if not panel.compliant:
        return PriceGate((str(_l("No tender passed the technical evaluation: every price envelope stays sealed.")),),
                         frozenset())
    return PriceGate((), frozenset(panel.compliant))


def start_price_opening(panel: Panel, *, actor: User, passphrase: str):
    """The first named officer starts the price opening with its opening passphrase (refused and audited before
    the sign-off, by anyone but a named officer)."""
    return start_opening(panel.exercise, actor=actor, passphrase=passphrase, envelope=OpeningEnvelope.price)


def confirm_price_opening(panel: Panel, *, actor: User, passphrase: str) -> Exercise:
    """A second, different named officer confirms: the compliant tenders' price keys are rebuilt and every price
    line checked against the receipts; the others' stay sealed. The price opening record (scoring.documents) is
    queued, rendered once this commits."""
    exercise = confirm_opening(panel.exercise, actor=actor, passphrase=passphrase, envelope=OpeningEnvelope.price)
    queue_document(PRICE_RECORD_KIND, exercise, language="en", vendor_id=None, actor=actor)
    return exercise


def require_price_readable(panel: Panel, submission: Submission, *, actor: User) -> None:
    """A tender's prices are shown after the price opening, and only a compliant tender's: reaching for another
    is refused and audited."""
    exercise = panel.exercise
    if exercise.price_opened_at is None or submission.id not in panel.compliant:
        message = _l("This tender's price envelope stays sealed: only the technically compliant tenders' prices are "
                     "opened, after the chair's sign-off.")
        raise ResultsError(message).record_after_rollback(
            lambda: record(actor, PRICE_REFUSED, exercise, submission_id=submission.id, reason=str(message)))
