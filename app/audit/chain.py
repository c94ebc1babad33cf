"""Appending to the chain and verifying it (invariant 9).

record() only collects an event in the session; the events are chained and inserted when the
transaction commits (a `before_commit` hook), so the chain's lock (a PostgreSQL advisory lock; on
SQLite every write transaction is `BEGIN IMMEDIATE`) is held only for that final append and the
commit, not from the first record() of a request to its end.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Optional

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, SessionTransaction

from app.audit.models import GENESIS, AuditEvent, canonical, canonical_hash
from app.audit.sealing import seal_of
from app.db import now_utc
from app.extensions import db

_ADVISORY_LOCK_KEY = 7_320_001  # serialises appends on PostgreSQL
_PENDING_KEY = "tenderbox_audit_pending"


@dataclass
class _Pending:
    """An event recorded but not yet appended, with the transaction it belongs to and what to resolve late."""
    transaction: SessionTransaction
    event: AuditEvent
    actor: Any = None
    obj: Any = None


def record(actor, action: str, obj: Any = None, **details: Any) -> AuditEvent:
    """Add one event to the chain when the caller's transaction commits (dropped if it rolls back).

    The event's time, actor, address and details are taken now; its sequence number and hash at commit.
    """
    session = db.session()
    transaction = session.get_nested_transaction() or session.get_transaction() or session.begin()
    scope, party = seal_of(obj)
    event = AuditEvent(
        occurred_at=now_utc().replace(microsecond=0),
        actor_id=getattr(actor, "id", None),
        actor_label=getattr(actor, "email", None) or (actor if isinstance(actor, str) else "system"),
        action=action,
        object_type=type(obj).__name__ if obj is not None else None,
        object_id=_object_id(obj),
        details=json.dumps(details, sort_keys=True, default=str, ensure_ascii=False),
        ip_address=request.remote_addr if has_request_context() else None,
        seal_scope=scope,
        seal_party=party,
    )
    # An actor or object added in this transaction but not flushed yet gets its id at commit.
    late_actor = actor if event.actor_id is None and hasattr(actor, "id") else None
    late_obj = obj if obj is not None and event.object_id is None and hasattr(obj, "id") else None
    session.info.setdefault(_PENDING_KEY, []).append(_Pending(transaction, event, late_actor, late_obj))
    return event


def _object_id(obj: Any) -> Optional[str]:
    value = getattr(obj, "id", None) if obj is not None else None
    return str(value) if value is not None else None


def pending_events(session: Optional[Session] = None) -> list[AuditEvent]:
    """Events recorded in the session's transaction and not yet appended (for tests and diagnostics)."""
    return [p.event for p in (session or db.session()).info.get(_PENDING_KEY, [])]


@sa_event.listens_for(Session, "before_commit")
def _append_on_commit(session: Session) -> None:
    pending: list[_Pending] = session.info.get(_PENDING_KEY) or []
    if not pending:
        return
    nested = session.get_nested_transaction()
    if nested is not None:  # a savepoint is released: its events now belong to the enclosing transaction
        for item in pending:
            if item.transaction is nested:
                item.transaction = nested.parent
        return
    session.info[_PENDING_KEY] = []
    session.flush()  # the request's own changes first: the lock below is held for the append only
    for item in pending:
        if item.actor is not None:
            item.event.actor_id = item.actor.id
        if item.obj is not None:
            item.event.object_id = _object_id(item.obj)
    _append(session, [item.event for item in pending])


@sa_event.listens_for(Session, "after_transaction_end")
def _drop_unappended(session: Session, transaction: SessionTransaction) -> None:
    """Events of a transaction (or savepoint) that ended without committing are dropped with it."""
    pending = session.info.get(_PENDING_KEY)
    if pending:
        session.info[_PENDING_KEY] = [p for p in pending if p.transaction is not transaction]


def _append(session: Session, events: list[AuditEvent]) -> None:
    """Chain the events after the current head, under the chain's lock, and insert them."""
    if session.get_bind().dialect.name == "postgresql":
        _append_postgresql(session, events)
    else:
        _append_in_python(session, events)


_ID_SENTINEL = -7_320_001_999  # stands for the event's id in its canonical text until the head is known
_INSERT_COLUMNS = ("occurred_at", "actor_id", "actor_label", "action", "object_type", "object_id", "details",
                   "ip_address", "seal_scope", "seal_party")
_table = AuditEvent.__table__
_head = sa.select(_table.c.id, _table.c.hash).order_by(_table.c.id.desc()).limit(1).cte("head")
_head_or_genesis = sa.select(
    sa.func.coalesce(sa.select(_head.c.id).scalar_subquery(), 0).label("id"),
    sa.func.coalesce(sa.select(_head.c.hash).scalar_subquery(), GENESIS).label("hash")).cte("h")
_new_id = _head_or_genesis.c.id + 1
_CHAINED_INSERT = (
    _table.insert().from_select(
        ["id", *_INSERT_COLUMNS, "prev_hash", "hash"],
        sa.select(_new_id, *(sa.bindparam(c, type_=_table.c[c].type) for c in _INSERT_COLUMNS), _head_or_genesis.c.hash,
                  sa.func.encode(sa.func.sha256(sa.func.convert_to(
                      _head_or_genesis.c.hash + sa.bindparam("canonical_before_id", type_=sa.Text)
                      + sa.cast(_new_id, sa.Text) + sa.bindparam("canonical_after_id", type_=sa.Text), "UTF8")), "hex")))
    .returning(_table.c.id, _table.c.prev_hash, _table.c.hash))


def _append_postgresql(session: Session, events: list[AuditEvent]) -> None:
    """PostgreSQL: take the chain's lock, then insert the first event with one statement that reads the head, links
    and hashes it in the database (sha256 of the previous hash and the canonical text: the same bytes as
    canonical_hash), and the others, chained from it in Python, with one more INSERT. The lock is held for two round
    trips (three for several events) and the commit, with no unit-of-work flush in between. The INSERT's snapshot is
    taken after the lock is granted, so it sees the head the last holder committed."""
    session.execute(sa.select(sa.func.pg_advisory_xact_lock(_ADVISORY_LOCK_KEY)))
    first, rest = events[0], events[1:]
    first.id, first.prev_hash = _ID_SENTINEL, ""
    before, marker, after = canonical(first).partition(f'"id":{_ID_SENTINEL}')
    if not marker or str(_ID_SENTINEL) in before + after:  # cannot be split unambiguously: all in Python
        _append_in_python(session, events)
        return
    row = session.execute(_CHAINED_INSERT, {
        **{c: getattr(first, c) for c in _INSERT_COLUMNS},
        "canonical_before_id": before + '"id":', "canonical_after_id": after}).one()
    first.id, first.prev_hash, first.hash = row.id, row.prev_hash, row.hash  # the events stay out of the session
    seq, prev = row.id, row.hash
    for event in rest:
        seq += 1
        event.id, event.prev_hash = seq, prev
        event.hash = prev = event.compute_hash()
    if rest:
        session.execute(_table.insert(), [{c.name: getattr(e, c.key) for c in _table.columns} for e in rest])


def _append_in_python(session: Session, events: list[AuditEvent]) -> None:
    last = session.execute(
        sa.select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    seq, prev = (last.id, last.hash) if last else (0, GENESIS)
    for event in events:
        seq += 1
        event.id, event.prev_hash = seq, prev
        event.hash = prev = event.compute_hash()
    session.add_all(events)
    session.flush()


# --------------------------------------------------------------------------------------------------------------------
# Verification

@dataclass
class ChainReport:
    """The outcome of walking the chain: how many events were checked and the first problem, if any.

    problem is one of: None, "missing" (an id is absent), "link" (prev_hash does not match), "content"
    (the row does not match its own hash), "truncated" (the checkpoint's event is gone), "rewritten"
    (the event at the checkpoint has another hash than the one signed).
    """
    checked: int
    broken_at: Optional[int] = None
    reason: str = ""
    head: str = GENESIS
    head_id: int = 0
    since: int = 0  # verified from this event (0: from the start of the chain)
    problem: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


_COLUMNS = [c for c in AuditEvent.__table__.columns]


def _rows(after: int) -> sa.Result:
    query = sa.select(*_COLUMNS).where(AuditEvent.id > after).order_by(AuditEvent.id)
    return db.session.execute(query.execution_options(yield_per=1000))


def verify_chain(since_id: int = 0, since_hash: Optional[str] = None) -> ChainReport:
    """Recompute every link after event since_id (whose hash must be since_hash); report the first bad one.

    With no arguments the whole chain is walked from its genesis.
    """
    prev, count = GENESIS, 0
    if since_id:
        stored = db.session.scalar(sa.select(AuditEvent.hash).where(AuditEvent.id == since_id))
        if stored is None:
            return ChainReport(0, since_id, f"event {since_id} of the checkpoint is missing", since=since_id,
                               problem="truncated")
        if since_hash is not None and stored != since_hash:
            return ChainReport(0, since_id, f"event {since_id} differs from the checkpoint", since=since_id,
                               problem="rewritten")
        prev = stored
    expected_id, head_id = since_id, since_id
    rows = _rows(since_id)
    try:
        for row in rows:
            expected_id += 1
            count += 1
            if row.id != expected_id:
                return ChainReport(count, expected_id, f"event {expected_id} is missing", prev, head_id, since_id,
                                   "missing")
            if row.prev_hash != prev:
                return ChainReport(count, row.id, "link to the previous event does not match", prev, head_id,
                                   since_id, "link")
            if canonical_hash(row) != row.hash:
                return ChainReport(count, row.id, "content does not match its hash", prev, head_id, since_id,
                                   "content")
            prev, head_id = row.hash, row.id
    finally:
        rows.close()  # a break stops early: release the (server-side) cursor
    return ChainReport(count, head=prev, head_id=head_id, since=since_id)


def chain_head() -> str:
    last = db.session.execute(sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar()
    return last or GENESIS
