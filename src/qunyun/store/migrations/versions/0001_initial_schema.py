"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import qunyun.store.schema

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("tz", sa.String(length=64), server_default="UTC", nullable=False),
        sa.Column("created_at", qunyun.store.schema.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
        sa.UniqueConstraint("platform", "external_id", name=op.f("uq_groups_platform_external_id")),
    )
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", qunyun.store.schema.UtcDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", qunyun.store.schema.UtcDateTime(timezone=True), nullable=True),
        sa.Column(
            "result",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
    )
    op.create_table(
        "persons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("created_at", qunyun.store.schema.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
    )
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_sources_name")),
    )
    op.create_table(
        "identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("display_name_at", qunyun.store.schema.UtcDateTime(timezone=True), nullable=True),
        sa.Column("is_bot", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", qunyun.store.schema.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_identities_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identities")),
        sa.UniqueConstraint(
            "platform", "external_id", name=op.f("uq_identities_platform_external_id")
        ),
    )
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identities_person_id"), ["person_id"], unique=False)

    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("source_event_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ts", qunyun.store.schema.UtcDateTime(timezone=True), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["identities.id"], name=op.f("fk_events_actor_id_identities")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_events_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_events_source_id_sources")
        ),
        sa.ForeignKeyConstraint(
            ["target_id"], ["identities.id"], name=op.f("fk_events_target_id_identities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint(
            "source_id", "source_event_id", name=op.f("uq_events_source_id_source_event_id")
        ),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_events_actor_id_ts"), ["actor_id", "ts"], unique=False)
        batch_op.create_index(batch_op.f("ix_events_group_id_ts"), ["group_id", "ts"], unique=False)

    op.create_table(
        "identity_names",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("first_seen_at", qunyun.store.schema.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", qunyun.store.schema.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["identities.id"],
            name=op.f("fk_identity_names_identity_id_identities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_names")),
        sa.UniqueConstraint("identity_id", "name", name=op.f("uq_identity_names_identity_id_name")),
    )
    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("first_joined_at", qunyun.store.schema.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_joined_at", qunyun.store.schema.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_left_at", qunyun.store.schema.UtcDateTime(timezone=True), nullable=True),
        sa.Column("left_how", sa.String(length=16), nullable=True),
        sa.Column("join_method", sa.String(length=32), server_default="unknown", nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("channel_code", sa.String(length=255), nullable=True),
        sa.Column("invite_link", sa.Text(), nullable=True),
        sa.Column("first_seen_at", qunyun.store.schema.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", qunyun.store.schema.UtcDateTime(timezone=True), nullable=False),
        sa.Column("message_count", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_memberships_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["identity_id"], ["identities.id"], name=op.f("fk_memberships_identity_id_identities")
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["identities.id"],
            name=op.f("fk_memberships_invited_by_id_identities"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_memberships_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
        sa.UniqueConstraint(
            "group_id", "identity_id", name=op.f("uq_memberships_group_id_identity_id")
        ),
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_memberships_identity_id"), ["identity_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_memberships_person_id"), ["person_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_memberships_person_id"))
        batch_op.drop_index(batch_op.f("ix_memberships_identity_id"))

    op.drop_table("memberships")
    op.drop_table("identity_names")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_group_id_ts"))
        batch_op.drop_index(batch_op.f("ix_events_actor_id_ts"))

    op.drop_table("events")
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identities_person_id"))

    op.drop_table("identities")
    op.drop_table("sources")
    op.drop_table("persons")
    op.drop_table("imports")
    op.drop_table("groups")
