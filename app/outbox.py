"""The transactional outbox: a task to send is a row written in the same transaction as the work it is about.

`app.celery.after_commit(task, *args)` collects the task in the session; when the session commits, one bulk INSERT
(in the same transaction) writes an `outbox_messages` row per task, and after the commit the task is published.
A broker that is down, a web worker killed between commit and publish, or a broker restart that loses queued
messages therefore only delays the task: the row stays until the task has run to its end (the worker deletes it,
`done()`), and the relay (`app.relay_outbox`, every OUTBOX_RELAY_SECONDS) publishes rows that are due again, with
back-off. Tasks are idempotent (they claim their row by compare-and-set), so a duplicate message costs nothing.

A task claims its row before it runs (for RENDER_LEASE_SECONDS), so a duplicate message finds it busy and does
nothing; a task that is not idempotent by its own data (the password-reset mail) declares `needs_outbox_row=True`
and does not run when its row is gone (done already). A task that cannot finish yet (a document another worker holds under a lease, a render to retry later) returns
`Later(seconds)`: its row becomes due again then.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from celery import shared_task
from flask import current_app

from app.db import now_utc
from app.extensions import db

logger = logging.getLogger(__name__)


class OutboxMessage(db.Model):
    """A task to run (its registered name and JSON arguments), kept until it has run to its end."""
    __tablename__ = "outbox_messages"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    task: so.Mapped[str] = so.mapped_column(sa.String(100))
    args: so.Mapped[str] = so.mapped_column(sa.String(500))
    created_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)
    #: when the relay (re)publishes it if it has not run to its end by then
    available_at: so.Mapped[datetime] = so.mapped_column(index=True)
    attempts: so.Mapped[int] = so.mapped_column(default=0)  # publications by the relay
    #: a task running it holds it until then (RENDER_LEASE_SECONDS): a duplicate message finds it busy and stops
    claimed_until: so.Mapped[Optional[datetime]]

    __table_args__ = (sa.Index("ix_outbox_messages_task_args", "task", "args"),)

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.task}{self.args}>"


@dataclass(frozen=True)
class Later:
    """Returned by a task that could not finish yet: its outbox row is due again in `seconds`."""
    seconds: float


def encode_args(args) -> str:
    return json.dumps(list(args), separators=(",", ":"))


def rows_for(tasks: list[tuple[str, tuple]]) -> list[dict]:
    """The rows for one transaction's tasks (one bulk INSERT), due for the relay after OUTBOX_GRACE_SECONDS."""
    now = now_utc()
    due = now + timedelta(seconds=float(current_app.config["OUTBOX_GRACE_SECONDS"]))
    return [{"task": name, "args": encode_args(args), "created_at": now, "available_at": due, "attempts": 0}
            for name, args in tasks]


def _matching(name: str, args):
    return (OutboxMessage.task == name) & (OutboxMessage.args == encode_args(args))


def claim(name: str, args) -> str:
    """Before a task runs: take its row for RENDER_LEASE_SECONDS. "claimed"; "busy" (another process runs it now,
    or did until it died: the relay sends it again when the claim expires); "absent" (done already, or the task was
    not sent through the outbox)."""
    now = now_utc()
    result = db.session.execute(
        sa.update(OutboxMessage).where(_matching(name, args),
                                       OutboxMessage.claimed_until.is_(None) | (OutboxMessage.claimed_until < now))
        .values(claimed_until=now + timedelta(seconds=float(current_app.config["RENDER_LEASE_SECONDS"]))))
    db.session.commit()
    if result.rowcount:
        return "claimed"
    exists = db.session.scalar(sa.select(OutboxMessage.id).where(_matching(name, args)).limit(1))
    db.session.rollback()
    return "busy" if exists else "absent"


def done(name: str, args) -> None:
    """The task ran to its end: its rows go (in the task's own session, committed)."""
    db.session.execute(sa.delete(OutboxMessage).where(_matching(name, args)))
    db.session.commit()


def later(name: str, args, seconds: float) -> None:
    db.session.execute(sa.update(OutboxMessage).where(_matching(name, args))
                       .values(available_at=now_utc() + timedelta(seconds=max(float(seconds), 0.0)), claimed_until=None))
    db.session.commit()


def backoff(attempts: int) -> float:
    """Seconds before the relay publishes a row again after its attempts-th publication (doubling, capped)."""
    base = float(current_app.config["OUTBOX_GRACE_SECONDS"])
    return min(base * 2 ** max(attempts - 1, 0), float(current_app.config["OUTBOX_BACKOFF_MAX_SECONDS"]))


def relay(limit: int = 500) -> int:
    """Publish the rows that are due (locked, so two relays never publish the same rows), each due again later
    with back-off. Stops at the first broker error: the rest wait for the next run. Returns how many were sent."""
    from app.celery import publish

    now = now_utc()
    rows = list(db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.available_at <= now,
                                       OutboxMessage.claimed_until.is_(None) | (OutboxMessage.claimed_until < now),
                                       OutboxMessage.attempts < current_app.config["OUTBOX_MAX_ATTEMPTS"])
        .order_by(OutboxMessage.available_at, OutboxMessage.id).limit(limit).with_for_update(skip_locked=True)))
    sent, due = 0, []
    for row in rows:
        row.attempts += 1
        row.available_at = now + timedelta(seconds=backoff(row.attempts))
        due.append((row.task, tuple(json.loads(row.args))))
    db.session.commit()  # due again later before publishing: a message is never lost by a crash here
    for name, args in due:  # no transaction open (SQLite: an eager task writes in its own)
        if not publish(name, args, force=True):
            break
        sent += 1
    return sent


def pending_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) or 0


def stuck_count() -> int:
    """Rows the relay gave up on (OUTBOX_MAX_ATTEMPTS publications without the task running to its end)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
        OutboxMessage.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"])) or 0


@shared_task(name="app.relay_outbox")
def relay_outbox() -> int:
    return relay()
