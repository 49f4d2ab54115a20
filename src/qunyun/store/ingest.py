"""Writing events into the store, idempotently and fast.

The ingester is the one writer of the event log. It maps the platform refs of a
batch of events to row ids (creating groups, identities and their persons on
first sight), appends the events with ``ON CONFLICT DO NOTHING`` so that a
re-import adds nothing, and folds the *new* events into the derived tables
(memberships, display names) with order-independent min/max/sum updates. All of
it happens inside the caller's transaction, so a batch is either wholly written
or not at all — an interrupted import leaves a consistent store and a rerun
completes it.

Hot-path statements are hand-written multi-row SQL: compiling a 2,000-row
``insert().values()`` through SQLAlchemy costs more than executing it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import chain
from typing import Any

import orjson
from sqlalchemy import Connection, select

from qunyun import clock
from qunyun.events import MEMBER_EXIT_KINDS, Event, GroupRef, IdentityRef, Kind
from qunyun.store.schema import from_micros, groups, identities, sources, to_micros

#: rows per multi-row INSERT; SQLite allows 32,766 bound parameters per statement
ROWS_PER_STATEMENT = 2000
_KIND_STR = {k: k.value for k in Kind}
_MEMBER_KINDS = frozenset({Kind.JOIN.value, *(k.value for k in MEMBER_EXIT_KINDS)})
_dumps = orjson.dumps
_EVENT_COLS = "source_id, source_event_id, kind, ts, group_id, actor_id, target_id, payload"


#: A group as the writer keys it: (platform, external_id, title).
GroupKey = tuple[str, str, str | None]
#: An identity as the writer keys it: (platform, external_id, display_name, is_bot).
IdentKey = tuple[str, str, str | None, bool]
#: An event in the writer's own shape, made by :class:`Packer`: (source,
#: source_event_id, kind, UTC micros, group, actor, target, payload as JSON text,
#: info). ``info`` is what the derived tables need from the payload, so the writer
#: never holds the payload dict: for a join (method, channel_code, invite_link); for
#: a message whatever the packer's ``message_info`` made of it (None without one).
Packed = tuple[str, str, str, int, GroupKey, IdentKey | None, IdentKey | None, str, Any]


class Packer:
    """Turns events into :data:`Packed` tuples.

    Everything here depends on the event alone, so it can run where the events
    are parsed (the import's reader process) instead of in the one process that
    writes; plain tuples also pickle far faster than dataclasses.
    """

    def __init__(self, message_info: Callable[[dict[str, Any]], Any] | None = None) -> None:
        self.message_info = message_info
        # importers reuse one datetime for the events of a minute (or a second)
        self._last_ts: Any = None
        self._last_us = 0

    def __call__(self, ev: Event) -> Packed:
        a, t, g, p = ev.actor, ev.target, ev.group, ev.payload
        if ev.ts is not self._last_ts:
            self._last_ts, self._last_us = ev.ts, to_micros(ev.ts)
        kind = _KIND_STR[ev.kind]
        info: Any = None
        if kind == "message":
            if self.message_info is not None:
                info = self.message_info(p)
        elif kind == "join":
            info = (str(p.get("method") or "unknown"), p.get("channel_code"), p.get("invite_link"))
        return (
            ev.source,
            ev.source_event_id,
            kind,
            self._last_us,
            (g.platform, g.external_id, g.title),
            (a.platform, a.external_id, a.display_name, a.is_bot) if a is not None else None,
            (t.platform, t.external_id, t.display_name, t.is_bot) if t is not None else None,
            _dumps(p).decode(),
            info,
        )


@dataclass
class WriteResult:
    """What one call to :meth:`Ingester.write` or :meth:`Ingester.write_packed` did."""

    new: int = 0
    duplicate: int = 0
    #: (event id, event) of every event that was new — :meth:`Ingester.write` only
    written: list[tuple[int, Event]] = field(default_factory=list)
    #: for each new event: (event id, kind, UTC micros, group id, actor id, target id,
    #: info (see :data:`Packed`), actor is a bot, payload JSON text) — the resolved
    #: form downstream upkeep (rollups) takes
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    #: position in the batch of each of ``rows``
    positions: list[int] = field(default_factory=list)


@dataclass
class _Ident:
    id: int
    person_id: int
    name: str | None
    name_at: int | None  # micros of the newest event that showed `name`
    is_bot: bool = False
    names: dict[str, int] = field(default_factory=dict)  # name -> earliest micros seen


class Ingester:
    """Caches row ids across batches; one per import (or per connector process).

    Caches hold only committed facts; call :meth:`forget` after a rollback.
    """

    def __init__(
        self,
        *,
        group_tz: str | None = None,
        update_group_tz: bool = False,
        message_info: Callable[[dict[str, Any]], Any] | None = None,
    ) -> None:
        self.group_tz = group_tz
        self.update_group_tz = update_group_tz
        self.pack = Packer(message_info)
        self._sources: dict[str, int] = {}
        self._groups: dict[tuple[str, str], int] = {}
        self._idents: dict[tuple[str, str], _Ident] = {}
        self._person_of: dict[int, int] = {}
        # the same, keyed by the packed tuples themselves (one lookup per event)
        self._gid: dict[GroupKey, int] = {}
        self._ident: dict[IdentKey | None, _Ident | None] = {None: None}
        self._iid: dict[IdentKey | None, int | None] = {None: None}
        #: groups whose time zone this ingester changed (their rollups need a rebuild)
        self.tz_changed: set[int] = set()

    @property
    def group_ids(self) -> list[int]:
        """The groups this ingester has written to (or looked up) so far."""
        return sorted(set(self._groups.values()))

    def forget(self) -> None:
        self._sources.clear()
        self._groups.clear()
        self._idents.clear()
        self._person_of.clear()
        self._gid.clear()
        self._ident.clear()
        self._ident[None] = None
        self._iid.clear()
        self._iid[None] = None

    # ------------------------------------------------------------------ public

    def write(self, conn: Connection, batch: Sequence[Event]) -> WriteResult:
        """Append ``batch`` inside ``conn``'s transaction; returns what was new."""
        pack = self.pack
        result = self.write_packed(conn, [pack(ev) for ev in batch])
        result.written = [
            (r[0], batch[i]) for r, i in zip(result.rows, result.positions, strict=True)
        ]
        return result

    def write_packed(self, conn: Connection, batch: Sequence[Packed]) -> WriteResult:
        """:meth:`write` for events already packed (by :class:`Packer`)."""
        result = WriteResult()
        if not batch:
            return result
        self._resolve(conn, batch)
        pg = conn.dialect.name == "postgresql"
        gid_of, iid_of, src = self._gid, self._iid, self._sources
        rows: list[tuple[Any, ...]] = [
            (src[s], seid, kind, ts, gid_of[g], iid_of[a], iid_of[t], pj)
            for s, seid, kind, ts, g, a, t, pj, _ in batch
        ]
        ids = self._insert_events(conn, rows, pg)
        out, positions = result.rows, result.positions
        members: dict[tuple[int, int], list[Any]] = {}
        newest_name: dict[int, tuple[int, str]] = {}
        new_names: dict[tuple[int, str], int] = {}
        ident_of = self._ident
        for i, (eid, row, packed) in enumerate(zip(ids, rows, batch, strict=True)):
            if eid is None:
                continue
            ai, ti = ident_of[packed[5]], ident_of[packed[6]]
            _s, _e, kind, ts, gid, aid, tid, pj = row
            info = packed[8]
            out.append((eid, kind, ts, gid, aid, tid, info, ai.is_bot if ai else False, pj))
            positions.append(i)
            # memberships: [first_seen, last_seen, messages, first_join, last_join,
            # last_exit, first_message]
            am = tm = None
            if ai is not None:
                am = members.get((gid, aid))
                if am is None:
                    am = members[(gid, aid)] = [ts, ts, 0, None, None, None, None]
                elif ts < am[0]:
                    am[0] = ts
                elif ts > am[1]:
                    am[1] = ts
                name = packed[5][2]  # type: ignore[index]  # ai is set: so is the key
                if name:
                    if name == ai.name and ai.name_at is not None and ts >= ai.name_at:
                        ai.name_at = ts  # the common case: same name, newer event
                    else:
                        self._note_name(ai, name, ts, newest_name, new_names)
            if ti is not None:
                tm = members.get((gid, tid))
                if tm is None:
                    tm = members[(gid, tid)] = [ts, ts, 0, None, None, None, None]
                elif ts < tm[0]:
                    tm[0] = ts
                elif ts > tm[1]:
                    tm[1] = ts
                name = packed[6][2]  # type: ignore[index]
                if name:
                    if name == ti.name and ti.name_at is not None and ts >= ti.name_at:
                        ti.name_at = ts
                    else:
                        self._note_name(ti, name, ts, newest_name, new_names)
            if kind == "message":
                if am is not None:
                    am[2] += 1
                    if am[6] is None or ts < am[6]:
                        am[6] = ts
            elif tm is not None and kind in _MEMBER_KINDS:
                if kind == "join":
                    method, code, link = info
                    j = (ts, method, aid if aid != tid else None, code, link)
                    if tm[3] is None or j[:2] < tm[3][:2]:
                        tm[3] = j
                    tm[4] = ts if tm[4] is None else max(tm[4], ts)
                elif tm[5] is None or ts >= tm[5][0]:
                    tm[5] = (ts, kind)
        result.new = len(out)
        result.duplicate = len(batch) - result.new
        if out:
            self._write_memberships(conn, members, pg)
            self._write_names(conn, newest_name, new_names, pg)
        return result

    def _insert_events(
        self, conn: Connection, rows: list[tuple[Any, ...]], pg: bool
    ) -> list[int | None]:
        """Append ``rows`` (ON CONFLICT DO NOTHING); the new id of each, None where it was
        there already (or earlier in the batch: a key twice in a batch is new once).

        SQLite hands the rows one INSERT adds consecutive rowids, in VALUES order, the
        last of them ``lastrowid`` (no other writer can come between: the statement holds
        the write lock): so when a statement inserted every row their ids are known
        without RETURNING, which cost a quarter of the insert (a result row built,
        fetched and mapped per event). Where some were duplicates the new ones are read
        back by id. PostgreSQL sequences promise no such order: there RETURNING names them.
        """
        ids: list[int | None] = []
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            if pg:
                for start in range(0, len(rows), ROWS_PER_STATEMENT):
                    chunk = rows[start : start + ROWS_PER_STATEMENT]
                    params = [v for r in chunk for v in (*r[:3], from_micros(r[3]), *r[4:])]
                    cursor.execute(_insert_events_sql(len(chunk), pg, returning=True), params)
                    made = {(sid, seid): eid for eid, sid, seid in cursor.fetchall()}
                    ids += [made.pop((r[0], r[1]), None) for r in chunk]
                return ids
            for start in range(0, len(rows), ROWS_PER_STATEMENT):
                chunk = rows[start : start + ROWS_PER_STATEMENT]
                cursor.execute(
                    _insert_events_sql(len(chunk), pg, returning=False),
                    list(chain.from_iterable(chunk)),
                )
                n, last = cursor.rowcount, cursor.lastrowid
                if n == len(chunk):
                    ids += range(last - n + 1, last + 1)
                elif n == 0:
                    ids += [None] * len(chunk)
                else:
                    cursor.execute(
                        "SELECT id, source_id, source_event_id FROM events WHERE id > ?",
                        (last - n,),
                    )
                    made = {(sid, seid): eid for eid, sid, seid in cursor.fetchall()}
                    ids += [made.pop((r[0], r[1]), None) for r in chunk]
        finally:
            cursor.close()
        return ids

    # ------------------------------------------------------------------ ids

    def _resolve(self, conn: Connection, batch: Sequence[Packed]) -> None:
        """Map the batch's sources, groups and identities to row ids, creating new ones.

        New rows are made in first-seen order (dicts, not sets), so ids are the same
        whenever the same history is imported.
        """
        gid_of, ident_of = self._gid, self._ident
        cols = list(zip(*batch, strict=True))  # one pass in C instead of one per column
        for name in dict.fromkeys(cols[0]):
            if name not in self._sources:
                self._sources[name] = _get_or_create_source(conn, name)
        group_keys = [g for g in dict.fromkeys(cols[4]) if g not in gid_of]
        for g in group_keys:
            gk = (g[0], g[1])
            if gk not in self._groups:
                self._groups[gk] = self._get_or_create_group(conn, GroupRef(*g))
            gid_of[g] = self._groups[gk]
        ident_keys = [k for k in dict.fromkeys(cols[5] + cols[6]) if k not in ident_of]
        refs: dict[tuple[str, str], IdentityRef] = {}
        for k in ident_keys:
            assert k is not None
            if (k[0], k[1]) not in self._idents and (k[0], k[1]) not in refs:
                refs[(k[0], k[1])] = IdentityRef(*k)
        if refs:
            self._load_identities(conn, refs)
        for k in ident_keys:
            assert k is not None
            ident = ident_of[k] = self._idents[(k[0], k[1])]
            self._iid[k] = ident.id

    def _get_or_create_group(self, conn: Connection, ref: GroupRef) -> int:
        row = conn.execute(
            select(groups.c.id, groups.c.title, groups.c.tz).where(
                groups.c.platform == ref.platform, groups.c.external_id == ref.external_id
            )
        ).first()
        if row is None:
            values = {
                "platform": ref.platform,
                "external_id": ref.external_id,
                "title": ref.title,
                "tz": self.group_tz or "UTC",
                "created_at": clock.now(),
            }
            conn.execute(_upsert(conn, groups, ["platform", "external_id"]).values(**values))
            row = conn.execute(
                select(groups.c.id, groups.c.title, groups.c.tz).where(
                    groups.c.platform == ref.platform, groups.c.external_id == ref.external_id
                )
            ).one()
        changes: dict[str, Any] = {}
        if ref.title and ref.title != row.title:
            changes["title"] = ref.title
        if self.update_group_tz and self.group_tz and self.group_tz != row.tz:
            changes["tz"] = self.group_tz
            self.tz_changed.add(int(row.id))
        if changes:
            conn.execute(groups.update().where(groups.c.id == row.id).values(**changes))
        return int(row.id)

    def _load_identities(self, conn: Connection, refs: dict[tuple[str, str], IdentityRef]) -> None:
        by_platform: dict[str, list[str]] = {}
        for platform, ext in refs:
            by_platform.setdefault(platform, []).append(ext)
        for platform, exts in by_platform.items():
            for start in range(0, len(exts), 500):
                chunk = exts[start : start + 500]
                q = select(
                    identities.c.id,
                    identities.c.external_id,
                    identities.c.person_id,
                    identities.c.display_name,
                    identities.c.display_name_at,
                    identities.c.is_bot,
                ).where(identities.c.platform == platform, identities.c.external_id.in_(chunk))
                for r in conn.execute(q):
                    at = to_micros(r.display_name_at) if r.display_name_at else None
                    self._idents[(platform, r.external_id)] = _Ident(
                        r.id, r.person_id, r.display_name, at, bool(r.is_bot)
                    )
                    self._person_of[r.id] = r.person_id
        missing = [refs[k] for k in refs if k not in self._idents]
        for start in range(0, len(missing), 500):
            self._create_identities(conn, missing[start : start + 500])

    def _create_identities(self, conn: Connection, refs: list[IdentityRef]) -> None:
        pg = conn.dialect.name == "postgresql"
        ph = "%s" if pg else "?"
        now = clock.now()
        now_param: Any = now if pg else to_micros(now)
        # Within one statement ids are handed out in VALUES order (SQLite holds the
        # write lock; a PostgreSQL sequence is monotonic), so sorted ids line up
        # with `refs` even where RETURNING order is unspecified.
        sql = (
            f"INSERT INTO persons (display_name, created_at) VALUES "
            f"{','.join([f'({ph},{ph})'] * len(refs))} RETURNING id"
        )
        params = tuple(v for ref in refs for v in (ref.display_name, now_param))
        person_ids = sorted(r[0] for r in conn.exec_driver_sql(sql, params))
        sql = (
            "INSERT INTO identities (platform, external_id, display_name, is_bot, person_id, "
            f"created_at) VALUES {','.join([f'({ph},{ph},{ph},{ph},{ph},{ph})'] * len(refs))} "
            "ON CONFLICT (platform, external_id) DO NOTHING RETURNING id, external_id, person_id"
        )
        params = tuple(
            v
            for ref, pid in zip(refs, person_ids, strict=True)
            for v in (ref.platform, ref.external_id, ref.display_name, ref.is_bot, pid, now_param)
        )
        made = {r[1]: (r[0], r[2]) for r in conn.exec_driver_sql(sql, params)}
        lost = []  # created concurrently by another writer: use theirs, drop our person
        for ref, pid in zip(refs, person_ids, strict=True):
            if ref.external_id in made:
                iid, _ = made[ref.external_id]
                self._idents[(ref.platform, ref.external_id)] = _Ident(
                    iid, pid, None, None, ref.is_bot
                )
                self._person_of[iid] = pid
            else:
                lost.append((ref, pid))
        if lost:
            conn.exec_driver_sql(
                f"DELETE FROM persons WHERE id IN ({','.join([ph] * len(lost))})",
                tuple(pid for _, pid in lost),
            )
            self._load_identities(conn, {(r.platform, r.external_id): r for r, _ in lost})

    # ------------------------------------------------------------------ derived rows

    def _note_name(
        self,
        ident: _Ident,
        name: str,
        t: int,
        newest: dict[int, tuple[int, str]],
        new_names: dict[tuple[int, str], int],
    ) -> None:
        first = ident.names.get(name)
        if first is None or t < first:
            ident.names[name] = t
            k = (ident.id, name)
            new_names[k] = min(new_names.get(k, t), t)
        if ident.name_at is None or t > ident.name_at:
            if name != ident.name or ident.name_at is None:
                newest[ident.id] = (t, name)
            ident.name, ident.name_at = name, t

    def _write_memberships(
        self, conn: Connection, members: dict[tuple[int, int], list[Any]], pg: bool
    ) -> None:
        """Upsert membership rows; rows with no join or exit take a cheaper statement."""
        person_of = self._person_of
        plain = []
        full = []
        for (gid, iid), (seen0, seen1, n, fj, last_join, ex, said) in members.items():
            if fj is None and ex is None:
                plain.append(
                    (gid, iid, person_of[iid], _ts(seen0, pg), _ts(seen1, pg), n, _ts(said, pg))
                )
                continue
            full.append(
                (
                    gid,
                    iid,
                    person_of[iid],
                    _ts(fj[0] if fj else None, pg),
                    _ts(last_join, pg),
                    _ts(ex[0] if ex else None, pg),
                    ex[1] if ex else None,
                    fj[1] if fj else "unknown",
                    fj[2] if fj else None,
                    fj[3] if fj else None,
                    fj[4] if fj else None,
                    _ts(seen0, pg),
                    _ts(seen1, pg),
                    n,
                    _ts(said, pg),
                )
            )
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            if plain:
                cursor.executemany(_seen_upsert_sql(pg), plain)
            if full:
                cursor.executemany(_membership_upsert_sql(pg), full)
        finally:
            cursor.close()

    def _write_names(
        self,
        conn: Connection,
        newest: dict[int, tuple[int, str]],
        new_names: dict[tuple[int, str], int],
        pg: bool,
    ) -> None:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        lo = "LEAST" if pg else "min"
        ph = "%s" if pg else "?"
        try:
            if new_names:
                cursor.executemany(
                    "INSERT INTO identity_names (identity_id, name, first_seen_at, last_seen_at) "
                    f"VALUES ({ph},{ph},{ph},{ph}) ON CONFLICT (identity_id, name) DO UPDATE SET "
                    f"first_seen_at = {lo}(identity_names.first_seen_at, excluded.first_seen_at)",
                    [(iid, name, _ts(t, pg), _ts(t, pg)) for (iid, name), t in new_names.items()],
                )
            if newest:
                cursor.executemany(
                    f"UPDATE identities SET display_name = {ph}, display_name_at = {ph} "
                    f"WHERE id = {ph} AND (display_name_at IS NULL OR display_name_at < {ph})",
                    [(n, _ts(t, pg), iid, _ts(t, pg)) for iid, (t, n) in newest.items()],
                )
        finally:
            cursor.close()

    def flush_name_times(self, conn: Connection) -> None:
        """Persist the newest time each current display name was seen.

        Kept in memory during an import (writing it per batch would cost a row
        update per member per batch) and written at the end, so a later import
        of an *older* export cannot take the current name back.
        """
        pg = conn.dialect.name == "postgresql"
        ph = "%s" if pg else "?"
        rows: list[tuple[Any, ...]] = [
            (_ts(i.name_at, pg), i.id, _ts(i.name_at, pg))
            for i in self._idents.values()
            if i.name_at is not None and i.name is not None
        ]
        if not rows:
            return
        hi = "GREATEST" if pg else "max"
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(
                "UPDATE identities SET display_name_at = "
                f"{hi}(COALESCE(display_name_at, {ph}), {ph}) WHERE id = {ph}",
                [(a, a, i) for a, i, _ in rows],
            )
        finally:
            cursor.close()


def _ts(micros: int | None, pg: bool) -> Any:
    if micros is None or not pg:
        return micros
    return from_micros(micros)


def _get_or_create_source(conn: Connection, name: str) -> int:
    conn.execute(_upsert(conn, sources, ["name"]).values(name=name))
    return int(conn.execute(select(sources.c.id).where(sources.c.name == name)).scalar_one())


def _upsert(conn: Connection, table: Any, keys: list[str]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING in the connection's dialect."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing(index_elements=keys)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing(index_elements=keys)


_SQL_CACHE: dict[tuple[str, int, bool, bool], str] = {}


def _insert_events_sql(n: int, pg: bool, *, returning: bool) -> str:
    key = ("events", n, pg, returning)
    sql = _SQL_CACHE.get(key)
    if sql is None:
        row = "(%s,%s,%s,%s,%s,%s,%s,%s::jsonb)" if pg else "(?,?,?,?,?,?,?,?)"
        sql = (
            f"INSERT INTO events ({_EVENT_COLS}) VALUES {','.join([row] * n)} "
            "ON CONFLICT (source_id, source_event_id) DO NOTHING"
        )
        if returning:
            sql += " RETURNING id, source_id, source_event_id"
        _SQL_CACHE[key] = sql
    return sql


def _either(pick: str, col: str) -> str:
    """``pick`` (min/max, LEAST/GREATEST) of the stored and the new value of a nullable
    membership column: the one that is set when only one is."""
    m, x = "memberships", "excluded"
    return f"{pick}(COALESCE({m}.{col}, {x}.{col}), COALESCE({x}.{col}, {m}.{col}))"


def _seen_upsert_sql(pg: bool) -> str:
    ph = "%s" if pg else "?"
    lo, hi = ("LEAST", "GREATEST") if pg else ("min", "max")
    return (
        "INSERT INTO memberships (group_id, identity_id, person_id, first_seen_at, last_seen_at, "
        f"message_count, first_message_at) VALUES ({ph},{ph},{ph},{ph},{ph},{ph},{ph}) "
        "ON CONFLICT (group_id, identity_id) DO UPDATE SET "
        f"first_seen_at = {lo}(memberships.first_seen_at, excluded.first_seen_at), "
        f"last_seen_at = {hi}(memberships.last_seen_at, excluded.last_seen_at), "
        "message_count = memberships.message_count + excluded.message_count, "
        f"first_message_at = {_either(lo, 'first_message_at')}"
    )


def _membership_upsert_sql(pg: bool) -> str:
    ph = "%s" if pg else "?"
    lo, hi = ("LEAST", "GREATEST") if pg else ("min", "max")
    m, x = "memberships", "excluded"
    lesser, greater = partial(_either, lo), partial(_either, hi)

    earlier_join = (
        f"{x}.first_joined_at IS NOT NULL AND ({m}.first_joined_at IS NULL "
        f"OR {x}.first_joined_at < {m}.first_joined_at)"
    )
    later_exit = (
        f"{x}.last_left_at IS NOT NULL AND ({m}.last_left_at IS NULL "
        f"OR {x}.last_left_at >= {m}.last_left_at)"
    )
    join_cols = ("join_method", "invited_by_id", "channel_code", "invite_link")
    sets = [
        *(f"{c} = CASE WHEN {earlier_join} THEN {x}.{c} ELSE {m}.{c} END" for c in join_cols),
        f"left_how = CASE WHEN {later_exit} THEN {x}.left_how ELSE {m}.left_how END",
        f"first_joined_at = {lesser('first_joined_at')}",
        f"last_joined_at = {greater('last_joined_at')}",
        f"last_left_at = {greater('last_left_at')}",
        f"first_seen_at = {lesser('first_seen_at')}",
        f"last_seen_at = {greater('last_seen_at')}",
        f"message_count = {m}.message_count + {x}.message_count",
        f"first_message_at = {lesser('first_message_at')}",
    ]
    cols = (
        "group_id, identity_id, person_id, first_joined_at, last_joined_at, last_left_at, "
        "left_how, join_method, invited_by_id, channel_code, invite_link, first_seen_at, "
        "last_seen_at, message_count, first_message_at"
    )
    return (
        f"INSERT INTO memberships ({cols}) VALUES ({','.join([ph] * 15)}) "
        f"ON CONFLICT (group_id, identity_id) DO UPDATE SET {', '.join(sets)}"
    )
