"""rollups

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "rollup_state",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rollup_state")),
    )
    op.create_table(
        "group_hourly",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("local_hour", sa.Integer(), nullable=False),
        sa.Column("messages", sa.Integer(), server_default="0", nullable=False),
        sa.Column("effective", sa.Integer(), server_default="0", nullable=False),
        sa.Column("questions", sa.Integer(), server_default="0", nullable=False),
        sa.Column("bot_messages", sa.Integer(), server_default="0", nullable=False),
        sa.Column("joins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("exits", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_group_hourly_group_id_groups")
        ),
        sa.PrimaryKeyConstraint("group_id", "local_hour", name=op.f("pk_group_hourly")),
    )
    op.create_table(
        "join_daily",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("local_day", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("joins", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_join_daily_group_id_groups")
        ),
        sa.PrimaryKeyConstraint(
            "group_id", "local_day", "method", "source", name=op.f("pk_join_daily")
        ),
    )
    op.create_table(
        "member_daily",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("local_day", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("messages", sa.Integer(), server_default="0", nullable=False),
        sa.Column("effective", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_member_daily_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["identity_id"], ["identities.id"], name=op.f("fk_member_daily_identity_id_identities")
        ),
        sa.PrimaryKeyConstraint(
            "group_id", "local_day", "identity_id", name=op.f("pk_member_daily")
        ),
    )


def downgrade() -> None:

    op.drop_table("member_daily")
    op.drop_table("join_daily")
    op.drop_table("group_hourly")
    op.drop_table("rollup_state")
