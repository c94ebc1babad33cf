"""results: the chair's sign-off of the technical evaluation (panel state, who and when, the compliant proposals)

Revision ID: a7c3e5f1d2b9
Revises: d398456112c6
Create Date: 2026-12-01 23:00:00

"""
from alembic import op
import sqlalchemy as sa

import app.db  # noqa: F401  (UTCDateTime in column types)


# revision identifiers, used by Alembic.
revision = 'a7c3e5f1d2b9'
down_revision = 'd398456112c6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('panels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.Enum('scoring', 'signed_off', name='panelstate', native_enum=False,
                                                       length=20), server_default='scoring', nullable=False))
        batch_op.add_column(sa.Column('signed_off_at', app.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('signed_off_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('compliant_ids', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_panels_signed_off_by_id_users'), 'users', ['signed_off_by_id'], ['id'])
        batch_op.create_check_constraint(
            batch_op.f('ck_panels_signed_off_has_time'),
            "(state = 'signed_off') = (signed_off_at IS NOT NULL AND signed_off_by_id IS NOT NULL)")


def downgrade():
    with op.batch_alter_table('panels', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_panels_signed_off_has_time'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_panels_signed_off_by_id_users'), type_='foreignkey')
        batch_op.drop_column('compliant_ids')
        batch_op.drop_column('signed_off_by_id')
        batch_op.drop_column('signed_off_at')
        batch_op.drop_column('state')
