"""Small builders of events, so tests state only what matters to them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from qunyun.events import Event, GroupRef, IdentityRef, JoinMethod, Kind

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def group(gid: str = "g1", platform: str = "telegram", title: str | None = None) -> GroupRef:
    return GroupRef(platform, gid, title or f"Group {gid}")


def person(uid: str, platform: str = "telegram", name: str | None = None) -> IdentityRef:
    return IdentityRef(platform, uid, name or f"user {uid}")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def message(
    eid: str,
    who: IdentityRef,
    minutes: float = 0,
    text: str = "hi",
    g: GroupRef | None = None,
    **payload: Any,
) -> Event:
    g = g or group(platform=who.platform)
    return Event(
        "test",
        eid,
        Kind.MESSAGE,
        at(minutes),
        g,
        who,
        None,
        {"text": text, "type": "text", **payload},
    )


def join(
    eid: str,
    who: IdentityRef,
    minutes: float = 0,
    by: IdentityRef | None = None,
    method: JoinMethod = JoinMethod.UNKNOWN,
    g: GroupRef | None = None,
    **payload: Any,
) -> Event:
    g = g or group(platform=who.platform)
    return Event(
        "test", eid, Kind.JOIN, at(minutes), g, by or who, who, {"method": method.value, **payload}
    )


def leave(
    eid: str,
    who: IdentityRef,
    minutes: float = 0,
    by: IdentityRef | None = None,
    g: GroupRef | None = None,
) -> Event:
    g = g or group(platform=who.platform)
    kind = Kind.KICK if by is not None and by != who else Kind.LEAVE
    return Event("test", eid, kind, at(minutes), g, by or who, who, {})
