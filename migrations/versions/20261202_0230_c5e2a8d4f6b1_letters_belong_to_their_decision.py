"""Letters belong to the decision whose approval issued them: one letter per decision and vendor (a replacement
award after a decline writes to the vendors whose outcome changed), and a letter may name the one it replaces.

Existing letters are given the exercise's announced decision issued before them (the latest approved one, as the
approval issued them); letters without a decision stay one per exercise and vendor (a partial unique index).

Revision ID: c5e2a8d4f6b1
Revises: a7c3e5f1d2b9
Create Date: 2026-12-02 02:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.db  # noqa: F401  (UTCDateTime in column types)


# revision identifiers, used by Alembic.
revision = 'c5e2a8d4f6b1'
down_revision = 'a7c3e5f1d2b9'
branch_labels = None
depends_on = None

UNDECIDED = sa.text("decision_id IS NULL")


def upgrade():
    with op.batch_alter_table('letters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decision_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('replaces_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_letters_decision_id_decisions'), 'decisions', ['decision_id'],
                                    ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_letters_replaces_id_letters'), 'letters', ['replaces_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_letters_decision_id'), ['decision_id'], unique=False)
        batch_op.drop_constraint('uq_letters_exercise_vendor', type_='unique')
        batch_op.create_unique_constraint('uq_letters_decision_vendor', ['decision_id', 'vendor_id'])
    op.execute(
        "UPDATE letters SET decision_id = (SELECT max(d.id) FROM decisions d WHERE d.exercise_id = letters.exercise_id"
        " AND d.state IN ('approved', 'final', 'declined') AND d.approved_at <= letters.issued_at)")
    op.create_index('uq_letters_exercise_vendor_undecided', 'letters', ['exercise_id', 'vendor_id'], unique=True,
                    sqlite_where=UNDECIDED, postgresql_where=UNDECIDED)


def downgrade():
    # one letter per exercise and vendor again: the replacement letters go (their documents stay on record)
    op.execute("DELETE FROM letters WHERE replaces_id IS NOT NULL")
    op.drop_index('uq_letters_exercise_vendor_undecided', table_name='letters')
    with op.batch_alter_table('letters', schema=None) as batch_op:
        batch_op.drop_constraint('uq_letters_decision_vendor', type_='unique')
        batch_op.create_unique_constraint('uq_letters_exercise_vendor', ['exercise_id', 'vendor_id'])
        batch_op.drop_index(batch_op.f('ix_letters_decision_id'))
        batch_op.drop_constraint(batch_op.f('fk_letters_replaces_id_letters'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_letters_decision_id_decisions'), type_='foreignkey')
        batch_op.drop_column('replaces_id')
        batch_op.drop_column('decision_id')
