"""Celery wired the Flask-docs way, plus after_commit(): tasks are sent only once the data is committed."""
from __future__ import annotations

from celery import Celery, Task
from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

_QUEUE_KEY = "tenderbox_after_commit"


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            # A fresh app context gives the task its own database session, even when eager.
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def after_commit(task: Task | str, *args) -> None:
    """Queue task.delay(*args) to be sent when the current transaction commits (dropped on rollback).
    task may be given by its registered name, so a module need not import the module defining it."""
    from app.extensions import db

    if isinstance(task, str):
        task = current_app.extensions["celery"].tasks[task]
    db.session().info.setdefault(_QUEUE_KEY, []).append((task, args))


@event.listens_for(Session, "after_commit")
def _send_queued(session: Session) -> None:
    for task, args in session.info.pop(_QUEUE_KEY, []):
        task.delay(*args)


@event.listens_for(Session, "after_transaction_end")
def _drop_queued(session: Session, transaction) -> None:
    """A transaction that ended without commit sends nothing (after_commit already took what it sent)."""
    if transaction.parent is None:
        session.info.pop(_QUEUE_KEY, None)
