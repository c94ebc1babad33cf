"""sealing: submissions encrypted at rest, opening keys of officers, key shares of exercises (issue 9)

Revision ID: 5e41c0a9d7b2
Revises: e7f1a2b3c4d5
Create Date: 2026-12-01 20:00:00

New nullable columns and two tables; price_lines.unit_price becomes nullable (the amount is now
sealed_amount, encrypted). Rows written before this revision are plaintext that the new code does
not read: apply it to a database without submissions (a new deployment, or re-seed the demo).
"""
from alembic import op
import sqlalchemy as sa

import app.db


revision = '5e41c0a9d7b2'
down_revision = 'e7f1a2b3c4d5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'opening_keys',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('public_key', sa.String(length=64), nullable=False),
        sa.Column('locked_private_key', sa.Text(), nullable=False),
        sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('changed_at', app.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_opening_keys_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_opening_keys')),
    )
    op.create_table(
        'opening_key_shares',
        sa.Column('exercise_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('envelope', sa.String(length=20), nullable=False),
        sa.Column('share_index', sa.Integer(), nullable=False),
        sa.Column('sealed_share', sa.Text(), nullable=False),
        sa.Column('generation', sa.Integer(), nullable=False),
        sa.CheckConstraint("envelope IN ('technical', 'price')", name=op.f('ck_opening_key_shares_known_envelope')),
        sa.ForeignKeyConstraint(['exercise_id', 'user_id'], ['opening_officers.exercise_id', 'opening_officers.user_id'],
                                name='fk_opening_key_shares_named_officer', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('exercise_id', 'user_id', 'envelope', name=op.f('pk_opening_key_shares')),
    )
    with op.batch_alter_table('exercises', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seal_public_keys', sa.Text(), nullable=True))
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('draft_keys', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('sealed_keys', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('opened_keys', sa.Text(), nullable=True))
    with op.batch_alter_table('price_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed_amount', sa.Text(), nullable=True))
        batch_op.alter_column('unit_price', existing_type=sa.Numeric(precision=14, scale=2), nullable=True)
    with op.batch_alter_table('openings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_shares', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('verification', sa.Text(), nullable=True))
    with op.batch_alter_table('stored_files', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed_meta', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('stored_files', schema=None) as batch_op:
        batch_op.drop_column('sealed_meta')
    with op.batch_alter_table('openings', schema=None) as batch_op:
        batch_op.drop_column('verification')
        batch_op.drop_column('pending_shares')
    with op.batch_alter_table('price_lines', schema=None) as batch_op:
        batch_op.alter_column('unit_price', existing_type=sa.Numeric(precision=14, scale=2), nullable=False)
        batch_op.drop_column('sealed_amount')
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('opened_keys')
        batch_op.drop_column('sealed_keys')
        batch_op.drop_column('draft_keys')
    with op.batch_alter_table('exercises', schema=None) as batch_op:
        batch_op.drop_column('seal_public_keys')
    op.drop_table('opening_key_shares')
    op.drop_table('opening_keys')
