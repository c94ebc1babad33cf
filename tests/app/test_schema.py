"""The schema the migrations build is the schema the models describe; migrations go down and up again."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app.extensions import db
from tests.conftest import DATABASE_URL, USING_POSTGRES, _make_app


def _differences(connection) -> list:
    context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": False})
    return compare_metadata(context, db.metadata)


def _describe(diff) -> str:
    """One readable line per difference (alembic's tuples print unreadably for constraints)."""
    if isinstance(diff, list):  # column modifications come as lists of tuples
        return "; ".join(_describe(d) for d in diff)
    kind, *rest = diff
    if kind in ("add_fk", "remove_fk"):
        fk = rest[0]
        return (f"{kind} {fk.name}: {fk.parent.name}({', '.join(c.name for c in fk.columns)}) -> "
                f"{fk.referred_table.name}({', '.join(e.column.name for e in fk.elements)})")
    if kind in ("add_table", "remove_table"):
        return f"{kind} {rest[0].name}"
    if kind in ("add_column", "remove_column"):
        return f"{kind} {rest[1]}.{rest[2].name}"
    if kind in ("add_index", "remove_index", "add_constraint", "remove_constraint"):
        return f"{kind} {rest[0].name} on {rest[0].table.name}"
    return repr(diff)


def test_migrations_match_the_models(app):
    with db.engine.connect() as connection:
        diff = _differences(connection)
    assert diff == [], ("the schema the migrations build differs from the models (add a migration):\n"
                        + "\n".join(map(_describe, diff)))


def test_the_comparison_sees_a_model_the_migrations_lack(app):
    """Guard against a comparison that always says 'no difference'."""
    models = sa.MetaData(naming_convention=db.metadata.naming_convention)
    for table in db.metadata.sorted_tables:
        table.to_metadata(models)
    models.tables["audit_events"].append_column(sa.Column("sneaky", sa.String(10)))
    sa.Table("not_migrated", models, sa.Column("id", sa.Integer, primary_key=True))
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, models)
    kinds = {(d[0], d[2] if d[0] == "add_column" else getattr(d[1], "name", None)) for d in diff if isinstance(d, tuple)}
    assert ("add_table", "not_migrated") in kinds and ("add_column", "audit_events") in kinds, diff


def _tables(connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names())


def _guard_triggers(connection) -> set[str]:
    if connection.dialect.name == "postgresql":
        rows = connection.execute(sa.text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_events'::regclass AND NOT tgisinternal"))
    else:
        rows = connection.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'"))
    return {r[0] for r in rows}


def _down_and_up(uri: str, tmp_path) -> None:
    scratch = _make_app(tmp_path, uri)
    with scratch.app_context():
        try:
            upgrade()
            with db.engine.connect() as connection:
                built = _tables(connection)
                assert {"users", "vendors", "audit_events", "documents", "notifications"} <= built
                assert "audit_events_no_update" in _guard_triggers(connection)
            downgrade(revision="base")
            with db.engine.connect() as connection:
                assert _tables(connection) <= {"alembic_version"}, _tables(connection)
                assert not connection.execute(sa.text("SELECT * FROM alembic_version")).all()
            upgrade()
            with db.engine.connect() as connection:
                assert _tables(connection) == built
                assert "audit_events_no_update" in _guard_triggers(connection)
                diff = _differences(connection)
                assert diff == [], "after down and up again:\n" + "\n".join(map(_describe, diff))
        finally:
            db.session.remove()
            db.engine.dispose()


def test_downgrade_to_base_and_upgrade_head_on_scratch_sqlite(app, tmp_path):
    db.session.commit()
    _down_and_up(f"sqlite:///{tmp_path / 'scratch.db'}", tmp_path)


def test_downgrade_to_base_and_upgrade_head_on_scratch_postgresql(app, tmp_path):
    if not USING_POSTGRES:
        pytest.skip("PostgreSQL run only (DATABASE_URL=postgresql+psycopg://...)")
    name = f"tenderbox_scratch_{uuid.uuid4().hex[:10]}"
    server = sa.create_engine(DATABASE_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        _down_and_up(sa.make_url(DATABASE_URL).set(database=name).render_as_string(hide_password=False), tmp_path)
    finally:
        with server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        server.dispose()
