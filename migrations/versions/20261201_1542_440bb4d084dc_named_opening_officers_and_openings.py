"""named opening officers, openings as explicit states, deadline incidents confirmed by a second officer

The opening's hidden state on `exercises` (first_opener_id, opening_started_at, second_opener_id, set and reset by
hand) becomes rows of `openings` (started -> completed | cancelled). The officers who may open an exercise are
named at publication in `opening_officers`; both officers of an opening must be among them (composite foreign
keys). A deadline incident that re-opens a closed box waits (pending) for a second named officer.

Existing data: every exercise already published names the officers who existed when it was published, plus any
officer who already took part in its opening; existing openings and incidents are carried over (incidents as in
effect, recorded under the earlier one-officer rule). Downgrade puts the opening columns back from `openings`
and drops incidents that never took effect (pending or declined), which the old schema cannot represent.

Revision ID: 440bb4d084dc
Revises: 540e33ae4990
Create Date: 2026-12-01 15:42:56.605495

"""
from alembic import op
import sqlalchemy as sa

import app.db  # noqa: F401  (UTCDateTime in column types)


# revision identifiers, used by Alembic.
revision = '440bb4d084dc'
down_revision = '540e33ae4990'
branch_labels = None
depends_on = None

NAMED = ['opening_officers.exercise_id', 'opening_officers.user_id']


def upgrade():
    op.create_table('opening_officers',
    sa.Column('exercise_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('named_by_id', sa.Integer(), nullable=True),
    sa.Column('named_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['exercise_id'], ['exercises.id'], name=op.f('fk_opening_officers_exercise_id_exercises'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['named_by_id'], ['users.id'], name=op.f('fk_opening_officers_named_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_opening_officers_user_id_users')),
    sa.PrimaryKeyConstraint('exercise_id', 'user_id', name=op.f('pk_opening_officers'))
    )
    op.create_table('openings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exercise_id', sa.Integer(), nullable=False),
    sa.Column('envelope', sa.Enum('technical', 'price', name='openingenvelope', native_enum=False, length=20), nullable=False),
    sa.Column('state', sa.Enum('started', 'completed', 'cancelled', name='openingstate', native_enum=False, length=20), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=False),
    sa.Column('started_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('completed_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', app.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("(state = 'cancelled') = (cancelled_at IS NOT NULL)", name=op.f('ck_openings_cancelled_has_time')),
    sa.CheckConstraint("(state = 'completed') = (confirmed_by_id IS NOT NULL AND completed_at IS NOT NULL)", name=op.f('ck_openings_completed_by_a_second_officer')),
    sa.CheckConstraint("envelope IN ('technical', 'price')", name=op.f('ck_openings_known_envelope')),
    sa.CheckConstraint("state IN ('started', 'completed', 'cancelled')", name=op.f('ck_openings_known_state')),
    sa.CheckConstraint('confirmed_by_id IS NULL OR confirmed_by_id <> started_by_id', name=op.f('ck_openings_two_different_officers')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], name=op.f('fk_openings_confirmed_by_id_users')),
    sa.ForeignKeyConstraint(['exercise_id', 'confirmed_by_id'], NAMED, name='fk_openings_confirmed_by_named_officer'),
    sa.ForeignKeyConstraint(['exercise_id', 'started_by_id'], NAMED, name='fk_openings_started_by_named_officer'),
    sa.ForeignKeyConstraint(['exercise_id'], ['exercises.id'], name=op.f('fk_openings_exercise_id_exercises'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], name=op.f('fk_openings_started_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_openings'))
    )
    with op.batch_alter_table('openings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_openings_exercise_id'), ['exercise_id'], unique=False)
        batch_op.create_index('uq_openings_one_live_per_envelope', ['exercise_id', 'envelope'], unique=True, sqlite_where=sa.text("state <> 'cancelled'"), postgresql_where=sa.text("state <> 'cancelled'"))

    # Exercises already published: the officers who existed then, and whoever already took part in the opening.
    op.execute("""
        INSERT INTO opening_officers (exercise_id, user_id, named_by_id, named_at)
        SELECT exercise_id, user_id, NULL, MIN(named_at) FROM (
            SELECT e.id AS exercise_id, u.id AS user_id, e.published_at AS named_at FROM exercises e JOIN users u
              ON u.role = 'officer' AND u.created_at <= e.published_at WHERE e.published_at IS NOT NULL
            UNION ALL
            SELECT id, first_opener_id, COALESCE(published_at, opening_started_at) FROM exercises
              WHERE first_opener_id IS NOT NULL
            UNION ALL
            SELECT id, second_opener_id, COALESCE(published_at, opened_at) FROM exercises
              WHERE second_opener_id IS NOT NULL
        ) named GROUP BY exercise_id, user_id
    """)
    # One `openings` row per exercise whose opening was started (the old columns allowed only one at a time).
    op.execute("""
        INSERT INTO openings (exercise_id, envelope, state, started_by_id, started_at, confirmed_by_id, completed_at,
                              cancelled_at, cancel_reason)
        SELECT id, 'technical',
               CASE WHEN second_opener_id IS NOT NULL THEN 'completed' WHEN state = 'closed' THEN 'started'
                    ELSE 'cancelled' END,
               first_opener_id, COALESCE(opening_started_at, opened_at), second_opener_id,
               CASE WHEN second_opener_id IS NOT NULL THEN opened_at END,
               CASE WHEN second_opener_id IS NULL AND state <> 'closed' THEN opening_started_at END,
               CASE WHEN second_opener_id IS NULL AND state <> 'closed' THEN 'Carried over by a migration.' END
        FROM exercises WHERE first_opener_id IS NOT NULL AND COALESCE(opening_started_at, opened_at) IS NOT NULL
    """)

    with op.batch_alter_table('deadline_incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.Enum('pending', 'effective', 'declined', name='incidentstate', native_enum=False, length=20), nullable=False, server_default='effective'))
        batch_op.add_column(sa.Column('requires_confirmation', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('confirmed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('effective_at', app.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('declined_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('declined_at', app.db.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE deadline_incidents SET effective_at = recorded_at")
    with op.batch_alter_table('deadline_incidents', schema=None) as batch_op:
        batch_op.alter_column('state', server_default=None)
        batch_op.alter_column('requires_confirmation', server_default=None)
        batch_op.create_foreign_key('fk_deadline_incidents_confirmed_by_named_officer', 'opening_officers', ['exercise_id', 'confirmed_by_id'], ['exercise_id', 'user_id'])
        batch_op.create_foreign_key(batch_op.f('fk_deadline_incidents_confirmed_by_id_users'), 'users', ['confirmed_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_deadline_incidents_declined_by_id_users'), 'users', ['declined_by_id'], ['id'])
        batch_op.create_check_constraint(op.f('ck_deadline_incidents_known_state'), "state IN ('pending', 'effective', 'declined')")
        batch_op.create_check_constraint(op.f('ck_deadline_incidents_effective_has_time'), "(state = 'effective') = (effective_at IS NOT NULL)")
        batch_op.create_check_constraint(op.f('ck_deadline_incidents_declined_has_time_and_officer'), "(state = 'declined') = (declined_at IS NOT NULL AND declined_by_id IS NOT NULL)")
        batch_op.create_check_constraint(op.f('ck_deadline_incidents_reopening_confirmed'), "NOT requires_confirmation OR state <> 'effective' OR confirmed_by_id IS NOT NULL")
        batch_op.create_check_constraint(op.f('ck_deadline_incidents_two_different_officers'), "confirmed_by_id IS NULL OR confirmed_by_id <> recorded_by_id")

    with op.batch_alter_table('exercises', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_exercises_opened_by_two'), type_='check')
        batch_op.drop_constraint(op.f('ck_exercises_two_different_openers'), type_='check')
        batch_op.drop_constraint(op.f('fk_exercises_second_opener_id_users'), type_='foreignkey')
        batch_op.drop_constraint(op.f('fk_exercises_first_opener_id_users'), type_='foreignkey')
        batch_op.drop_column('first_opener_id')
        batch_op.drop_column('second_opener_id')
        batch_op.drop_column('opening_started_at')
        batch_op.create_check_constraint(op.f('ck_exercises_opened_state_has_time'), "opened_at IS NOT NULL OR state IN ('draft', 'published', 'closed', 'cancelled')")
        batch_op.create_check_constraint(op.f('ck_exercises_opened_time_has_state'), "opened_at IS NULL OR state NOT IN ('draft', 'published', 'closed')")


def downgrade():
    with op.batch_alter_table('exercises', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_exercises_opened_time_has_state'), type_='check')
        batch_op.drop_constraint(op.f('ck_exercises_opened_state_has_time'), type_='check')
        batch_op.add_column(sa.Column('first_opener_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('opening_started_at', app.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('second_opener_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_exercises_first_opener_id_users'), 'users', ['first_opener_id'], ['id'])
        batch_op.create_foreign_key(op.f('fk_exercises_second_opener_id_users'), 'users', ['second_opener_id'], ['id'])
    op.execute("""
        UPDATE exercises SET
          first_opener_id = (SELECT o.started_by_id FROM openings o WHERE o.exercise_id = exercises.id
                             AND o.envelope = 'technical' AND o.state <> 'cancelled'),
          opening_started_at = (SELECT o.started_at FROM openings o WHERE o.exercise_id = exercises.id
                                AND o.envelope = 'technical' AND o.state <> 'cancelled'),
          second_opener_id = (SELECT o.confirmed_by_id FROM openings o WHERE o.exercise_id = exercises.id
                              AND o.envelope = 'technical' AND o.state = 'completed')
    """)
    with op.batch_alter_table('exercises', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_exercises_opened_by_two'), '(opened_at IS NULL) = (second_opener_id IS NULL)')
        batch_op.create_check_constraint(op.f('ck_exercises_two_different_openers'), 'first_opener_id IS NULL OR second_opener_id IS NULL OR first_opener_id <> second_opener_id')

    op.execute("DELETE FROM deadline_incidents WHERE state <> 'effective'")
    with op.batch_alter_table('deadline_incidents', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_deadline_incidents_two_different_officers'), type_='check')
        batch_op.drop_constraint(op.f('ck_deadline_incidents_reopening_confirmed'), type_='check')
        batch_op.drop_constraint(op.f('ck_deadline_incidents_declined_has_time_and_officer'), type_='check')
        batch_op.drop_constraint(op.f('ck_deadline_incidents_effective_has_time'), type_='check')
        batch_op.drop_constraint(op.f('ck_deadline_incidents_known_state'), type_='check')
        batch_op.drop_constraint(op.f('fk_deadline_incidents_declined_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(op.f('fk_deadline_incidents_confirmed_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint('fk_deadline_incidents_confirmed_by_named_officer', type_='foreignkey')
        batch_op.drop_column('declined_at')
        batch_op.drop_column('declined_by_id')
        batch_op.drop_column('effective_at')
        batch_op.drop_column('confirmed_by_id')
        batch_op.drop_column('requires_confirmation')
        batch_op.drop_column('state')

    with op.batch_alter_table('openings', schema=None) as batch_op:
        batch_op.drop_index('uq_openings_one_live_per_envelope', sqlite_where=sa.text("state <> 'cancelled'"), postgresql_where=sa.text("state <> 'cancelled'"))
        batch_op.drop_index(batch_op.f('ix_openings_exercise_id'))

    op.drop_table('openings')
    op.drop_table('opening_officers')
