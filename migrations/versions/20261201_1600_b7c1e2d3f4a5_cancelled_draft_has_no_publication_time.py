"""a draft exercise can be cancelled: a cancelled exercise needs no publication time

Revision ID: b7c1e2d3f4a5
Revises: 2f33e192c634
Create Date: 2026-12-01 16:00:00

The code allows draft -> cancelled, but ck_exercises_published_has_time wanted a publication time for every state
but draft, so cancelling a draft always failed.
"""
from alembic import op
import sqlalchemy as sa

import app.db  # noqa: F401  (UTCDateTime in column types)


# revision identifiers, used by Alembic.
revision = 'b7c1e2d3f4a5'
down_revision = '2f33e192c634'
branch_labels = None
depends_on = None

NAME = 'ck_exercises_published_has_time'
NEW = "state IN ('draft', 'cancelled') OR (published_at IS NOT NULL)"
OLD = "(state = 'draft') OR (published_at IS NOT NULL)"


def _replace(condition: str) -> None:
    with op.batch_alter_table('exercises', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(NAME), type_='check')
        batch_op.create_check_constraint(op.f(NAME), condition)


def upgrade():
    _replace(NEW)


def downgrade():
    # The old rule cannot hold a draft that was cancelled unpublished; refuse rather than invent a publication time.
    count = op.get_bind().execute(sa.text(
        "SELECT count(*) FROM exercises WHERE state = 'cancelled' AND published_at IS NULL")).scalar()
    if count:
        raise RuntimeError(f"{count} exercise(s) were cancelled as drafts and have no publication time; the previous "
                           "schema cannot hold them. Delete or fix them before downgrading.")
    _replace(OLD)
