"""Migrations keep the data they do not mean to change, and a downgrade refuses rows the old schema cannot hold."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from app.extensions import db
from tests.conftest import DATABASE_URL, USING_POSTGRES, _make_app

CANCELLABLE_DRAFT = "b7c1e2d3f4a5"  # the migration that lets a draft be cancelled (rebuilds exercises on SQLite)


def _before(revision: str) -> str:
    script = ScriptDirectory.from_config(_alembic_config())
    return script.get_revision(revision).down_revision


def _alembic_config():
    from flask import current_app
    return current_app.extensions["migrate"].migrate.get_config()


def _count(table: str) -> int:
    with db.engine.connect() as connection:
        return connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()


def _insert_exercise_with_children() -> None:
    with db.engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO exercises (id, kind, reference, title_en, title_zh, description_en, description_zh, state, "
            "late_addendum_hours, min_extension_hours, has_price_envelope, created_at) "
            "VALUES (1, 'eoi', 'R/1', 't', 't', '', '', 'draft', 72, 72, false, '2026-01-01 00:00:00')"))
        connection.execute(sa.text(
            "INSERT INTO sections (id, exercise_id, position, title_en, title_zh, guidance_en, guidance_zh, "
            "answer_required, attachment_required) VALUES (1, 1, 1, 's', 's', '', '', true, false)"))


def _cancel_the_draft() -> None:
    with db.engine.begin() as connection:
        connection.execute(sa.text("UPDATE exercises SET state = 'cancelled' WHERE id = 1"))


def _scenario(uri: str, tmp_path) -> None:
    scratch = _make_app(tmp_path, uri)
    with scratch.app_context():
        try:
            upgrade(revision=_before(CANCELLABLE_DRAFT))
            _insert_exercise_with_children()
            with pytest.raises(sa.exc.IntegrityError):
                _cancel_the_draft()  # the old rule: a cancelled exercise needs a publication time
            upgrade()
            # SQLite rebuilt the table: with foreign keys on, that would have cascaded to the sections.
            assert (_count("exercises"), _count("sections")) == (1, 1)
            _cancel_the_draft()
            with pytest.raises(SystemExit):  # flask_migrate reports the migration's refusal and exits
                downgrade(revision=_before(CANCELLABLE_DRAFT))
            assert _count("exercises") == 1
            with db.engine.begin() as connection:
                connection.execute(sa.text("UPDATE exercises SET state = 'draft' WHERE id = 1"))
            downgrade(revision=_before(CANCELLABLE_DRAFT))
            assert (_count("exercises"), _count("sections")) == (1, 1)
            with pytest.raises(sa.exc.IntegrityError):
                _cancel_the_draft()
        finally:
            db.session.remove()
            db.engine.dispose()


def test_cancellable_draft_migration_keeps_rows_and_downgrades_on_sqlite(app, tmp_path):
    _scenario(f"sqlite:///{tmp_path / 'scratch.db'}", tmp_path)


def test_cancellable_draft_migration_keeps_rows_and_downgrades_on_postgresql(app, tmp_path):
    if not USING_POSTGRES:
        pytest.skip("PostgreSQL run only (DATABASE_URL=postgresql+psycopg://...)")
    name = f"tenderbox_scratch_{uuid.uuid4().hex[:10]}"
    server = sa.create_engine(DATABASE_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        _scenario(sa.make_url(DATABASE_URL).set(database=name).render_as_string(hide_password=False), tmp_path)
    finally:
        with server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        server.dispose()
