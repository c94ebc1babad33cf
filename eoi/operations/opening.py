"""Closing the box at the deadline, the officers named to open it, and the two-officer opening (invariant 3),
with the keys that seal it (issue 9, docs/sealing.md): each officer's opening key, the exercise's opening keys
split 2-of-n among the named officers at publication, the drafts' keys destroyed at closing, and the opening that
rebuilds the exercise's key from two officers' shares in memory only."""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from app.audit import AuditEvent, record
from app.auth.models import Role, User
from app.auth.passwords import verify_password
from app.db import now_utc
from app.documents.service import queue_document
from app.hooks import price_gate_from_areas
from app.extensions import db
from app.i18n import hk_datetime, sentences
from app.states import transition
from eoi import crypto, sealed
from eoi.models import Exercise, Opening, OpeningKey, OpeningKeyShare, OpeningOfficer
from eoi.operations.common import ExerciseError, require_officer, require_state
from eoi.permissions import can_take_part_in_opening
from eoi.queries import live_opening, pending_incident, standing_submissions
from eoi.states import ExerciseState, OpeningEnvelope, OpeningState

PASSWORD_FAILED = "exercise.opening_reauth_failed"


# --- each officer's opening key --------------------------------------------------------------------------------

def _officer_aad(user_id: int) -> str:
    return f"tenderbox/officer-key/{user_id}"


def opening_passphrase_problems(passphrase: str, confirm: str, user: User) -> list[str]:
    minimum = current_app.config["OPENING_PASSPHRASE_MIN_LENGTH"]
    problems = []
    if len(passphrase or "") < minimum:
        problems.append(str(_l("The opening passphrase must be at least %(n)s characters long.", n=minimum)))
    if passphrase != confirm:
        problems.append(str(_l("The two passphrases are not the same.")))
    if passphrase and user.password_hash and verify_password(user.password_hash, passphrase):
        problems.append(str(_l("Choose an opening passphrase different from your sign-in password.")))
    return problems


def set_opening_passphrase(actor: User, passphrase: str, *, confirm: str | None = None,
                           current: str | None = None) -> OpeningKey:
    """An officer sets its opening passphrase (once; changing it needs the current one). A new X25519 opening key is
    made the first time; the server keeps its public key and its private key encrypted under an Argon2id key of the
    passphrase, never the passphrase. A change re-encrypts the same private key, so shares already sealed stay valid."""
    require_officer(actor)
    if problems := opening_passphrase_problems(passphrase, passphrase if confirm is None else confirm, actor):
        raise ExerciseError(sentences(problems))
    key = db.session.get(OpeningKey, actor.id)
    params = current_app.config["OPENING_KDF"]
    if key is None:
        private, public = crypto.new_keypair()
        key = OpeningKey(user_id=actor.id, public_key=crypto.b64e(public), created_at=now_utc())
        db.session.add(key)
        action = "opening_key.created"
    else:
        try:
            private = crypto.unlock_private_key(json.loads(key.locked_private_key), current or "", _officer_aad(actor.id))
        except crypto.SealBroken:
            raise ExerciseError(_l("Your current opening passphrase was not correct.")).record_after_rollback(
                lambda: record(actor, PASSWORD_FAILED, actor)) from None
        key.changed_at = now_utc()
        action = "opening_key.passphrase_changed"
    key.locked_private_key = json.dumps(crypto.lock_private_key(private, passphrase, params, _officer_aad(actor.id)))
    db.session.flush()
    record(actor, action, actor, public_key=key.public_key)
    return key


def has_opening_key(user: User) -> bool:
    return db.session.get(OpeningKey, user.id) is not None


def _unlock_officer_key(user: User, passphrase: str) -> bytes | None:
    """The officer's opening private key, or None if the passphrase is wrong (or it has no key)."""
    key = db.session.get(OpeningKey, user.id)
    if key is None:
        return None
    try:
        return crypto.unlock_private_key(json.loads(key.locked_private_key), passphrase or "", _officer_aad(user.id))
    except crypto.SealBroken:
        return None


# --- the exercise's opening keys, split among the named officers -------------------------------------------------

def _share_aad(exercise_id: int, user_id: int, envelope: str, generation: int) -> str:
    return f"tenderbox/share/{exercise_id}/{user_id}/{envelope}/{generation}"


def seal_exercise(exercise: Exercise, officers: Sequence[User]) -> None:
    """At publication (and at re-keying): a new X25519 opening key per envelope; each private key is split 2-of-n,
    one share sealed to each named officer's opening key, and forgotten (never stored). The public keys are kept."""
    previous = sealed.exercise_public_keys(exercise)
    generation = previous.get("generation", 0) + 1
    keys = {o.user_id: db.session.get(OpeningKey, o.user_id) for o in exercise.opening_officers}
    public = {"generation": generation}
    db.session.execute(sa.delete(OpeningKeyShare).where(OpeningKeyShare.exercise_id == exercise.id))
    for envelope in sealed.ENVELOPES:
        private, public_key = crypto.new_keypair()
        public[envelope] = crypto.b64e(public_key)
        for (user_id, officer_key), (index, share) in zip(sorted(keys.items()), crypto.split_secret(private, len(keys))):
            db.session.add(OpeningKeyShare(
                exercise_id=exercise.id, user_id=user_id, envelope=envelope, share_index=index, generation=generation,
                sealed_share=crypto.seal_to(crypto.b64d(officer_key.public_key), bytes([index]) + share,
                                            _share_aad(exercise.id, user_id, envelope, generation))))
        del private
    exercise.seal_public_keys = json.dumps(public, sort_keys=True)
    db.session.flush()


def _unlock_share(exercise: Exercise, user: User, officer_private: bytes, envelope: str) -> tuple[int, bytes]:
    """The officer's share of the exercise's opening key; a missing or damaged share is refused with its name."""
    row = db.session.get(OpeningKeyShare, (exercise.id, user.id, envelope))
    generation = sealed.exercise_public_keys(exercise).get("generation", 1)
    if row is None or row.generation != generation:
        raise ExerciseError(_l("The key share of %(name)s for this exercise is missing; the box cannot be opened with "
                               "it. Another named officer can take part.", name=user.name))
    try:
        plain = crypto.open_sealed(officer_private, row.sealed_share, _share_aad(exercise.id, user.id, envelope,
                                                                                 generation))
    except (crypto.SealBroken, ValueError):
        raise ExerciseError(_l("The key share of %(name)s for this exercise is damaged; the box cannot be opened with "
                               "it. Another named officer can take part.", name=user.name)) from None
    return plain[0], plain[1:]


def close_exercise(exercise: Exercise, *, actor=None) -> bool:
    """Mark a published exercise closed once its closing time has passed (idempotent)."""
    if exercise.state != ExerciseState.published or not exercise.is_closed_at(now_utc()):
        return False
    exercise.closed_at = now_utc()
    destroyed = sealed.destroy_draft_keys(exercise)  # from now on only two named officers together can decrypt
    transition(exercise, ExerciseState.closed, actor=actor, action="exercise.closed", closes_at=exercise.closes_at.isoformat(),
               draft_keys_destroyed=destroyed)
    return True


def close_due_exercises(now: datetime | None = None) -> int:
    """Periodic: close every published exercise whose closing time has passed."""
    due = db.session.scalars(sa.select(Exercise).where(Exercise.state == ExerciseState.published,
                                                       Exercise.closes_at <= (now or now_utc()))).all()
    return sum(close_exercise(e) for e in due)


# --- the officers named at publication -----------------------------------------------------------------------

def opening_officer_problems(officers: Sequence[User]) -> list[str]:
    """What is wrong with a choice of opening officers, as messages (empty when the choice is valid)."""
    minimum = current_app.config["OPENING_OFFICERS_MIN"]
    problems = [str(_l("%(name)s is not an active procurement officer and cannot be named to open the box.",
                       name=u.name)) for u in officers if u.role != Role.officer or not u.is_enabled]
    problems += [str(_l("%(name)s has not set an opening passphrase and cannot be named to open the box.",
                        name=u.name)) for u in officers if u.role == Role.officer and not has_opening_key(u)]
    if len({u.id for u in officers}) < minimum:
        problems.append(str(_l("Name at least %(n)s officers who may open the box (any two of them open it, so one "
                               "absence does not block the opening).", n=minimum)))
    return problems


def name_opening_officers(exercise: Exercise, officers: Sequence[User], *, actor: User) -> list[OpeningOfficer]:
    """At publication, name the officers who alone may open the box (invariant 3). Officers who exist now only:
    the list is never added to later, so an account created or made an officer afterwards cannot take part."""
    if exercise.opening_officers:
        raise ExerciseError(_l("The opening officers were named when the exercise was published."))
    if problems := opening_officer_problems(officers):
        raise ExerciseError(sentences(problems))
    now = now_utc()
    named = [OpeningOfficer(exercise_id=exercise.id, user_id=u.id, named_by_id=actor.id, named_at=now)
             for u in sorted({u.id: u for u in officers}.values(), key=lambda u: u.id)]
    exercise.opening_officers.extend(named)
    db.session.flush()
    seal_exercise(exercise, officers)
    record(actor, "exercise.opening_officers_named", exercise, officers=[{"id": u.id, "email": u.email} for u in
                                                                         sorted(officers, key=lambda u: u.id)],
           seal_public_keys=exercise.seal_public_keys)
    return named


def rekey_opening(exercise: Exercise, officers: Sequence[User], *, actor: User, passphrase: str, second: User,
                  second_passphrase: str) -> list[OpeningOfficer]:
    """Before closing, two named officers who can still take part name the officers who open the box afresh (for
    when fewer than two named officers remain able): new opening keys split among the new list, every proposal's
    data keys re-sealed to them (the server still holds the drafts' keys before closing). Both passphrases are
    checked (throttled and audited like the opening's)."""
    require_officer(actor)
    if exercise.state != ExerciseState.published or exercise.is_closed_at(now_utc()):
        raise ExerciseError(_l("The opening officers can be changed only before closing."))
    if second.id == actor.id:
        raise ExerciseError(_l("A second, different officer must confirm the change."))
    for officer, phrase in ((actor, passphrase), (second, second_passphrase)):
        require_opening_officer(exercise, officer)
        _require_password_tries_left(exercise, officer)
        if _unlock_officer_key(officer, phrase) is None:
            raise ExerciseError(_l("The opening passphrase of %(name)s was not correct.", name=officer.name)
                                ).record_after_rollback(lambda officer=officer: record(officer, PASSWORD_FAILED, exercise))
    if problems := opening_officer_problems(officers):
        raise ExerciseError(sentences(problems))
    before = [o.user_id for o in exercise.opening_officers]
    exercise.opening_officers.clear()
    db.session.flush()
    now = now_utc()
    named = [OpeningOfficer(exercise_id=exercise.id, user_id=u.id, named_by_id=actor.id, named_at=now)
             for u in sorted({u.id: u for u in officers}.values(), key=lambda u: u.id)]
    exercise.opening_officers.extend(named)
    db.session.flush()
    seal_exercise(exercise, officers)
    resealed = sealed.reseal_for_opening(exercise)
    record(actor, "exercise.opening_officers_rekeyed", exercise, second_officer=second.id, before=before,
           after=[o.user_id for o in named], proposals_resealed=resealed, seal_public_keys=exercise.seal_public_keys)
    return named


def require_opening_officer(exercise: Exercise, actor: User) -> None:
    """Raise unless actor is a named opening officer who can still take part (invariant 3)."""
    if not can_take_part_in_opening(actor, exercise):
        raise ExerciseError(_l("Only the officers named when this exercise was published can open its box; you are "
                               "not one of them."))


# --- the two-officer opening ------------------------------------------------------------------------------------

def _require_no_pending_incident(exercise: Exercise) -> None:
    if pending_incident(exercise) is not None:
        raise ExerciseError(_l("A deadline incident that would re-open the box awaits a second officer's confirmation: "
                               "confirm or decline it before the opening."))


def cancel_started_opening(exercise: Exercise, *, actor, reason: str) -> Opening | None:
    """Cancel an opening that was started and not completed (the box re-opened, the exercise was cancelled, or
    its first officer can no longer take part)."""
    opening = live_opening(exercise)
    if opening is None or opening.state != OpeningState.started:
        return None
    opening.cancelled_at, opening.cancel_reason = now_utc(), reason
    opening.pending_shares = None
    transition(opening, OpeningState.cancelled, actor=actor, action="opening.cancelled", reason=reason,
               exercise_id=exercise.id)
    db.session.flush()
    return opening


PRICE_REFUSED = "exercise.price_opening_refused"


def _price_refused(exercise: Exercise, actor: User, message) -> ExerciseError:
    """A refused price opening (too early, not compliant, ...): refused with the reason and audited."""
    return ExerciseError(message).record_after_rollback(
        lambda: record(actor, PRICE_REFUSED, exercise, reason=str(message)))


def _require_openable(exercise: Exercise, envelope: OpeningEnvelope, actor: User) -> None:
    """The technical envelope opens after closing; the price envelope (a separate key) once, after the technical
    opening and when every area's price gate allows it (app.hooks: the scoring area's sign-off of the technical
    evaluation). A refused price opening is audited."""
    if envelope == OpeningEnvelope.technical:
        close_exercise(exercise, actor=actor)
        require_state(exercise, ExerciseState.closed)
        return
    if not exercise.has_price_envelope or exercise.opened_at is None or exercise.price_opened_at is not None:
        raise _price_refused(exercise, actor, _l("The price envelopes can be opened only once, after the technical "
                                                 "opening."))
    if problems := price_gate_from_areas(exercise).problems:
        raise _price_refused(exercise, actor, sentences(problems))


def price_openable_submissions(exercise: Exercise) -> list:
    """The standing proposals whose price envelopes the price opening opens: those every area's gate admits (the
    technically compliant tenders); the others' prices stay sealed."""
    admitted = price_gate_from_areas(exercise).submission_ids
    return [s for s in standing_submissions(exercise) if admitted is None or s.id in admitted]


def _require_opening_officer_role(exercise: Exercise, actor: User, envelope: OpeningEnvelope) -> None:
    """Only officers open; someone else reaching for the prices is refused and audited."""
    if envelope == OpeningEnvelope.price and getattr(actor, "role", None) != Role.officer:
        raise _price_refused(exercise, actor, _l("Only procurement officers named to open this exercise can open its "
                                                 "price envelopes."))
    require_officer(actor)


def _wrong_passphrase(exercise: Exercise, actor: User) -> ExerciseError:
    return ExerciseError(_l("Your opening passphrase was not correct; the box stays sealed.")).record_after_rollback(
        lambda: record(actor, PASSWORD_FAILED, exercise))


def _pending_aad(opening_id: int, user_id: int) -> str:
    return f"tenderbox/pending-share/{opening_id}/{user_id}"


def start_opening(exercise: Exercise, *, actor: User, passphrase: str = "",
                  envelope: OpeningEnvelope = OpeningEnvelope.technical) -> Opening:
    """A named officer starts the opening after closing with its opening passphrase; a second, different named
    officer must confirm it. The passphrase unlocks this officer's key share, which is re-sealed at once to every
    other named officer's opening key (never kept in plain); only a second officer's passphrase reads it back.
    Starting again as the same officer changes nothing. Raises ExerciseError."""
    _require_opening_officer_role(exercise, actor, envelope)
    _require_openable(exercise, envelope, actor)
    require_opening_officer(exercise, actor)
    _require_no_pending_incident(exercise)
    opening = live_opening(exercise, envelope)
    if opening is not None:
        if opening.started_by_id == actor.id:
            return opening
        if can_take_part_in_opening(opening.started_by, exercise):
            raise ExerciseError(_l("The opening was already started by %(name)s; confirm it as the second officer.",
                                   name=opening.started_by.name))
        cancel_started_opening(exercise, actor=actor, reason="The officer who started it can no longer take part.")
    _require_password_tries_left(exercise, actor)
    officer_private = _unlock_officer_key(actor, passphrase)
    if officer_private is None:
        raise _wrong_passphrase(exercise, actor)
    index, share = _unlock_share(exercise, actor, officer_private, envelope.value)
    opening = Opening(exercise_id=exercise.id, envelope=envelope, started_by_id=actor.id, started_at=now_utc(),
                      state=OpeningState.started)
    db.session.add(opening)
    db.session.flush()
    others = {o.user_id: db.session.get(OpeningKey, o.user_id) for o in exercise.opening_officers if o.user_id != actor.id}
    opening.pending_shares = json.dumps({str(user_id): crypto.seal_to(crypto.b64d(key.public_key), bytes([index]) + share,
                                                                      _pending_aad(opening.id, user_id))
                                         for user_id, key in sorted(others.items()) if key is not None})
    del share
    record(actor, "exercise.opening_started", exercise, opening_id=opening.id, envelope=envelope.value)
    return opening


def _require_password_tries_left(exercise: Exercise, actor: User) -> None:
    """At most OPENING_PASSWORD_MAX_FAILURES wrong opening passwords per officer in OPENING_PASSWORD_WINDOW,
    counted from the audit log (so every process agrees); a refused try is audited too."""
    limit, window = current_app.config["OPENING_PASSWORD_MAX_FAILURES"], current_app.config["OPENING_PASSWORD_WINDOW"]
    failures = db.session.scalars(sa.select(AuditEvent.occurred_at).where(
        AuditEvent.actor_id == actor.id, AuditEvent.action == PASSWORD_FAILED,
        AuditEvent.occurred_at > now_utc() - window).order_by(AuditEvent.occurred_at.desc()).limit(limit)).all()
    if len(failures) >= limit:
        raise ExerciseError(_l("Too many wrong passwords: the box stays sealed. You can try again after %(time)s.",
                               time=hk_datetime(failures[-1] + window))).record_after_rollback(
            lambda: record(actor, "exercise.opening_reauth_throttled", exercise))


def _first_share(opening: Opening, actor: User, officer_private: bytes) -> tuple[int, bytes]:
    pending = json.loads(opening.pending_shares or "{}")
    try:
        plain = crypto.open_sealed(officer_private, pending[str(actor.id)], _pending_aad(opening.id, actor.id))
    except (KeyError, crypto.SealBroken, ValueError):
        raise ExerciseError(_l("The key share of %(name)s, who started the opening, is missing or damaged: %(name)s "
                               "must start the opening again.", name=opening.started_by.name)) from None
    return plain[0], plain[1:]


def confirm_opening(exercise: Exercise, *, actor: User, passphrase: str,
                    envelope: OpeningEnvelope = OpeningEnvelope.technical) -> Exercise:
    """The second named officer enters its opening passphrase: its share and the first officer's (re-sealed to it at
    the start) rebuild the exercise's opening private key in memory; every standing proposal's data key is
    unwrapped, kept wrapped by the server's key from now on, and everything it protects is checked against the
    receipts (eoi.sealed.open_envelope); the results go on the opening record, a damaged proposal by name. A wrong
    passphrase is audited after the rollback (app.boundary) and throttled. The whole opening is one transaction:
    interrupted, nothing of it is kept, and confirming again redoes it. Raises ExerciseError."""
    _require_opening_officer_role(exercise, actor, envelope)
    if envelope == OpeningEnvelope.technical:
        require_state(exercise, ExerciseState.closed)
    else:
        _require_openable(exercise, envelope, actor)
    opening = live_opening(exercise, envelope)
    if opening is None:
        raise ExerciseError(_l("The opening has not been started by a first officer."))
    if opening.started_by_id == actor.id:
        if envelope == OpeningEnvelope.price:
            raise _price_refused(exercise, actor, _l("A second, different officer must confirm the opening."))
        raise ExerciseError(_l("A second, different officer must confirm the opening."))
    require_opening_officer(exercise, actor)
    if not can_take_part_in_opening(opening.started_by, exercise):
        raise ExerciseError(_l("The officer who started the opening can no longer take part; a named officer must "
                               "start it again."))
    _require_no_pending_incident(exercise)
    _require_password_tries_left(exercise, actor)
    officer_private = _unlock_officer_key(actor, passphrase)
    if officer_private is None:
        raise _wrong_passphrase(exercise, actor)
    shares = [_first_share(opening, actor, officer_private), _unlock_share(exercise, actor, officer_private,
                                                                           envelope.value)]
    private = crypto.combine_shares(shares)
    if crypto.b64e(crypto.public_of(private)) != sealed.exercise_public_keys(exercise).get(envelope.value):
        raise ExerciseError(_l("The key shares of %(first)s and %(second)s do not rebuild this exercise's opening key "
                               "(a share is damaged); another pair of named officers can open it.",
                               first=opening.started_by.name, second=actor.name))
    opened = standing_submissions(exercise) if envelope == OpeningEnvelope.technical \
        else price_openable_submissions(exercise)
    results = [sealed.open_envelope(s, envelope.value, private) for s in opened]
    del private, shares
    now = now_utc()
    opening.confirmed_by_id, opening.completed_at, opening.pending_shares = actor.id, now, None
    opening.verification = json.dumps([asdict(r) for r in results])
    transition(opening, OpeningState.completed, actor=actor, action="opening.completed", exercise_id=exercise.id,
               proposals=len(results), damaged=[r.vendor for r in results if not r.ok], envelope=envelope.value)
    if envelope == OpeningEnvelope.price:
        exercise.price_opened_at = now
        record(actor, "exercise.price_opened", exercise, first_officer=opening.started_by_id, second_officer=actor.id,
               opened=[s.id for s in opened],
               kept_sealed=[s.id for s in standing_submissions(exercise) if s.id not in {o.id for o in opened}])
        return exercise
    exercise.opened_at = now
    transition(exercise, ExerciseState.opened, actor=actor, action="exercise.opened",
               first_officer=opening.started_by_id, second_officer=actor.id)
    queue_document("opening_record", exercise, language="en", vendor_id=None, actor=actor)
    return exercise
