"""catalogue data model

Revision ID: 0001
Revises:
Create Date: 2026-11-25 10:46:12.601180
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Extensions need a privileged role; they stay on downgrade because other schemas may use them.
EXTENSIONS = ("postgis", "pg_trgm", "unaccent", "uuid-ossp")


def upgrade() -> None:
    for extension in EXTENSIONS:
        op.execute(f'CREATE EXTENSION IF NOT EXISTS "{extension}"')
    op.create_table('audit_event',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('entity_type', sa.Text(), nullable=False),
    sa.Column('entity_id', sa.UUID(), nullable=False),
    sa.Column('before', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('after', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('request_id', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    op.create_index('ix_audit_event_entity', 'audit_event', ['entity_type', 'entity_id', 'at'], unique=False)
    op.create_geospatial_table('comune',
    sa.Column('istat_code', sa.String(length=6), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('province_code', sa.String(length=2), nullable=False),
    sa.Column('cadastral_code', sa.String(length=4), nullable=False),
    sa.Column('caps', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('centroid', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('centroid_source', sa.Text(), nullable=True),
    sa.Column('centroid_missing_reason', sa.Text(), nullable=True),
    sa.Column('boundary', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("istat_code ~ '^[0-9]{6}$'", name=op.f('ck_comune_istat_code')),
    sa.CheckConstraint('(centroid IS NULL) = (centroid_missing_reason IS NOT NULL)', name=op.f('ck_comune_centroid_reason')),
    sa.PrimaryKeyConstraint('istat_code', name=op.f('pk_comune'))
    )
    op.create_geospatial_index('ix_comune_boundary', 'comune', ['boundary'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_index('ix_comune_centroid', 'comune', ['centroid'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index('ix_comune_province_code', 'comune', ['province_code'], unique=False)
    op.create_table('organization',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('tax_code', sa.Text(), nullable=True),
    sa.Column('runts_id', sa.Text(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('website', sa.Text(), nullable=True),
    sa.Column('merged_into_id', sa.UUID(), nullable=True),
    sa.Column('source', sa.Text(), server_default='ambrogio', nullable=False),
    sa.Column('external_id', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_by', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('status', sa.Text(), server_default='draft', nullable=False),
    sa.CheckConstraint("kind IN ('third_sector', 'social_cooperative', 'association', 'business', 'public_body')", name=op.f('ck_organization_kind')),
    sa.CheckConstraint("status IN ('draft', 'published', 'archived')", name=op.f('ck_organization_status')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['organization.id'], name=op.f('fk_organization_merged_into_id_organization'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organization')),
    sa.UniqueConstraint('source', 'external_id', name='uq_organization_source_external_id')
    )
    op.create_index('ix_organization_name_id', 'organization', ['name', 'id'], unique=False)
    op.create_index('ix_organization_tax_code', 'organization', ['tax_code'], unique=False)
    op.create_index('ix_organization_updated_at', 'organization', ['updated_at'], unique=False)
    op.create_index('ix_organization_merged_into_id', 'organization', ['merged_into_id'], unique=False, postgresql_where=sa.text('merged_into_id IS NOT NULL'))
    op.create_table('taxonomy_term',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('slug', sa.Text(), nullable=False),
    sa.Column('parent_id', sa.UUID(), nullable=True),
    sa.Column('vocabulary', sa.Text(), server_default='ambrogio', nullable=False),
    sa.Column('label_it', sa.Text(), nullable=False),
    sa.Column('label_en', sa.Text(), nullable=False),
    sa.Column('description_it', sa.Text(), nullable=True),
    sa.Column('description_en', sa.Text(), nullable=True),
    sa.Column('tuir_category', sa.Text(), server_default='none', nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('source', sa.Text(), server_default='ambrogio', nullable=False),
    sa.Column('external_id', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_by', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('status', sa.Text(), server_default='draft', nullable=False),
    sa.CheckConstraint("slug ~ '^[a-z0-9][a-z0-9-]*$'", name=op.f('ck_taxonomy_term_slug')),
    sa.CheckConstraint("status IN ('draft', 'published', 'archived')", name=op.f('ck_taxonomy_term_status')),
    sa.CheckConstraint("tuir_category IN ('art51_f', 'art51_f_bis', 'art51_f_ter', 'art51_f_quater', 'none')", name=op.f('ck_taxonomy_term_tuir_category')),
    sa.ForeignKeyConstraint(['parent_id'], ['taxonomy_term.id'], name=op.f('fk_taxonomy_term_parent_id_taxonomy_term'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_taxonomy_term')),
    sa.UniqueConstraint('slug', name=op.f('uq_taxonomy_term_slug')),
    sa.UniqueConstraint('source', 'external_id', name='uq_taxonomy_term_source_external_id')
    )
    op.create_index('ix_taxonomy_term_parent_id', 'taxonomy_term', ['parent_id'], unique=False)
    op.create_geospatial_table('location',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('organization_id', sa.UUID(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('geocode_precision', sa.Text(), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('cap', sa.String(length=5), nullable=True),
    sa.Column('comune_istat', sa.String(length=6), nullable=True),
    sa.Column('wheelchair_accessible', sa.Boolean(), nullable=True),
    sa.Column('accessibility', sa.Text(), nullable=True),
    sa.Column('opening_hours', sa.Text(), nullable=True),
    sa.Column('source', sa.Text(), server_default='ambrogio', nullable=False),
    sa.Column('external_id', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_by', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('status', sa.Text(), server_default='draft', nullable=False),
    sa.CheckConstraint("geocode_precision IS NULL OR geocode_precision IN ('exact', 'address', 'comune')", name=op.f('ck_location_geocode_precision')),
    sa.CheckConstraint("status IN ('draft', 'published', 'archived')", name=op.f('ck_location_status')),
    sa.CheckConstraint('(geom IS NULL) = (geocode_precision IS NULL)', name=op.f('ck_location_geom_precision')),
    sa.ForeignKeyConstraint(['comune_istat'], ['comune.istat_code'], name=op.f('fk_location_comune_istat_comune')),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_location_organization_id_organization'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_location')),
    sa.UniqueConstraint('source', 'external_id', name='uq_location_source_external_id')
    )
    op.create_index('ix_location_comune_istat', 'location', ['comune_istat'], unique=False)
    op.create_index('ix_location_geog', 'location', [sa.literal_column('(geom::geography)')], unique=False, postgresql_using='gist')
    op.create_geospatial_index('ix_location_geom', 'location', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index('ix_location_organization_id', 'location', ['organization_id'], unique=False)
    op.create_geospatial_table('service',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('organization_id', sa.UUID(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('welfare_eligible', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('tuir_category', sa.Text(), server_default='none', nullable=False),
    sa.Column('target_groups', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('min_age', sa.Integer(), nullable=True),
    sa.Column('max_age', sa.Integer(), nullable=True),
    sa.Column('languages', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('delivery', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('service_area', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('service_area_comuni', postgresql.ARRAY(sa.String(length=6)), server_default='{}', nullable=False),
    sa.Column('source', sa.Text(), server_default='ambrogio', nullable=False),
    sa.Column('external_id', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_by', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('status', sa.Text(), server_default='draft', nullable=False),
    sa.CheckConstraint("delivery <@ ARRAY['on_site', 'at_home', 'online']::text[]", name=op.f('ck_service_delivery')),
    sa.CheckConstraint("status IN ('draft', 'published', 'archived')", name=op.f('ck_service_status')),
    sa.CheckConstraint("target_groups <@ ARRAY['elderly', 'children', 'youth', 'families', 'disabled', 'caregivers', 'jobseekers', 'adults']::text[]", name=op.f('ck_service_target_groups')),
    sa.CheckConstraint("tuir_category IN ('art51_f', 'art51_f_bis', 'art51_f_ter', 'art51_f_quater', 'none')", name=op.f('ck_service_tuir_category')),
    sa.CheckConstraint('min_age IS NULL OR max_age IS NULL OR min_age <= max_age', name=op.f('ck_service_age_range')),
    sa.CheckConstraint('min_age IS NULL OR min_age >= 0', name=op.f('ck_service_min_age')),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_service_organization_id_organization'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service')),
    sa.UniqueConstraint('source', 'external_id', name='uq_service_source_external_id')
    )
    op.create_index('ix_service_area_comuni', 'service', ['service_area_comuni'], unique=False, postgresql_using='gin')
    op.create_index('ix_service_delivery', 'service', ['delivery'], unique=False, postgresql_using='gin')
    op.create_index('ix_service_languages', 'service', ['languages'], unique=False, postgresql_using='gin')
    op.create_index('ix_service_name_id', 'service', ['name', 'id'], unique=False)
    op.create_index('ix_service_organization_id', 'service', ['organization_id'], unique=False)
    op.create_geospatial_index('ix_service_service_area', 'service', ['service_area'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index('ix_service_target_groups', 'service', ['target_groups'], unique=False, postgresql_using='gin')
    op.create_index('ix_service_updated_at', 'service', ['updated_at'], unique=False)
    op.create_geospatial_table('welfare_point',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('geocode_precision', sa.Text(), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('cap', sa.String(length=5), nullable=True),
    sa.Column('comune_istat', sa.String(length=6), nullable=True),
    sa.Column('opening_hours', sa.Text(), nullable=True),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('comuni_served', postgresql.ARRAY(sa.String(length=6)), server_default='{}', nullable=False),
    sa.Column('source', sa.Text(), server_default='ambrogio', nullable=False),
    sa.Column('external_id', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('verified_by', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('status', sa.Text(), server_default='draft', nullable=False),
    sa.CheckConstraint("geocode_precision IS NULL OR geocode_precision IN ('exact', 'address', 'comune')", name=op.f('ck_welfare_point_geocode_precision')),
    sa.CheckConstraint("kind IN ('hub', 'point')", name=op.f('ck_welfare_point_kind')),
    sa.CheckConstraint("status IN ('draft', 'published', 'archived')", name=op.f('ck_welfare_point_status')),
    sa.ForeignKeyConstraint(['comune_istat'], ['comune.istat_code'], name=op.f('fk_welfare_point_comune_istat_comune')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_welfare_point')),
    sa.UniqueConstraint('source', 'external_id', name='uq_welfare_point_source_external_id')
    )
    op.create_index('ix_welfare_point_comuni_served', 'welfare_point', ['comuni_served'], unique=False, postgresql_using='gin')
    op.create_index('ix_welfare_point_geog', 'welfare_point', [sa.literal_column('(geom::geography)')], unique=False, postgresql_using='gist')
    op.create_geospatial_index('ix_welfare_point_geom', 'welfare_point', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index('ix_welfare_point_name_id', 'welfare_point', ['name', 'id'], unique=False)
    op.create_table('cost_option',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('service_id', sa.UUID(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), server_default='EUR', nullable=False),
    sa.Column('unit', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.CheckConstraint("unit <> 'free' OR coalesce(amount, 0) = 0", name=op.f('ck_cost_option_free_is_zero')),
    sa.CheckConstraint("unit IN ('hour', 'session', 'day', 'month', 'flat', 'free')", name=op.f('ck_cost_option_unit')),
    sa.CheckConstraint('amount IS NULL OR amount >= 0', name=op.f('ck_cost_option_amount')),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_cost_option_service_id_service'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cost_option'))
    )
    op.create_index('ix_cost_option_service_id', 'cost_option', ['service_id'], unique=False)
    op.create_index('ix_cost_option_unit_amount', 'cost_option', ['unit', 'amount'], unique=False)
    op.create_table('service_at_location',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('service_id', sa.UUID(), nullable=False),
    sa.Column('location_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_service_at_location_location_id_location'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_service_at_location_service_id_service'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_at_location')),
    sa.UniqueConstraint('service_id', 'location_id', name='uq_service_at_location_pair')
    )
    op.create_index('ix_service_at_location_location_id', 'service_at_location', ['location_id'], unique=False)
    op.create_table('service_category',
    sa.Column('service_id', sa.UUID(), nullable=False),
    sa.Column('term_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_service_category_service_id_service'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['term_id'], ['taxonomy_term.id'], name=op.f('fk_service_category_term_id_taxonomy_term'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('service_id', 'term_id', name=op.f('pk_service_category'))
    )
    op.create_index('ix_service_category_term_id', 'service_category', ['term_id', 'service_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_service_category_term_id', table_name='service_category')
    op.drop_table('service_category')
    op.drop_index('ix_service_at_location_location_id', table_name='service_at_location')
    op.drop_table('service_at_location')
    op.drop_index('ix_cost_option_unit_amount', table_name='cost_option')
    op.drop_index('ix_cost_option_service_id', table_name='cost_option')
    op.drop_table('cost_option')
    op.drop_index('ix_welfare_point_name_id', table_name='welfare_point')
    op.drop_geospatial_index('ix_welfare_point_geom', table_name='welfare_point', postgresql_using='gist', column_name='geom')
    op.drop_index('ix_welfare_point_geog', table_name='welfare_point', postgresql_using='gist')
    op.drop_index('ix_welfare_point_comuni_served', table_name='welfare_point', postgresql_using='gin')
    op.drop_geospatial_table('welfare_point')
    op.drop_index('ix_service_updated_at', table_name='service')
    op.drop_index('ix_service_target_groups', table_name='service', postgresql_using='gin')
    op.drop_geospatial_index('ix_service_service_area', table_name='service', postgresql_using='gist', column_name='service_area')
    op.drop_index('ix_service_organization_id', table_name='service')
    op.drop_index('ix_service_name_id', table_name='service')
    op.drop_index('ix_service_languages', table_name='service', postgresql_using='gin')
    op.drop_index('ix_service_delivery', table_name='service', postgresql_using='gin')
    op.drop_index('ix_service_area_comuni', table_name='service', postgresql_using='gin')
    op.drop_geospatial_table('service')
    op.drop_index('ix_location_organization_id', table_name='location')
    op.drop_geospatial_index('ix_location_geom', table_name='location', postgresql_using='gist', column_name='geom')
    op.drop_index('ix_location_geog', table_name='location', postgresql_using='gist')
    op.drop_index('ix_location_comune_istat', table_name='location')
    op.drop_geospatial_table('location')
    op.drop_index('ix_taxonomy_term_parent_id', table_name='taxonomy_term')
    op.drop_table('taxonomy_term')
    op.drop_index('ix_organization_updated_at', table_name='organization')
    op.drop_index('ix_organization_merged_into_id', table_name='organization', postgresql_where=sa.text('merged_into_id IS NOT NULL'))
    op.drop_index('ix_organization_tax_code', table_name='organization')
    op.drop_index('ix_organization_name_id', table_name='organization')
    op.drop_table('organization')
    op.drop_index('ix_comune_province_code', table_name='comune')
    op.drop_geospatial_index('ix_comune_centroid', table_name='comune', postgresql_using='gist', column_name='centroid')
    op.drop_geospatial_index('ix_comune_boundary', table_name='comune', postgresql_using='gist', column_name='boundary')
    op.drop_geospatial_table('comune')
    op.drop_index('ix_audit_event_entity', table_name='audit_event')
    op.drop_table('audit_event')
