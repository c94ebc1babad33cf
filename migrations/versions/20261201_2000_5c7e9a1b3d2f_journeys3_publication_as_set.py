"""publication as set: who ordered an exercise's publication for its publication date (issue 8 item 8)

A draft whose publication an officer confirmed for a date still ahead stays a draft, with the officer who ordered it;
the periodic task publishes it at that date.

Revision ID: 5c7e9a1b3d2f
Revises: b7c3e1a94d20
Create Date: 2026-12-01 20:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c7e9a1b3d2f'
down_revision = 'b7c3e1a94d20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('exercises', schema=None) as batch_op:
        batch_op.add_column(sa.Column('publication_ordered_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_exercises_publication_ordered_by_id_users'), 'users',
                                    ['publication_ordered_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('exercises', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_exercises_publication_ordered_by_id_users'), type_='foreignkey')
        batch_op.drop_column('publication_ordered_by_id')
