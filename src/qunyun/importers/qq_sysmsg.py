"""Reading QQ group notices (sender 系统消息(10000) / (1000000)) into member events.

The text export keeps only the notice's words, e.g. ``张三(10001)加入本群。``,
``李四 退出了本群``, ``王五被管理员移出本群``, ``赵六邀请钱七、孙八加入了本群``.
Names may carry the QQ number in parentheses; it is used as the member id when
present, otherwise the name as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from qunyun.events import Event, GroupRef, IdentityRef, JoinMethod, Kind

PLATFORM = "qq"
_END = r"\s*[。.!！]?\s*$"
_NAMES_SPLIT = re.compile(r"[、,，]\s*")
_WHO_RE = re.compile(r"^(?P<name>.*?)\s*[\(（](?P<qq>\d{4,12})[\)）]$")

# (regex, kind, method); groups: a = actor, t = target(s), n = new name.
_RULES: list[tuple[re.Pattern[str], Kind, JoinMethod | None]] = [
    (
        re.compile(r"^(?P<a>.+?)\s*邀请\s*(?P<t>.+?)\s*加入(?:了)?本群" + _END),
        Kind.JOIN,
        JoinMethod.INVITED_BY,
    ),
    (
        re.compile(r"^(?P<t>.+?)\s*(?:已经|已)?加入(?:了)?本群" + _END),
        Kind.JOIN,
        JoinMethod.UNKNOWN,
    ),
    (re.compile(r"^(?P<t>.+?)\s*(?:已经|已)?退出(?:了)?本群" + _END), Kind.LEAVE, None),
    (
        re.compile(r"^(?P<t>.+?)\s*被\s*(?:管理员|群主)\s*(?P<a>\S.*?)?\s*移出(?:了)?本群" + _END),
        Kind.KICK,
        None,
    ),
    (re.compile(r"^(?P<t>.+?)\s*被\s*(?P<a>.+?)\s*移出(?:了)?本群" + _END), Kind.KICK, None),
    (re.compile(r"^(?P<a>.+?)\s*撤回了一条(?:成员)?消息"), Kind.DELETE, None),
    (
        re.compile(r"^(?P<a>.+?)\s*(?:修改|更改)了?群名称?为\s*[“\"「]?(?P<n>.+?)[”\"」]?" + _END),
        Kind.TITLE_CHANGE,
        None,
    ),
]


def person(text: str) -> IdentityRef:
    """A member named in a notice: ``昵称(QQ号)`` or just ``昵称``."""
    text = text.strip().strip('"“”「」')
    m = _WHO_RE.match(text)
    if m:
        return IdentityRef(PLATFORM, m["qq"], m["name"] or None)
    return IdentityRef(PLATFORM, text, text)


def parse_qq_system(text: str, eid: str, ts: datetime, group: GroupRef) -> Iterator[Event]:
    """The events one notice stands for; a SERVICE event when it is not a member change."""
    first = text.splitlines()[0].strip() if text else ""
    for rx, kind, method in _RULES:
        m = rx.match(first)
        if m:
            yield from _events(m, kind, method, text, eid, ts, group)
            return
    yield Event(
        PLATFORM,
        eid,
        Kind.SERVICE,
        ts,
        group,
        None,
        None,
        {"text": text, "service": "系统消息"} if text else {"service": "系统消息"},
    )


def _events(
    m: re.Match[str],
    kind: Kind,
    method: JoinMethod | None,
    text: str,
    eid: str,
    ts: datetime,
    group: GroupRef,
) -> Iterator[Event]:
    groups = m.groupdict()
    actor = person(groups["a"]) if groups.get("a") else None
    payload: dict[str, Any] = {"text": text, "service": "系统消息"}
    if kind in (Kind.DELETE, Kind.TITLE_CHANGE):
        if groups.get("n"):
            payload["title"] = groups["n"]
        yield Event(PLATFORM, eid, kind, ts, group, actor, None, payload)
        return
    targets = [person(t) for t in _NAMES_SPLIT.split(groups["t"]) if t.strip()]
    if method is not None:
        payload["method"] = method.value
    if kind is Kind.KICK and "管理员" in text and actor is None:
        payload["extra"] = {"by": "管理员"}
    many = len(targets) > 1
    for n, target in enumerate(targets, start=1):
        who = actor if actor is not None or kind is Kind.KICK else target
        yield Event(
            PLATFORM, f"{eid}:{n}" if many else eid, kind, ts, group, who, target, dict(payload)
        )
