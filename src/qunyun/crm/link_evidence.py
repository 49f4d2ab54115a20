"""The evidence that a name-only identity and a speaker are one newcomer.

QQ's text export writes a join as ``昵称加入本群`` (no QQ number) and the newcomer's
messages as ``昵称(12345)``; WeChat's plain-text notices name members by display name
while their messages carry a wxid. Importers mark such joins (``target_by_name`` in
the payload). :func:`find` proposes a link from the name-only *alias* to the
*speaker* only when the evidence is unambiguous (docs/importers/qq.md, "identity
links"):

* the alias joined the group exactly once, by a notice that named it by name, and
  has no message anywhere;
* exactly one identity with a real id (an external id other than the name) that is
  a member of the group ever showed that name (``identity_names``);
* that identity has no join of its own in the group, was first seen there at or after
  the join, and wrote its first message there within :data:`WINDOW_DAYS` of it;
* no other alias of the group claims the same speaker, now or by an earlier link.

Anything else is left alone; the ambiguous cases are returned to be counted. Only
stored rows are read (memberships, identity_names, the aliases' join events), never
the messages.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from qunyun.store.schema import events, identities, identity_links, identity_names
from qunyun.store.schema import memberships as ms

#: how long after the join the speaker's first message may come: a newcomer who
#: lurks longer is not told apart from an old member who renamed themself
WINDOW_DAYS = 30
_CHUNK = 500


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
    q = (
        select(m.group_id, m.identity_id, i.external_id, m.first_joined_at)
        .join(identities, i.id == m.identity_id)
        .where(
            m.message_count == 0,
            m.first_joined_at.is_not(None),
            i.external_id == i.display_name,
            i.is_bot.is_(False),
        )
    )
    if group_ids is not None:
        q = q.where(m.group_id.in_(list(group_ids)))
    found = [
        (int(g), int(a), str(n), t)
        for g, a, n, t in conn.execute(q.order_by(m.group_id, m.identity_id))
    ]
    ids = sorted({a for _g, a, _n, _t in found})
    spoke: set[int] = set()
    for start in range(0, len(ids), _CHUNK):  # the few candidates, by the identity index
        q = select(m.identity_id).where(
            m.identity_id.in_(ids[start : start + _CHUNK]), m.message_count > 0
        )
        spoke.update(int(a) for a in conn.execute(q).scalars())
    return [x for x in found if x[1] not in spoke]


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
