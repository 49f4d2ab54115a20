"""rollups of groups whose zone is not a steady whole number of hours from UTC are refolded

Before this revision the fold shifted each event's UTC hour by the zone's offset,
looked up (one instant off by the offset itself) once per UTC hour. That is right
only where the offset is a whole number of hours and does not change: in India
(+05:30) every message between :00 and :30 was counted in the previous local hour
(and 00:00-00:30 in the previous day), and around each DST change of New York or
London a few hours were counted an hour out. Those groups' rollups are recomputed
from the log; every other group's stay as they are, being exactly what the fold
computes now.

The check is cheap: per group, the zone's offset one day before its first event
to one day after its last, sampled daily (no zone changes twice in a day), read
through the (group_id, ts) index. The refold is the live one (analytics.rollups),
not a frozen copy, because it is the fold itself that changed; it costs about a
second per 100,000 events of the groups refolded. A later migration that changes
the rollup tables must come after this one does its work, as it does by order.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from alembic import op
from sqlalchemy import Connection, func, select

from qunyun.analytics import rollups
from qunyun.store.schema import events, groups

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_DAY = timedelta(days=1)


def upgrade() -> None:
    conn = op.get_bind()
    rollups.refold(conn, mis_bucketed(conn))


def downgrade() -> None:
    """Nothing to undo: the refolded rollups are right at any revision."""


def mis_bucketed(conn: Connection) -> list[int]:
    """Groups with events whose zone was not a steady whole-hour offset from UTC
    around them: those the old fold may have bucketed wrongly."""
    e, g = events.c, groups.c
    first = select(func.min(e.ts)).where(e.group_id == g.id).scalar_subquery()
    last = select(func.max(e.ts)).where(e.group_id == g.id).scalar_subquery()
    out = []
    for gid, tz, lo, hi in conn.execute(select(g.id, g.tz, first, last)):
        if lo is not None and not steady_whole_hours(ZoneInfo(tz), lo - _DAY, hi + _DAY):
            out.append(gid)
    return out


def steady_whole_hours(zone: ZoneInfo, start: datetime, end: datetime) -> bool:
    """True when ``zone`` is one whole number of hours from UTC from ``start`` to ``end``."""
    seen = set()
    at = start
    while True:
        offset = at.astimezone(zone).utcoffset()
        if offset is None or offset % timedelta(hours=1):
            return False
        seen.add(offset)
        if len(seen) > 1:
            return False
        if at >= end:
            return True
        at = min(at + _DAY, end)
