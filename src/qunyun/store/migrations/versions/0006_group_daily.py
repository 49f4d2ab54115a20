"""group_daily rollup; on SQLite the rollup tables are clustered by their keys;
memberships' spans indexed

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_COUNTS = ("messages", "effective", "questions", "bot_messages", "joins", "exits")
#: rollup tables whose rows SQLite keeps in key order (WITHOUT ROWID): a range of a
#: group's days or hours is then read with its counts, not through a separate key
#: index plus one table lookup per row (most of the time of counting active members)
_CLUSTERED = ("group_hourly", "member_daily", "join_daily")


def upgrade() -> None:
    op.create_table(
        "group_daily",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("local_day", sa.Integer(), nullable=False),
        *(sa.Column(c, sa.Integer(), server_default="0", nullable=False) for c in _COUNTS),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_group_daily_group_id_groups")
        ),
        sa.PrimaryKeyConstraint("group_id", "local_day", name=op.f("pk_group_daily")),
        sqlite_with_rowid=False,
    )
    if op.get_bind().dialect.name == "sqlite":
        for table in _CLUSTERED:
            _rebuild(table, clustered=True)
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.create_index(
            "ix_memberships_group_spans",
            [
                "group_id",
                "identity_id",
                "first_joined_at",
                "first_seen_at",
                "last_joined_at",
                "last_left_at",
            ],
            unique=False,
        )
    # summed from the hourly rollup, which holds the same counts; the day is the
    # floor of hour / 24 also for hours before 1970 (SQL division truncates)
    day = "(local_hour - ((local_hour % 24) + 24) % 24) / 24"
    cols = ", ".join(_COUNTS)
    sums = ", ".join(f"SUM({c})" for c in _COUNTS)
    op.execute(
        f"INSERT INTO group_daily (group_id, local_day, {cols}) "
        f"SELECT group_id, {day}, {sums} FROM group_hourly GROUP BY group_id, {day}"
    )


def downgrade() -> None:
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index("ix_memberships_group_spans")
    if op.get_bind().dialect.name == "sqlite":
        for table in _CLUSTERED:
            _rebuild(table, clustered=False)
    op.drop_table("group_daily")


def _rebuild(table: str, *, clustered: bool) -> None:
    """Copy a SQLite table into one declared the same way, with or without rowids.

    SQLite cannot change that in place; the declaration is taken from the table
    itself, so the columns, keys and constraint names stay exactly as they were.
    """
    bind = op.get_bind()
    ddl = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    ddl = ddl.rstrip().removesuffix("WITHOUT ROWID").rstrip()
    rest = ddl.partition("(")[2]
    new = f"{table}__new"
    bind.exec_driver_sql(f"CREATE TABLE {new} ({rest}" + (" WITHOUT ROWID" if clustered else ""))
    bind.exec_driver_sql(f"INSERT INTO {new} SELECT * FROM {table}")
    bind.exec_driver_sql(f"DROP TABLE {table}")
    bind.exec_driver_sql(f"ALTER TABLE {new} RENAME TO {table}")
