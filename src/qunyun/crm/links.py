"""Identity links: a newcomer's join, named by nickname only, linked to their messages.

The event log is never rewritten. A link is a record (``identity_links``) with its
evidence (qunyun.crm.link_evidence); making it folds the alias's membership row into
the speaker's (the speaker gains the join: time, method, inviter) and removes the
alias's row, so members and joins are counted once; rollups count join *events* and
are unaffected. Undoing rebuilds both rows from the log and keeps the record, marked
undone, so the linker never makes that link again. A later import that writes events
of a linked alias re-creates its row; the linker runs after every import
(:func:`after_import`) and folds it in again, so re-importing or importing more
history keeps the linked result.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, and_, select

from qunyun import clock
from qunyun.accounts import audit
from qunyun.accounts.roles import Actor, Role
from qunyun.crm.link_evidence import Ambiguity, Proposal, find
from qunyun.crm.membership_rows import fold, rebuild_membership
from qunyun.errors import Conflict, NotFound
from qunyun.store.schema import groups, identities, identity_links
from qunyun.store.schema import memberships as ms

REASON_CODE = "same_name_spoke_after_join"
#: who makes the links found at the end of an import (the audit log names it)
LINKER = Actor(user_id=None, name="linker", role=Role.owner, via="cli")


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
            _insert_new(conn)
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
        ).scalar()
        if lid is None:
            continue  # another import's linker decided this alias a moment ago
        fold(conn, p.group_id, p.alias_id, p.identity_id)
        audit.record(conn, actor, "identity.link", f"link:{lid}", _detail(p, lid, reason))
        run.linked.append(int(lid))
    return run


def _insert_new(conn: Connection) -> Any:
    """INSERT … ON CONFLICT (group, alias) DO NOTHING: two imports may link at once."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(identity_links).on_conflict_do_nothing(
            index_elements=["group_id", "alias_id"]
        )
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(identity_links).on_conflict_do_nothing(
        index_elements=["group_id", "alias_id"]
    )


def after_import(engine: Engine, group_ids: Sequence[int] | None = None) -> dict[str, Any]:
    """The linker's run at the end of an import, in its own transaction.

    ``group_ids``: the groups the import wrote to (the evidence elsewhere did not
    change), so a small import into a large store reads little.
    """
    with engine.begin() as conn:
        return do_relink(conn, LINKER, group_ids).as_dict()


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
        n += fold(conn, g, a, s)
    return n


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
