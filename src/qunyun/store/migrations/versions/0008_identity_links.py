"""identity_links: name-only identities linked to the speaker they stand for

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import qunyun.store.schema

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    utc = qunyun.store.schema.UtcDateTime(timezone=True)
    op.create_table(
        "identity_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("alias_id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("joined_at", utc, nullable=False),
        sa.Column("first_message_at", utc, nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("undone_at", utc, nullable=True),
        sa.ForeignKeyConstraint(
            ["alias_id"], ["identities.id"], name=op.f("fk_identity_links_alias_id_identities")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_identity_links_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["identities.id"],
            name=op.f("fk_identity_links_identity_id_identities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_links")),
        sa.UniqueConstraint(
            "group_id", "alias_id", name=op.f("uq_identity_links_group_id_alias_id")
        ),
    )
    op.create_index(
        op.f("ix_identity_links_identity_id"), "identity_links", ["identity_id"], unique=False
    )
    op.create_index(op.f("ix_identity_names_name"), "identity_names", ["name"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_identity_names_name"), table_name="identity_names")
    op.drop_index(op.f("ix_identity_links_identity_id"), table_name="identity_links")
    op.drop_table("identity_links")
