"""Member counts of many groups on given days, counted by the store.

"Member on day d" (docs/metrics.md) only compares a membership's entry and final
exit with the end of d, and the end of a local day is one UTC instant per zone,
so the store can count with plain comparisons on the indexed group key. The
per-row Python version (every membership turned into local days) was what made
health and the all-groups overview read hundreds of thousands of rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, and_, case, false, func, or_, select, true

from qunyun.analytics.scope import Scope, day_date
from qunyun.store.schema import identities, memberships


def day_start(day: int, tz: ZoneInfo) -> datetime:
    """The UTC instant local day ``day`` begins in ``tz`` (its midnight, or the first
    instant after a gap when midnight does not exist there that day)."""
    d = day_date(day)
    return datetime(d.year, d.month, d.day, tzinfo=tz).astimezone(UTC)


def member_before(b: datetime) -> ColumnElement[bool]:
    """A membership that is a member at the instant just before ``b``.

    Entry (first join, else first seen) before ``b``, and not over, or over with
    its last exit at or after ``b`` — the same rule as metrics.is_member_on with
    ``b`` the start of the day after.
    """
    m = memberships.c
    entry = func.coalesce(m.first_joined_at, m.first_seen_at)
    not_over = or_(
        m.last_left_at.is_(None),
        and_(m.last_joined_at.is_not(None), m.last_left_at < m.last_joined_at),
    )
    return and_(entry < b, or_(not_over, m.last_left_at >= b))


#: beyond this many bots, "not a bot" is checked by a join rather than a list
MAX_LISTED_BOTS = 500


def bot_ids(conn: Connection) -> list[int] | None:
    """Ids of every bot identity, or None when there are too many to list.

    Stores have a handful of bots, and "identity not in (those)" spares the
    all-groups queries one identities lookup per row; but finding them scans the
    identities table, so only callers reading many groups should ask.
    """
    q = select(identities.c.id).where(identities.c.is_bot == true()).limit(MAX_LISTED_BOTS + 1)
    ids = list(conn.execute(q).scalars())
    return None if len(ids) > MAX_LISTED_BOTS else ids


def zones(scope: Scope) -> dict[str, list[int]]:
    """Group ids of the scope by time zone name."""
    out: dict[str, list[int]] = defaultdict(list)
    for g in scope.groups:
        out[g.tz].append(g.id)
    return out


def counts(
    conn: Connection, scope: Scope, first: int, last: int
) -> dict[int, tuple[int, int, int]]:
    """Per group: (members at the end of day ``first``, at the end of day ``last``,
    of the former how many are members at the end of ``last`` too). Humans only;
    groups with no membership rows are absent."""
    return {
        g: (c[0], c[1], c[2]) for g, c in on_days(conn, scope, [first, last], both=(0, 1)).items()
    }


def on_days(
    conn: Connection,
    scope: Scope,
    days: Sequence[int],
    both: tuple[int, int] | None = None,
    bots: list[int] | None = None,
) -> dict[int, tuple[int, ...]]:
    """Per group: members at the end of each of ``days`` (in that order), then, with
    ``both=(i, j)``, how many were members at the end of days[i] and of days[j].

    One pass over the scope's memberships whatever the number of days, so callers
    needing several counts (the overview: range start and end, health window start)
    ask once. Humans only (``bots``: from :func:`bot_ids`, else identities are
    joined); groups with no membership rows are absent.
    """
    m = memberships.c
    out: dict[int, tuple[int, ...]] = {}
    for tz, ids in zones(scope).items():
        zone = ZoneInfo(tz)
        conds = [member_before(day_start(d + 1, zone)) for d in days]
        if both is not None:
            conds.append(and_(conds[both[0]], conds[both[1]]))
        q = select(m.group_id, *(func.sum(case((c, 1), else_=0)) for c in conds))
        if bots is None:
            q = q.join(identities, identities.c.id == m.identity_id).where(
                identities.c.is_bot == false()
            )
        elif bots:
            q = q.where(m.identity_id.not_in(bots))
        q = q.where(m.group_id.in_(ids)).group_by(m.group_id)
        for g, *ns in conn.execute(q).all():
            out[g] = tuple(int(n or 0) for n in ns)
    return out


def utc_window(scope: Scope, first: int, last: int) -> tuple[datetime, datetime]:
    """Earliest start of local day ``first`` and latest end of ``last`` across the zones."""
    starts, ends = [], []
    for tz in zones(scope):
        zone = ZoneInfo(tz)
        starts.append(day_start(first, zone))
        ends.append(day_start(last + 1, zone))
    return min(starts), max(ends)
