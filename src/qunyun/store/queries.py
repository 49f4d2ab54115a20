"""Reusable read queries over the store (selection of groups, membership state)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, or_, select

from qunyun.errors import NotFound
from qunyun.store.schema import from_micros, groups, memberships, to_micros


def plain_rows(conn: Connection, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` (``?`` placeholders) as the driver's plain tuples.

    For the few reads that return tens of thousands of rows of numbers: SQLAlchemy's
    result rows cost as much again as the store's scan there. Times are passed as
    each store keeps them (µs since the epoch in SQLite) and come back that way.
    """
    if conn.dialect.name == "postgresql":
        sql = sql.replace("?", "%s")
    else:
        params = tuple(to_micros(p) if isinstance(p, datetime) else p for p in params)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
    finally:
        cursor.close()
    return rows


def instant(value: Any) -> datetime:
    """A time column's value from :func:`plain_rows` as an aware datetime."""
    return value if isinstance(value, datetime) else from_micros(value)


def placeholders(n: int) -> str:
    """``?, ?, …`` for an IN list of ``n`` values in :func:`plain_rows` SQL."""
    return ", ".join(["?"] * n)


def is_member() -> ColumnElement[bool]:
    """A membership that is current: joined after its last exit, or never exited."""
    m = memberships.c
    return or_(
        m.last_left_at.is_(None),
        and_(m.last_joined_at.is_not(None), m.last_joined_at > m.last_left_at),
    )


def find_groups(conn: Connection, spec: str | None) -> list[Any]:
    """Groups named by ``spec``: a row id, a platform id, or (part of) a title.

    An exact match wins over partial ones so ``--group 42`` never means "every
    group with 42 in its title" when group 42 exists.
    """
    cols = select(groups)
    if spec is None:
        return list(conn.execute(cols.order_by(groups.c.id)))
    exact = [groups.c.external_id == spec, groups.c.title == spec]
    if spec.isdigit():
        exact.append(groups.c.id == int(spec))
    rows = list(conn.execute(cols.where(or_(*exact)).order_by(groups.c.id)))
    if not rows:
        rows = list(conn.execute(cols.where(groups.c.title.contains(spec)).order_by(groups.c.id)))
    if not rows:
        raise NotFound(
            f"no group matches {spec!r} (give a group id, platform id or part of its title; "
            "`qunyun stats` lists them)",
            zh=f"没有匹配 {spec!r} 的群（可用群 ID、平台 ID 或群名的一部分；用 qunyun stats 查看）",
            code="group_not_found",
        )
    return rows
