"""cache versions (the public pages' content version, bumped after a commit that changed public content)

Revision ID: 2f33e192c634
Revises: 440bb4d084dc
Create Date: 2026-12-01 15:47:36

"""
import uuid

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2f33e192c634'
down_revision = '440bb4d084dc'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table('cache_versions',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_cache_versions'))
    )
    op.bulk_insert(table, [{"name": "public", "version": uuid.uuid4().hex}])


def downgrade():
    op.drop_table('cache_versions')
