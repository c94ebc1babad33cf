"""Service-level questions in a questionnaire (sections.kind, kpi_unit, kpi_direction) and annual performance
reports of contracts; a KPI keeps the level committed in the proposal it was pre-filled from.

Revision ID: a7c3e9d1f2b4
Revises: 4b594a525e29
Create Date: 2026-12-01 23:00:00

"""
from alembic import op
import sqlalchemy as sa

import app.db  # noqa: F401  (UTCDateTime in column types)


revision = 'a7c3e9d1f2b4'
down_revision = '4b594a525e29'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), server_default='text', nullable=False))
        batch_op.add_column(sa.Column('kpi_unit', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('kpi_direction', sa.String(length=10), nullable=True))
        batch_op.create_check_constraint(batch_op.f('ck_sections_known_kind'), "kind IN ('text', 'service_level')")
        batch_op.create_check_constraint(
            batch_op.f('ck_sections_service_level_has_unit'),
            "(kind = 'service_level') = (kpi_direction IS NOT NULL AND kpi_unit IS NOT NULL)")
        batch_op.create_check_constraint(batch_op.f('ck_sections_known_kpi_direction'),
                                         "kpi_direction IS NULL OR kpi_direction IN ('at_least', 'at_most')")

    with op.batch_alter_table('contract_kpis', schema=None) as batch_op:
        batch_op.add_column(sa.Column('committed_level', sa.Numeric(precision=14, scale=4), nullable=True))

    op.create_table('performance_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', app.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('year >= 1', name=op.f('ck_performance_reports_year_positive')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_performance_reports_contract_id_contracts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_performance_reports_document_id_documents')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_performance_reports_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_performance_reports')),
    sa.UniqueConstraint('document_id', name=op.f('uq_performance_reports_document_id'))
    )
    with op.batch_alter_table('performance_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_performance_reports_contract_id'), ['contract_id'], unique=False)


def downgrade():
    with op.batch_alter_table('performance_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_performance_reports_contract_id'))
    op.drop_table('performance_reports')
    with op.batch_alter_table('contract_kpis', schema=None) as batch_op:
        batch_op.drop_column('committed_level')
    with op.batch_alter_table('sections', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_sections_known_kpi_direction'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_sections_service_level_has_unit'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_sections_known_kind'), type_='check')
        batch_op.drop_column('kpi_direction')
        batch_op.drop_column('kpi_unit')
        batch_op.drop_column('kind')
