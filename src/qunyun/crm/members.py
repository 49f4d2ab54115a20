"""Members as the console lists them: persons with their accounts and group memberships.

A member is a *person* (one human, possibly several platform accounts). What a
caller may see is cut to their groups: an operator sees a person only through a
membership in one of their groups, and only those memberships and events.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, func, literal, or_, select, union_all

from qunyun.accounts.roles import Actor
from qunyun.crm import links
from qunyun.errors import NotFound, UserError
from qunyun.store.queries import is_member
from qunyun.store.schema import events, groups, identities, identity_names, memberships, persons

SORTS = ("recent", "messages", "name", "newest")


def _iso(v: Any) -> str | None:
    return v.isoformat() if v is not None else None


def listing(
    conn: Connection,
    actor: Actor,
    *,
    q: str | None = None,
    group_id: int | None = None,
    platform: str | None = None,
    current: bool | None = None,
    sort: str = "recent",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """A page of members, newest activity first by default, and the total."""
    if sort not in SORTS:
        raise UserError(
            f"sort must be one of {', '.join(SORTS)}", zh=f"排序须为 {', '.join(SORTS)} 之一"
        )
    m, i = memberships.c, identities.c
    where = []
    if group_id is not None:
        actor.require_group(group_id)
        where.append(m.group_id == group_id)
    elif not actor.sees_all_groups:
        where.append(m.group_id.in_(sorted(actor.group_ids) or [-1]))
    if current is True:
        where.append(is_member())
    elif current is False:
        where.append(~is_member())
    if platform:
        where.append(i.platform == platform)
    if q:
        like = f"%{q.strip()}%"
        where.append(or_(i.display_name.ilike(like), i.external_id.ilike(like)))
    agg = (
        select(
            m.person_id.label("person_id"),
            func.count(func.distinct(m.group_id)).label("groups"),
            func.sum(m.message_count).label("messages"),
            func.min(m.first_seen_at).label("first_seen"),
            func.max(m.last_seen_at).label("last_seen"),
        )
        .join(identities, i.id == m.identity_id)
        .where(i.is_bot.is_(False), *where)
        .group_by(m.person_id)
        .subquery()
    )
    total = int(conn.execute(select(func.count()).select_from(agg)).scalar_one())
    name = persons.c.display_name
    order = {
        "recent": (agg.c.last_seen.desc(), agg.c.person_id.desc()),
        "messages": (agg.c.messages.desc(), agg.c.person_id.desc()),
        "name": (name.asc(), agg.c.person_id.asc()),
        "newest": (agg.c.first_seen.desc(), agg.c.person_id.desc()),
    }[sort]
    rows = conn.execute(
        select(agg, name.label("name"))
        .join(persons, persons.c.id == agg.c.person_id)
        .order_by(*order)
        .limit(limit)
        .offset(offset)
    ).all()
    accounts = _accounts(conn, [r.person_id for r in rows])
    items = [
        {
            "id": r.person_id,
            "name": r.name or _first_name(accounts.get(r.person_id, [])),
            "identities": accounts.get(r.person_id, []),
            "groups": int(r.groups),
            "messages": int(r.messages or 0),
            "first_seen": _iso(r.first_seen),
            "last_seen": _iso(r.last_seen),
        }
        for r in rows
    ]
    return items, total


def _first_name(accounts: list[dict[str, Any]]) -> str | None:
    return next((a["name"] for a in accounts if a["name"]), None)


def _accounts(conn: Connection, person_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    if not person_ids:
        return out
    i = identities.c
    q = select(i.id, i.person_id, i.platform, i.external_id, i.display_name, i.is_bot).where(
        i.person_id.in_(person_ids)
    )
    for r in conn.execute(q.order_by(i.id)):
        out.setdefault(r.person_id, []).append(
            {
                "id": r.id,
                "platform": r.platform,
                "external_id": r.external_id,
                "name": r.display_name,
                "is_bot": bool(r.is_bot),
            }
        )
    return out


def detail(conn: Connection, actor: Actor, person_id: int) -> dict[str, Any]:
    """One member: accounts, names they used, and their memberships the caller may see."""
    person = conn.execute(select(persons).where(persons.c.id == person_id)).first()
    if person is None:
        raise NotFound(f"no member {person_id}", zh=f"没有成员 {person_id}")
    accounts = _accounts(conn, [person_id]).get(person_id, [])
    ids = [a["id"] for a in accounts]
    m, g = memberships.c, groups.c
    inviter = identities.alias("inviter")
    q = (
        select(
            m.group_id,
            g.title,
            g.platform,
            g.external_id,
            m.identity_id,
            m.first_joined_at,
            m.last_joined_at,
            m.last_left_at,
            m.left_how,
            m.join_method,
            m.channel_code,
            m.invite_link,
            inviter.c.display_name.label("invited_by"),
            m.first_seen_at,
            m.last_seen_at,
            m.message_count,
            is_member().label("current"),
        )
        .join(groups, g.id == m.group_id)
        .outerjoin(inviter, inviter.c.id == m.invited_by_id)
        .where(m.person_id == person_id)
        .order_by(m.last_seen_at.desc())
    )
    rows = [r for r in conn.execute(q) if actor.can_see(r.group_id)]
    if not rows:
        raise NotFound(f"no member {person_id}", zh=f"没有成员 {person_id}")
    names = conn.execute(
        select(identity_names.c.identity_id, identity_names.c.name, identity_names.c.last_seen_at)
        .where(identity_names.c.identity_id.in_(ids))
        .order_by(identity_names.c.last_seen_at.desc())
    ).all()
    return {
        "id": person_id,
        "name": person.display_name or _first_name(accounts),
        "identities": accounts,
        "names": [{"identity_id": n.identity_id, "name": n.name} for n in names],
        "memberships": [
            {
                "group": {
                    "id": r.group_id,
                    "title": r.title or r.external_id,
                    "platform": r.platform,
                },
                "identity_id": r.identity_id,
                "current": bool(r.current),
                "joined_at": _iso(r.first_joined_at),
                "last_joined_at": _iso(r.last_joined_at),
                "left_at": _iso(r.last_left_at),
                "left_how": r.left_how,
                "join_method": r.join_method,
                "channel_code": r.channel_code,
                "invite_link": r.invite_link,
                "invited_by": r.invited_by,
                "first_seen": _iso(r.first_seen_at),
                "last_seen": _iso(r.last_seen_at),
                "messages": int(r.message_count),
            }
            for r in rows
        ],
    }


def timeline(
    conn: Connection, actor: Actor, person_id: int, *, limit: int = 50, offset: int = 0
) -> list[dict[str, Any]]:
    """The member's events (what they said and did, and what was done to them), newest first."""
    member = detail(conn, actor, person_id)
    ids = [a["id"] for a in member["identities"]]
    visible = [x["group"]["id"] for x in member["memberships"]]
    e = events.c
    titles = {x["group"]["id"]: x["group"]["title"] for x in member["memberships"]}

    def part(where: Any, role: str) -> Any:
        return select(
            e.id,
            e.ts,
            e.kind,
            e.group_id,
            e.actor_id,
            e.target_id,
            e.payload,
            literal(role).label("role"),
        ).where(where)

    mine = e.group_id.in_(visible)
    parts = [part(and_(e.actor_id.in_(ids), mine), "actor")]
    parts.append(part(and_(e.target_id.in_(ids), mine), "target"))
    # a join linked to this member (crm.links) was written for the name-only alias
    aliased = [
        and_(e.group_id == g, or_(e.actor_id.in_(a), e.target_id.in_(a)))
        for g, a in links.linked_aliases(conn, ids).items()
        if g in visible
    ]
    if aliased:
        parts.append(part(or_(*aliased), "target"))
    both = union_all(*parts).subquery()
    rows = conn.execute(
        select(both).order_by(both.c.ts.desc(), both.c.id.desc()).limit(limit).offset(offset)
    ).all()
    out = []
    seen: set[int] = set()
    for r in rows:
        if r.id in seen:  # a self-join names the member as actor and target
            continue
        seen.add(r.id)
        p = r.payload or {}
        out.append(
            {
                "id": r.id,
                "ts": _iso(r.ts),
                "kind": r.kind,
                "group": {"id": r.group_id, "title": titles.get(r.group_id)},
                "role": r.role,
                # the member did this to someone else (added, removed, banned them)
                "to_other": r.role == "actor"
                and r.target_id is not None
                and r.target_id not in ids,
                "text": p.get("text"),
                "type": p.get("type"),
            }
        )
    return out
