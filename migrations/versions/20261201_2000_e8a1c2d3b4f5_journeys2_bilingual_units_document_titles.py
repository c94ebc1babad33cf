"""Price units and exercise document titles in both languages (issue 8 item 12)

Revision ID: e8a1c2d3b4f5
Revises: 5e41c0a9d7b2
Create Date: 2026-12-01 20:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e8a1c2d3b4f5'
down_revision = '5e41c0a9d7b2'
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: rows made before this show their English text on Chinese pages until an officer adds the Chinese.
    with op.batch_alter_table('price_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_zh', sa.String(length=40), nullable=True))
    with op.batch_alter_table('exercise_documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title_zh', sa.String(length=300), nullable=True))


def downgrade():
    with op.batch_alter_table('exercise_documents', schema=None) as batch_op:
        batch_op.drop_column('title_zh')
    with op.batch_alter_table('price_items', schema=None) as batch_op:
        batch_op.drop_column('unit_zh')
