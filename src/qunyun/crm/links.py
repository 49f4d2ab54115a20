"""Linking a newcomer's join to their messages when a notice named them by name alone.

QQ's text export writes a join as ``昵称加入本群`` (no QQ number) and the newcomer's
messages as ``昵称(12345)``; WeChat's plain-text notices name members by display name
while their messages carry a wxid. The join and the speaker become two identities,
so the newcomer "never spoke". Importers mark such joins (``target_by_name`` in the
payload); this module links the name-only *alias* to the *speaker* when the evidence
is unambiguous (docs/importers/qq.md, "identity links"):

* the alias joined the group exactly once, by a notice that named it by name, and
  has no message anywhere;
* exactly one identity with a real id (any external id other than the name) that is
  a member of the group ever showed that name (``identity_names``);
* that identity has no join of its own in the group, was first seen there at or after
  the join, and wrote its first message there within :data:`WINDOW_DAYS` of it;
* no other alias of the group claims the same speaker.

The event log is never rewritten. A link folds the alias's membership row into the
speaker's (the speaker gains the join: time, method, inviter) and removes the alias's
row, so members and joins are counted once; rollups count join *events* and are
unaffected. Undoing rebuilds both rows from the log, exactly as the ingester makes
them, and keeps the link record, marked undone, so the linker never makes it again.
A later import that writes events of a linked alias re-creates its row; the linker
runs after every import and folds it in again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, select, union_all

from qunyun import clock
from qunyun.accounts import audit
from qunyun.accounts.roles import Actor, Role
from qunyun.errors import Conflict, NotFound
from qunyun.events import MEMBER_EXIT_KINDS
from qunyun.store.schema import events, groups, identities, identity_links, identity_names
from qunyun.store.schema import memberships as ms

#: how long after the join the speaker's first message may come
WINDOW_DAYS = 30
REASON_CODE = "same_name_spoke_after_join"
#: who makes the links found at the end of an import (the audit log names it)
LINKER = Actor(user_id=None, name="linker", role=Role.owner, via="cli")
_CHUNK = 500
_EXITS = tuple(k.value for k in MEMBER_EXIT_KINDS)
_JOIN_COLS = ("join_method", "invited_by_id", "channel_code", "invite_link")


@dataclass(frozen=True)
class Proposal:
    """A link the evidence supports, before it is made."""

    group_id: int
    alias_id: int
    identity_id: int
    name: str
    joined_at: datetime
    first_message_at: datetime

    def reason(self, group_title: str) -> str:
        minutes = (self.first_message_at - self.joined_at).total_seconds() / 60
        gap = f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"
        return (
            f"same display name {self.name!r} in group {group_title!r}; the only member "
            f"with an id who showed it; first message {gap} after the join"
        )


@dataclass(frozen=True)
class Ambiguity:
    """An alias that may be a speaker, but not the only possible one: left alone."""

    group_id: int
    alias_id: int
    name: str
    code: str  # several_speakers | speaker_claimed_twice | joined_more_than_once
    candidates: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "group_id": self.group_id,
            "alias_id": self.alias_id,
            "name": self.name,
            "code": self.code,
            "candidates": list(self.candidates),
        }


@dataclass
class LinkRun:
    """What one run of the linker did."""

    linked: list[int] = field(default_factory=list)  # ids of the new links
    refolded: int = 0  # existing links whose alias had a membership row again
    ambiguous: list[Ambiguity] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "linked": len(self.linked),
            "link_ids": self.linked,
            "refolded": self.refolded,
            "ambiguous": len(self.ambiguous),
            "ambiguous_cases": [a.as_dict() for a in self.ambiguous],
        }


# --------------------------------------------------------------------------- finding


def find(
    conn: Connection, group_ids: Sequence[int] | None = None
) -> tuple[list[Proposal], list[Ambiguity]]:
    """Links the evidence supports (aliases without a link record), and ambiguous cases."""
    aliases = _aliases(conn, group_ids)
    if not aliases:
        return [], []
    decided = _decided(conn, {g for g, _a, _n, _t in aliases})
    aliases = [x for x in aliases if (x[0], x[1]) not in decided]
    joins = _join_flags(conn, aliases)
    speakers = _speakers_by_name(conn, {n for _g, _a, n, _t in aliases})
    rows = _speaker_rows(conn, aliases, speakers)
    claimed = _claimed(conn, {g for g, _a, _n, _t in aliases})
    found: list[Proposal] = []
    ambiguous: list[Ambiguity] = []
    for g, a, name, joined_at in aliases:
        flags = joins.get((g, a), [])
        if not flags or not all(flags):
            continue  # not joined by a by-name notice (or an id that looks like a name)
        if len(flags) > 1:
            ambiguous.append(Ambiguity(g, a, name, "joined_more_than_once"))
            continue
        members = [s for s in speakers.get(name, ()) if s != a and (g, s) in rows]
        if len(members) > 1:
            ambiguous.append(Ambiguity(g, a, name, "several_speakers", tuple(sorted(members))))
            continue
        if not members:
            continue
        s = members[0]
        first_seen, first_joined, first_said = rows[(g, s)]
        if first_joined is not None or first_said is None or first_seen < joined_at:
            continue  # joined by a notice with their id, never spoke, or there before
        if first_said - joined_at > timedelta(days=WINDOW_DAYS):
            continue
        found.append(Proposal(g, a, s, name, joined_at, first_said))
    by_speaker: dict[tuple[int, int], list[Proposal]] = defaultdict(list)
    for p in found:
        by_speaker[(p.group_id, p.identity_id)].append(p)
    unique: list[Proposal] = []
    for key, props in by_speaker.items():
        if len(props) == 1 and key not in claimed:
            unique.extend(props)
            continue
        for p in props:
            ambiguous.append(
                Ambiguity(p.group_id, p.alias_id, p.name, "speaker_claimed_twice", (key[1],))
            )
    return unique, ambiguous


def _aliases(
    conn: Connection, group_ids: Sequence[int] | None
) -> list[tuple[int, int, str, datetime]]:
    """(group, alias, name, first join) of joined, silent identities keyed by their name.

    ``external_id = display_name`` only narrows the search (a by-name identity is keyed
    by its name); the join events' ``target_by_name`` decides. An identity with a
    message in any group is not an alias: it speaks under that key.
    """
    m, i = ms.c, identities.c
    spoke = select(ms.c.identity_id).where(ms.c.message_count > 0).scalar_subquery()
    q = (
        select(m.group_id, m.identity_id, i.external_id, m.first_joined_at)
        .join(identities, i.id == m.identity_id)
        .where(
            m.message_count == 0,
            m.first_joined_at.is_not(None),
            i.external_id == i.display_name,
            i.is_bot.is_(False),
            m.identity_id.not_in(spoke),
        )
    )
    if group_ids is not None:
        q = q.where(m.group_id.in_(list(group_ids)))
    return [
        (int(g), int(a), str(n), t)
        for g, a, n, t in conn.execute(q.order_by(m.group_id, m.identity_id))
    ]


def _decided(conn: Connection, gids: set[int]) -> set[tuple[int, int]]:
    """(group, alias) pairs with a link record, active or undone: decided already."""
    lk = identity_links.c
    q = select(lk.group_id, lk.alias_id).where(lk.group_id.in_(sorted(gids)))
    return {(int(g), int(a)) for g, a in conn.execute(q)}


def _claimed(conn: Connection, gids: set[int]) -> set[tuple[int, int]]:
    """(group, speaker) pairs an active link already gave a join."""
    lk = identity_links.c
    q = select(lk.group_id, lk.identity_id).where(
        lk.group_id.in_(sorted(gids)), lk.undone_at.is_(None)
    )
    return {(int(g), int(s)) for g, s in conn.execute(q)}


def _join_flags(
    conn: Connection, aliases: Sequence[tuple[int, int, str, datetime]]
) -> dict[tuple[int, int], list[bool]]:
    """(group, alias) -> for each of its join events there, whether it named them by name."""
    e = events.c
    wanted = {(g, a) for g, a, _n, _t in aliases}
    ids = sorted({a for _g, a in wanted})
    out: dict[tuple[int, int], list[bool]] = defaultdict(list)
    for start in range(0, len(ids), _CHUNK):
        q = select(e.group_id, e.target_id, e.payload).where(
            e.target_id.in_(ids[start : start + _CHUNK]), e.kind == "join"
        )
        for g, t, payload in conn.execute(q):
            if (g, t) in wanted:
                out[(g, t)].append(bool((payload or {}).get("target_by_name")))
    return out


def _speakers_by_name(conn: Connection, names: Iterable[str]) -> dict[str, list[int]]:
    """Name -> identities with a real id (external id other than the name) that showed it."""
    n, i = identity_names.c, identities.c
    todo = sorted(names)
    out: dict[str, list[int]] = defaultdict(list)
    for start in range(0, len(todo), _CHUNK):
        q = (
            select(n.name, i.id)
            .join(identities, i.id == n.identity_id)
            .where(n.name.in_(todo[start : start + _CHUNK]), i.external_id != n.name)
            .where(i.is_bot.is_(False))
        )
        for name, iid in conn.execute(q):
            out[name].append(int(iid))
    return out


def _speaker_rows(
    conn: Connection,
    aliases: Sequence[tuple[int, int, str, datetime]],
    speakers: Mapping[str, list[int]],
) -> dict[tuple[int, int], tuple[datetime, datetime | None, datetime | None]]:
    """(group, identity) -> (first seen, first join, first message) of the candidates."""
    gids = sorted({g for g, _a, _n, _t in aliases})
    ids = sorted({s for ss in speakers.values() for s in ss})
    m = ms.c
    out = {}
    for start in range(0, len(ids), _CHUNK):
        q = select(
            m.group_id, m.identity_id, m.first_seen_at, m.first_joined_at, m.first_message_at
        ).where(m.identity_id.in_(ids[start : start + _CHUNK]), m.group_id.in_(gids))
        for g, s, seen, joined, said in conn.execute(q):
            out[(int(g), int(s))] = (seen, joined, said)
    return out


# --------------------------------------------------------------------------- linking


def do_relink(conn: Connection, actor: Actor, group_ids: Sequence[int] | None = None) -> LinkRun:
    """Make every link the evidence supports and fold aliases that have a row again.

    Running it twice changes nothing: decided aliases (linked or undone) are skipped,
    and an active link's alias has no membership row left to fold.
    """
    actor.require(Role.operator)
    if group_ids is None and not actor.sees_all_groups:
        group_ids = sorted(actor.group_ids)
    elif group_ids is not None:
        for g in group_ids:
            actor.require_group(g)
    run = LinkRun()
    run.refolded = _refold(conn, group_ids)
    proposals, run.ambiguous = find(conn, group_ids)
    now = clock.now()
    titles = _titles(conn, {p.group_id for p in proposals})
    for p in proposals:
        reason = p.reason(titles[p.group_id])
        lid = conn.execute(
            identity_links.insert()
            .values(
                group_id=p.group_id,
                alias_id=p.alias_id,
                identity_id=p.identity_id,
                name=p.name,
                joined_at=p.joined_at,
                first_message_at=p.first_message_at,
                reason_code=REASON_CODE,
                reason=reason,
                created_at=now,
            )
            .returning(identity_links.c.id)
        ).scalar_one()
        _fold(conn, p.group_id, p.alias_id, p.identity_id)
        audit.record(conn, actor, "identity.link", f"link:{lid}", _detail(p, lid, reason))
        run.linked.append(int(lid))
    return run


def after_import(engine: Engine) -> dict[str, Any]:
    """The linker's run at the end of an import, in its own transaction."""
    with engine.begin() as conn:
        return do_relink(conn, LINKER).as_dict()


def _titles(conn: Connection, gids: set[int]) -> dict[int, str]:
    q = select(groups.c.id, groups.c.title, groups.c.external_id).where(
        groups.c.id.in_(sorted(gids))
    )
    return {int(g): str(t or x) for g, t, x in conn.execute(q)}


def _detail(p: Proposal, lid: int, reason: str) -> dict[str, Any]:
    return {
        "link_id": lid,
        "group_id": p.group_id,
        "alias_id": p.alias_id,
        "identity_id": p.identity_id,
        "reason_code": REASON_CODE,
        "reason": reason,
    }


def _refold(conn: Connection, group_ids: Sequence[int] | None) -> int:
    """Fold the rows later imports made for aliases of active links; how many there were."""
    lk, m = identity_links.c, ms.c
    q = (
        select(lk.group_id, lk.alias_id, lk.identity_id)
        .join(ms, and_(m.group_id == lk.group_id, m.identity_id == lk.alias_id))
        .where(lk.undone_at.is_(None))
    )
    if group_ids is not None:
        q = q.where(lk.group_id.in_(list(group_ids)))
    n = 0
    for g, a, s in conn.execute(q).all():
        n += _fold(conn, g, a, s)
    return n


def _row(conn: Connection, group_id: int, identity_id: int) -> dict[str, Any] | None:
    got = conn.execute(
        select(ms).where(ms.c.group_id == group_id, ms.c.identity_id == identity_id)
    ).first()
    return dict(got._mapping) if got is not None else None


def _fold(conn: Connection, group_id: int, alias_id: int, speaker_id: int) -> bool:
    """Merge the alias's membership row into the speaker's and remove it."""
    alias, speaker = _row(conn, group_id, alias_id), _row(conn, group_id, speaker_id)
    if alias is None or speaker is None:
        return False
    merged = merge_rows(speaker, alias)
    keep = {k: v for k, v in merged.items() if k not in ("id", "group_id", "identity_id")}
    conn.execute(ms.update().where(ms.c.id == speaker["id"]).values(**keep))
    conn.execute(ms.delete().where(ms.c.id == alias["id"]))
    return True


def _lesser(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else min(a, b)


def _greater(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else max(a, b)


def merge_rows(into: Mapping[str, Any], other: Mapping[str, Any]) -> dict[str, Any]:
    """Two membership rows of one person in one group as one, the way the ingester
    folds events: the earlier first join brings its method and inviter, the later exit
    its kind; times take min/max, message counts add."""
    out = dict(into)
    j0, j1 = into["first_joined_at"], other["first_joined_at"]
    if j1 is not None and (j0 is None or j1 < j0):
        for c in ("first_joined_at", *_JOIN_COLS):
            out[c] = other[c]
    x0, x1 = into["last_left_at"], other["last_left_at"]
    if x1 is not None and (x0 is None or x1 >= x0):
        out["last_left_at"], out["left_how"] = x1, other["left_how"]
    out["last_joined_at"] = _greater(into["last_joined_at"], other["last_joined_at"])
    out["first_seen_at"] = _lesser(into["first_seen_at"], other["first_seen_at"])
    out["last_seen_at"] = _greater(into["last_seen_at"], other["last_seen_at"])
    out["message_count"] = int(into["message_count"]) + int(other["message_count"])
    out["first_message_at"] = _lesser(into["first_message_at"], other["first_message_at"])
    return out


# --------------------------------------------------------------------------- undoing


def check_unlink(conn: Connection, actor: Actor, link_id: int) -> Any:
    """The active link ``link_id`` the actor may undo (operators: in their groups)."""
    actor.require(Role.operator)
    row = conn.execute(select(identity_links).where(identity_links.c.id == link_id)).first()
    if row is None or not actor.can_see(row.group_id):
        raise NotFound(
            f"no identity link {link_id} (`qunyun identities links` lists them)",
            zh=f"没有身份关联 {link_id}（用 qunyun identities links 查看）",
            code="link_not_found",
        )
    if row.undone_at is not None:
        raise Conflict(
            f"identity link {link_id} was undone already, at {row.undone_at.isoformat()}",
            zh=f"身份关联 {link_id} 已于 {row.undone_at.isoformat()} 撤销",
            code="link_undone",
        )
    return row


def do_unlink(conn: Connection, actor: Actor, link_id: int) -> dict[str, Any]:
    """Undo a link: both membership rows rebuilt from the log; the record kept, undone."""
    row = check_unlink(conn, actor, link_id)
    rebuild_membership(conn, row.group_id, row.alias_id)
    rebuild_membership(conn, row.group_id, row.identity_id)
    conn.execute(
        identity_links.update().where(identity_links.c.id == link_id).values(undone_at=clock.now())
    )
    audit.record(
        conn,
        actor,
        "identity.unlink",
        f"link:{link_id}",
        {
            "link_id": link_id,
            "group_id": row.group_id,
            "alias_id": row.alias_id,
            "identity_id": row.identity_id,
        },
    )
    return _listing(conn, [identity_links.c.id == link_id])[0]


def rebuild_membership(conn: Connection, group_id: int, identity_id: int) -> None:
    """The (group, identity) membership row from the events alone, as the ingester makes it.

    Messages it wrote count; joins and exits are those where it is the target; every
    event naming it, as actor or target, is "seen". Ties between joins at one instant
    go to the smaller method name, then the earlier event, as within an import batch.
    """
    e = events.c
    where = e.group_id == group_id
    part = [
        select(e.id, e.kind, e.ts, e.actor_id, e.target_id).where(where, col == identity_id)
        for col in (e.actor_id, e.target_id)
    ]
    both = union_all(*part).subquery()
    rows = {r.id: r for r in conn.execute(select(both))}
    existing = _row(conn, group_id, identity_id)
    if not rows:
        if existing is not None:
            conn.execute(ms.delete().where(ms.c.id == existing["id"]))
        return
    said = [r.ts for r in rows.values() if r.kind == "message" and r.actor_id == identity_id]
    mine = [r for r in rows.values() if r.target_id == identity_id]
    join_ids = [r.id for r in mine if r.kind == "join"]
    exits = [r for r in mine if r.kind in _EXITS]
    values: dict[str, Any] = {
        "first_seen_at": min(r.ts for r in rows.values()),
        "last_seen_at": max(r.ts for r in rows.values()),
        "message_count": len(said),
        "first_message_at": min(said) if said else None,
        "first_joined_at": None,
        "last_joined_at": None,
        "join_method": "unknown",
        "invited_by_id": None,
        "channel_code": None,
        "invite_link": None,
        "last_left_at": None,
        "left_how": None,
    }
    if join_ids:
        values.update(_first_join(conn, join_ids, rows))
    if exits:
        last = max(exits, key=lambda r: (r.ts, r.id))
        values["last_left_at"], values["left_how"] = last.ts, last.kind
    if existing is not None:
        conn.execute(ms.update().where(ms.c.id == existing["id"]).values(**values))
        return
    person = conn.execute(
        select(identities.c.person_id).where(identities.c.id == identity_id)
    ).scalar_one()
    conn.execute(
        ms.insert().values(group_id=group_id, identity_id=identity_id, person_id=person, **values)
    )


def _first_join(conn: Connection, join_ids: list[int], rows: Mapping[int, Any]) -> dict[str, Any]:
    e = events.c
    payloads = dict(conn.execute(select(e.id, e.payload).where(e.id.in_(join_ids))).all())
    joins = []
    for jid in join_ids:
        p = payloads.get(jid) or {}
        joins.append((rows[jid].ts, str(p.get("method") or "unknown"), jid, p))
    ts, method, jid, p = min(joins, key=lambda j: j[:3])
    r = rows[jid]
    return {
        "first_joined_at": ts,
        "last_joined_at": max(j[0] for j in joins),
        "join_method": method,
        "invited_by_id": r.actor_id if r.actor_id != r.target_id else None,
        "channel_code": p.get("channel_code"),
        "invite_link": p.get("invite_link"),
    }


# --------------------------------------------------------------------------- reading


def listing(
    conn: Connection, actor: Actor, *, group_ids: Sequence[int] | None = None
) -> list[dict[str, Any]]:
    """Links (active and undone) of the groups the actor sees, newest first."""
    lk = identity_links.c
    where = []
    if group_ids is not None:
        for g in group_ids:
            actor.require_group(g)
        where.append(lk.group_id.in_(list(group_ids)))
    elif not actor.sees_all_groups:
        where.append(lk.group_id.in_(sorted(actor.group_ids) or [-1]))
    return _listing(conn, where)


def _listing(conn: Connection, where: list[Any]) -> list[dict[str, Any]]:
    lk, g = identity_links.c, groups.c
    alias, speaker = identities.alias("alias"), identities.alias("speaker")
    q = (
        select(
            identity_links,
            g.title,
            g.external_id.label("group_external_id"),
            alias.c.external_id.label("alias_external_id"),
            speaker.c.external_id.label("speaker_external_id"),
            speaker.c.display_name.label("speaker_name"),
        )
        .join(groups, g.id == lk.group_id)
        .join(alias, alias.c.id == lk.alias_id)
        .join(speaker, speaker.c.id == lk.identity_id)
        .where(*where)
        .order_by(lk.id.desc())
    )
    return [
        {
            "id": r.id,
            "status": "undone" if r.undone_at is not None else "active",
            "group": {"id": r.group_id, "title": r.title or r.group_external_id},
            "alias": {"id": r.alias_id, "external_id": r.alias_external_id},
            "identity": {
                "id": r.identity_id,
                "external_id": r.speaker_external_id,
                "name": r.speaker_name,
            },
            "name": r.name,
            "joined_at": r.joined_at.isoformat(),
            "first_message_at": r.first_message_at.isoformat(),
            "reason_code": r.reason_code,
            "reason": r.reason,
            "created_at": r.created_at.isoformat(),
            "undone_at": r.undone_at.isoformat() if r.undone_at is not None else None,
        }
        for r in conn.execute(q)
    ]


def linked_aliases(conn: Connection, identity_ids: Sequence[int]) -> dict[int, list[int]]:
    """Group -> aliases actively linked to one of ``identity_ids`` there (timelines)."""
    lk = identity_links.c
    out: dict[int, list[int]] = defaultdict(list)
    if not identity_ids:
        return out
    q = select(lk.group_id, lk.alias_id).where(
        lk.identity_id.in_(list(identity_ids)), lk.undone_at.is_(None)
    )
    for g, a in conn.execute(q):
        out[int(g)].append(int(a))
    return out
