"""Reading QQ group notices (sender 系统消息(10000) / (1000000)) into member events.

The text export keeps only the notice's words, e.g. ``张三(10001)加入本群。``,
``李四 退出了本群``, ``王五被管理员移出本群``, ``赵六邀请钱七、孙八加入了本群``.
Names may carry the QQ number in parentheses; it is used as the member id when
present, otherwise the name as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from qunyun.events import Event, GroupRef, IdentityRef, JoinMethod, Kind

PLATFORM = "qq"
_END = r"\s*[。.!！]?\s*$"
_GRP = r"(?:本群|群聊|该群)"
_NAMES_SPLIT = re.compile(r"[、,，]\s*")
_WHO_RE = re.compile(r"^(?P<name>.*?)\s*[\(（](?P<qq>\d{4,12})[\)）]$")
_ADMIN = frozenset({"管理员", "群主"})
_DURATION = r"(?P<d>(?:\d+\s*(?:天|小时|时|分钟|分|秒)\s*)+)"

# (regex, kind, method); groups: a = actor, t = target(s), n = new name, d = mute length.
_RULES: list[tuple[re.Pattern[str], Kind, JoinMethod | None]] = [
    (
        re.compile(rf"^(?P<t>.+?)\s*通过扫描\s*(?P<a>.+?)\s*分享的二维码加入(?:了)?{_GRP}" + _END),
        Kind.JOIN,
        JoinMethod.QR_CODE,
    ),
    (
        re.compile(rf"^(?P<a>.+?)\s*邀请\s*(?P<t>.+?)\s*加入(?:了)?{_GRP}" + _END),
        Kind.JOIN,
        JoinMethod.INVITED_BY,
    ),
    (
        re.compile(rf"^(?P<t>.+?)\s*(?:已经|已)?加入(?:了)?{_GRP}" + _END),
        Kind.JOIN,
        JoinMethod.UNKNOWN,
    ),
    (re.compile(rf"^(?P<t>.+?)\s*(?:已经|已)?退出(?:了)?{_GRP}" + _END), Kind.LEAVE, None),
    (
        re.compile(rf"^(?P<t>.+?)\s*(?:已)?被\s*(?P<a>.+?)?\s*移出(?:了)?{_GRP}" + _END),
        Kind.KICK,
        None,
    ),
    (re.compile(r"^(?P<t>.+?)\s*被\s*(?P<a>.+?)\s*禁言\s*" + _DURATION + _END), Kind.MUTE, None),
    (re.compile(r"^(?P<a>.+?)\s*禁言了\s*(?P<t>.+?)\s*" + _DURATION + _END), Kind.MUTE, None),
    (
        re.compile(r"^(?P<a>.+?)\s*撤回了(?:一条)?成员\s*(?P<t>.+?)\s*的(?:一条)?消息"),
        Kind.DELETE,
        None,
    ),
    (re.compile(r"^(?P<a>.+?)\s*撤回了一条(?:成员)?消息"), Kind.DELETE, None),
    (
        re.compile(r"^(?P<a>.+?)\s*(?:修改|更改)了?群名称?为\s*[“\"「]?(?P<n>.+?)[”\"」]?" + _END),
        Kind.TITLE_CHANGE,
        None,
    ),
]

# Notices that change no membership: (regex, service). Group t is the member concerned.
_SERVICES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(?P<t>.+?)\s*被\s*(?P<a>.+?)?\s*解除(?:了)?禁言"), "unmute"),
    (re.compile(r"^(?P<a>.+?)\s*解除了\s*(?P<t>.+?)\s*的禁言"), "unmute"),
    (re.compile(r"(?:开启|开启了|打开了)全(?:员|体)禁言"), "mute_all"),
    (re.compile(r"(?:关闭|关闭了|解除了)全(?:员|体)禁言"), "unmute_all"),
]

_UNIT_SECONDS = {"天": 86400, "小时": 3600, "时": 3600, "分钟": 60, "分": 60, "秒": 1}


def _duration(text: str) -> timedelta:
    secs = sum(
        int(n) * _UNIT_SECONDS[u] for n, u in re.findall(r"(\d+)\s*(天|小时|时|分钟|分|秒)", text)
    )
    return timedelta(seconds=secs)


def person(text: str) -> IdentityRef:
    """A member named in a notice: ``昵称(QQ号)`` or just ``昵称``."""
    return _named(text)[0]


def _named(text: str) -> tuple[IdentityRef, bool]:
    """:func:`person`, and whether the notice named them by display name alone.

    Such an identity is keyed by the name (there is nothing else), so it is not the
    account that writes the member's messages (``昵称(QQ号)``); join events mark it with
    ``target_by_name`` for :mod:`qunyun.crm.links` to link the two.
    """
    text = text.strip().strip('"“”「」')
    m = _WHO_RE.match(text)
    if m:
        return IdentityRef(PLATFORM, m["qq"], m["name"] or None), False
    return IdentityRef(PLATFORM, text, text), True


def parse_qq_system(text: str, eid: str, ts: datetime, group: GroupRef) -> Iterator[Event]:
    """The events one notice stands for; a SERVICE event when it is not a member change."""
    first = text.splitlines()[0].strip() if text else ""
    for rx, kind, method in _RULES:
        m = rx.match(first)
        if m:
            yield from _events(m, kind, method, text, eid, ts, group)
            return
    payload: dict[str, Any] = (
        {"text": text, "service": "系统消息"} if text else {"service": "系统消息"}
    )
    actor = target = None
    for rx, service in _SERVICES:
        m = rx.search(first)
        if m:
            payload["service"] = service
            groups = m.groupdict()
            actor = _actor(groups.get("a"), payload)
            target = person(groups["t"]) if groups.get("t") else None
            break
    yield Event(PLATFORM, eid, Kind.SERVICE, ts, group, actor, target, payload)


def _actor(name: str | None, payload: dict[str, Any]) -> IdentityRef | None:
    """The member who acted; "管理员"/"群主" name a role, not a member (kept in ``extra.by``)."""
    if not name or not name.strip():
        return None
    if name.strip() in _ADMIN:
        payload["extra"] = {"by": name.strip()}
        return None
    return person(name)


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
    payload: dict[str, Any] = {"text": text, "service": "系统消息"}
    actor = _actor(groups.get("a"), payload)
    if kind in (Kind.DELETE, Kind.TITLE_CHANGE):
        if groups.get("n"):
            payload["title"] = groups["n"]
        target = person(groups["t"]) if groups.get("t") else None
        yield Event(PLATFORM, eid, kind, ts, group, actor, target, payload)
        return
    if kind is Kind.MUTE and groups.get("d"):
        payload["until"] = (ts + _duration(groups["d"])).isoformat()
    targets = [_named(t) for t in _NAMES_SPLIT.split(groups["t"]) if t.strip()]
    if method is not None:
        payload["method"] = method.value
    many = len(targets) > 1
    for n, (target, by_name) in enumerate(targets, start=1):
        who = actor if actor is not None or kind in (Kind.KICK, Kind.MUTE) else target
        p = dict(payload)
        if by_name:
            p["target_by_name"] = True
        yield Event(PLATFORM, f"{eid}:{n}" if many else eid, kind, ts, group, who, target, p)
