"""audit events name the sealed scope and party they are about

Revision ID: 1dc85f92d59c
Revises: c3d4e5f6a7b8
Create Date: 2026-12-01 16:35:00

Adding nullable columns fires no row trigger, so the append-only guards stay in place. Events written
before this migration have both columns NULL, which leaves their hashes unchanged (see AuditEvent.canonical).
"""
from alembic import op
import sqlalchemy as sa


revision = '1dc85f92d59c'
down_revision = 'c3d4e5f6a7b8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seal_scope', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('seal_party', sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_events_seal_scope'), ['seal_scope'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_seal_scope'))
        batch_op.drop_column('seal_party')
        batch_op.drop_column('seal_scope')
    if op.get_bind().dialect.name == "sqlite":  # a batch rebuild of the table drops its triggers: restore the guards
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_events_no_{verb.lower()}")
            op.execute(f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
                       "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;")
