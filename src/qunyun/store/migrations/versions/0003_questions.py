"""questions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import qunyun.store.schema

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "questions",
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("ts", qunyun.store.schema.UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["identities.id"], name=op.f("fk_questions_actor_id_identities")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_questions_group_id_groups")
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_questions")),
    )
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_questions_group_id_ts"), ["group_id", "ts"], unique=False
        )
    # questions are a rollup: start the rollups over so the next use refolds the whole
    # log (qunyun does that by itself from the fill position)
    for table in ("group_hourly", "member_daily", "join_daily", "rollup_state"):
        op.execute(f"DELETE FROM {table}")


def downgrade() -> None:

    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_questions_group_id_ts"))

    op.drop_table("questions")
