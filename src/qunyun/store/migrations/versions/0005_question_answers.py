"""questions keep their first answer

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import qunyun.store.schema

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("answered_at", qunyun.store.schema.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_questions_group_id_answered_at"),
            ["group_id", "answered_at"],
            unique=False,
        )
    # every stored question's first reply by another human, found as the rollups do
    # (analytics.rollups.ANSWER); a frozen copy, since migrations must not change
    op.execute(
        "UPDATE questions SET answered_at = ("
        "SELECT e.ts FROM events e JOIN identities s ON s.id = e.actor_id "
        "WHERE e.group_id = questions.group_id AND e.ts >= questions.ts "
        "AND (e.ts > questions.ts OR e.id > questions.event_id) "
        "AND e.kind = 'message' AND e.actor_id <> questions.actor_id AND s.is_bot = false "
        "ORDER BY e.ts LIMIT 1)"
    )


def downgrade() -> None:
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_questions_group_id_answered_at"))
        batch_op.drop_column("answered_at")
