"""A BR number is claimed at email verification (pending registrations hold nothing); colleague invitations

Revision ID: b7c3e1a94d20
Revises: 1dc85f92d59c
Create Date: 2026-12-01 16:00:00

"""
from alembic import op
import sqlalchemy as sa

import app.db  # noqa: F401  (UTCDateTime in column types)


# revision identifiers, used by Alembic.
revision = 'b7c3e1a94d20'
down_revision = '1dc85f92d59c'
branch_labels = None
depends_on = None

_VERIFIED = "verified_at IS NOT NULL"


def upgrade():
    # On SQLite batch mode rebuilds `vendors`, which users and submissions refer to: migrations/env.py turns
    # foreign-key enforcement off around the migrations and checks every reference afterwards.
    with op.batch_alter_table('vendors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verified_at', app.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_constraint('uq_vendors_br_number', type_='unique')
    # A company whose users verified an address has claimed its number (at the first verification).
    op.execute("UPDATE vendors SET verified_at = (SELECT MIN(users.email_verified_at) FROM users "
               "WHERE users.vendor_id = vendors.id)")
    op.create_index('uq_vendors_br_number_verified', 'vendors', ['br_number'], unique=True,
                    sqlite_where=sa.text(_VERIFIED), postgresql_where=sa.text(_VERIFIED))

    op.create_table('colleague_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('pending', 'accepted', 'revoked', name='invitationstate', native_enum=False, length=20), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(state = 'pending') = (closed_at IS NULL)", name=op.f('ck_colleague_invitations_closed_unless_pending')),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_colleague_invitations_invited_by_id_users')),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_colleague_invitations_vendor_id_vendors')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_colleague_invitations'))
    )
    with op.batch_alter_table('colleague_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_colleague_invitations_invited_by_id'), ['invited_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_colleague_invitations_vendor_id'), ['vendor_id'], unique=False)


def downgrade():
    with op.batch_alter_table('colleague_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_colleague_invitations_vendor_id'))
        batch_op.drop_index(batch_op.f('ix_colleague_invitations_invited_by_id'))
    op.drop_table('colleague_invitations')

    duplicates = op.get_bind().execute(sa.text(
        "SELECT br_number FROM vendors GROUP BY br_number HAVING COUNT(*) > 1")).scalars().all()
    if duplicates:
        raise RuntimeError("cannot restore one company per BR number: pending registrations share "
                           f"{', '.join(duplicates)}; let them expire (or remove them) first")
    op.drop_index('uq_vendors_br_number_verified', table_name='vendors')
    with op.batch_alter_table('vendors', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_vendors_br_number', ['br_number'])
        batch_op.drop_column('verified_at')
