"""memberships keep each member's first message in the group

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import qunyun.store.schema

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "first_message_at", qunyun.store.schema.UtcDateTime(timezone=True), nullable=True
            )
        )
    # the earliest message of each member who wrote any, as the ingester keeps it;
    # walked through the (actor_id, ts) index, stopping at the first in the group
    op.execute(
        "UPDATE memberships SET first_message_at = ("
        "SELECT e.ts FROM events e WHERE e.actor_id = memberships.identity_id "
        "AND e.group_id + 0 = memberships.group_id AND e.kind = 'message' "
        "ORDER BY e.ts LIMIT 1) WHERE message_count > 0"
    )


def downgrade() -> None:
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_column("first_message_at")
