"""Celery wired the Flask-docs way, plus after_commit(): a task is written to the transactional outbox
(app/outbox.py) in the committing transaction and published once the data is committed.

Whatever happens to the broker after the commit (down, slow, restarted), the commit stands and the request
answers with its result: publishing errors are logged, never raised, and the relay publishes the row later.
"""
from __future__ import annotations

import logging
import time

from celery import Celery, Task
from kombu.exceptions import OperationalError
from flask import Flask, current_app
from sqlalchemy import event, insert
from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

_QUEUE_KEY = "tenderbox_after_commit"
_BROKER_RETRY_AFTER = 10.0  # seconds without trying to publish after a broker error (the relay catches up)
_broker_down_until = 0.0


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        #: written to the outbox by after_commit(); its row is claimed while it runs, removed when it has run to its end
        outboxed = False
        #: an outboxed task that is not idempotent by its own data: it does not run once its row is gone
        needs_outbox_row = False

        def __call__(self, *args, **kwargs):
            # A fresh app context gives the task its own database session, even when eager.
            with app.app_context():
                if self.outboxed and not _claim_outbox(self.name, args, self.needs_outbox_row):
                    return None
                result = self.run(*args, **kwargs)
                if self.outboxed:
                    _settle_outbox(self.name, args, result)
                return result

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def _claim_outbox(name: str, args, needs_row: bool) -> bool:
    """Whether to run: the row claimed, or no row for a task that may run without one. A database error here
    lets the task run (it is idempotent; the row stays for the relay)."""
    from app import outbox
    try:
        state = outbox.claim(name, args)
    except Exception:
        logger.exception("could not claim the outbox row of %s%r", name, tuple(args))
        from app.extensions import db
        db.session.rollback()
        return not needs_row
    if state == "busy":
        logger.info("%s%r is being run by another process: this duplicate does nothing", name, tuple(args))
    return state == "claimed" or (state == "absent" and not needs_row)


def _settle_outbox(name: str, args, result) -> None:
    """Ran to its end: remove the row; returned Later(seconds): make the row due again then. A failure here (the
    database down) only leaves the row for the relay: the task is idempotent."""
    from app import outbox
    try:
        if isinstance(result, outbox.Later):
            outbox.later(name, args, result.seconds)
        else:
            outbox.done(name, args)
    except Exception:
        logger.exception("could not settle the outbox row of %s%r; the relay will send it again", name, tuple(args))
        from app.extensions import db
        db.session.rollback()


def after_commit(task: Task | str, *args) -> None:
    """Run task(*args) after the current transaction commits: an outbox row is written in it (dropped on rollback)
    and the task is published after the commit. task may be given by its registered name, so a module need not
    import the module defining it."""
    from app.extensions import db

    if isinstance(task, str):
        task = current_app.extensions["celery"].tasks[task]
    if not getattr(task, "outboxed", False):
        raise TypeError(f"{task.name} is not an outboxed task (declare it with outboxed=True)")
    db.session().info.setdefault(_QUEUE_KEY, []).append((task.name, tuple(args)))


def publish(name: str, args: tuple, *, force: bool = False) -> bool:
    """Send task name(*args) to the broker (eagerly run when there is none). False when the broker refused; then,
    for a while, publishing after commit is not even tried (force: the relay tries anyway)."""
    global _broker_down_until
    if not force and time.monotonic() < _broker_down_until:
        return False
    try:
        current_app.extensions["celery"].tasks[name].delay(*args)
    except (OperationalError, ConnectionError, OSError) as exc:  # the broker is down: the outbox row keeps the task
        logger.warning("could not publish %s%r (%s); the outbox relay will send it", name, args, exc)
        _broker_down_until = time.monotonic() + _BROKER_RETRY_AFTER
        return False
    except Exception:  # a task run eagerly (no broker) failed: its row stays for the relay; the broker is not down
        logger.exception("%s%r failed when run in the process; the outbox relay will run it again", name, args)
        return False
    _broker_down_until = 0.0
    return True


@event.listens_for(Session, "before_commit")
def _write_outbox(session: Session) -> None:
    """The transaction's tasks as outbox rows, in one INSERT of the committing transaction."""
    queued = session.info.get(_QUEUE_KEY)
    if queued:
        from app.outbox import OutboxMessage, rows_for
        session.execute(insert(OutboxMessage), rows_for(queued))


@event.listens_for(Session, "after_commit")
def _send_queued(session: Session) -> None:
    """Publish after the commit. Never raises: the data is committed and the request must say so."""
    for name, args in session.info.pop(_QUEUE_KEY, []):
        try:
            publish(name, args)
        except Exception:
            logger.exception("publishing %s%r after commit failed; the outbox relay will send it", name, args)


@event.listens_for(Session, "after_transaction_end")
def _drop_queued(session: Session, transaction) -> None:
    """A transaction that ended without commit sends nothing (after_commit already took what it sent)."""
    if transaction.parent is None:
        session.info.pop(_QUEUE_KEY, None)
