"""Reading WeChat system notices (消息类型 10000 / 10002) into member actions.

WeChat writes group changes as one line of Chinese text, with display names in
straight double quotes: ``"张三"邀请"李四、王五"加入了群聊``. Newer clients store
the same notice as ``<sysmsg type="sysmsgtemplate">`` XML whose links carry the
members' wxids; recalls come as ``<revokemsg>`` text or ``<sysmsg
type="revokemsg">``. This module turns any of these into a :class:`SysAction`
so the importer never deals with notice wording itself.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from qunyun.events import JoinMethod, Kind

SELF = "你"  # how notices name the exporting account


@dataclass(frozen=True)
class Person:
    """Someone a notice names: display name, and wxid when the XML gives it."""

    name: str
    wxid: str | None = None

    @property
    def is_self(self) -> bool:
        return self.name in (SELF, "我") and self.wxid is None


@dataclass(frozen=True)
class SysAction:
    kind: Kind
    text: str
    actor: Person | None = None
    targets: tuple[Person, ...] = ()
    method: JoinMethod | None = None
    title: str | None = None
    service: str | None = None


@dataclass
class _Names:
    """Display name -> wxid, from the links of a sysmsgtemplate."""

    by_name: dict[str, str] = field(default_factory=dict)

    def person(self, name: str) -> Person:
        name = name.strip().strip('"“”')
        return Person(name, self.by_name.get(name))

    def people(self, names: str) -> tuple[Person, ...]:
        return tuple(self.person(n) for n in re.split(r"[、,，]", names) if n.strip(' "“”'))


_Q = r'["“]'
_EQ = r'["”]'
_NAME = r"(?P<{}>[^\"“”]+)"


def _re(pattern: str) -> re.Pattern[str]:
    out = pattern.replace("Q", _Q).replace("E", _EQ)
    for g in ("a", "t", "n"):
        out = out.replace(f"<{g}>", _NAME.format(g), 1) if f"<{g}>" in out else out
    return re.compile(out)


_ME_ACTS = "actor"  # the exporting account did it
_ME_UNDERGOES = "target"  # it happened to the exporting account

# (regex, kind, join method, role of "你"); named groups: a = actor, t = target(s),
# n = new title. More specific wordings come before the general ones.
_RULES: list[tuple[re.Pattern[str], Kind, JoinMethod | None, str | None]] = [
    (_re(r"^你邀请Q<t>E加入了群聊"), Kind.JOIN, JoinMethod.INVITED_BY, _ME_ACTS),
    (_re(r"^Q<a>E邀请你和Q<t>E加入了群聊"), Kind.JOIN, JoinMethod.INVITED_BY, _ME_UNDERGOES),
    (_re(r"^Q<a>E邀请你加入了群聊"), Kind.JOIN, JoinMethod.INVITED_BY, _ME_UNDERGOES),
    (_re(r"^Q<a>E邀请Q<t>E加入了群聊"), Kind.JOIN, JoinMethod.INVITED_BY, None),
    (_re(r"^Q<t>E\s*通过扫描你分享的二维码加入群聊"), Kind.JOIN, JoinMethod.QR_CODE, _ME_ACTS),
    (_re(r"^你通过扫描Q<a>E分享的二维码加入群聊"), Kind.JOIN, JoinMethod.QR_CODE, _ME_UNDERGOES),
    (_re(r"^Q<t>E\s*通过扫描Q<a>E分享的二维码加入群聊"), Kind.JOIN, JoinMethod.QR_CODE, None),
    (_re(r"^Q<t>E\s*通过扫描二维码加入群聊"), Kind.JOIN, JoinMethod.QR_CODE, None),
    (re.compile(r"^你通过扫描二维码加入群聊"), Kind.JOIN, JoinMethod.QR_CODE, _ME_UNDERGOES),
    (_re(r"^Q<t>E\s*通过(?:邀请)?链接加入(?:了)?群聊"), Kind.JOIN, JoinMethod.INVITE_LINK, None),
    (_re(r"^Q<t>E加入了群聊"), Kind.JOIN, JoinMethod.UNKNOWN, None),
    (_re(r"^你将Q<t>E移出了群聊"), Kind.KICK, None, _ME_ACTS),
    (_re(r"^你被Q<a>E移出群聊"), Kind.KICK, None, _ME_UNDERGOES),
    (_re(r"^Q<a>E将Q<t>E移出了群聊"), Kind.KICK, None, None),
    (_re(r"^Q<t>E(?:已)?退出了群聊"), Kind.LEAVE, None, None),
    (re.compile(r"^你修改群名为[“\"](?P<n>.*)[”\"]\s*$"), Kind.TITLE_CHANGE, None, _ME_ACTS),
    (
        re.compile(r"^[\"“](?P<a>[^\"“”]+)[\"”]修改群名为[“\"](?P<n>.*)[”\"]\s*$"),
        Kind.TITLE_CHANGE,
        None,
        None,
    ),
    (re.compile(r"^你撤回了一条消息"), Kind.DELETE, None, _ME_ACTS),
    (re.compile(r"^[\"“]?(?P<a>[^\"“”]+?)[\"”]?\s*撤回了一条消息"), Kind.DELETE, None, None),
]


def parse_system(raw: str) -> SysAction:
    """What a system notice says happened; SERVICE when it is none of the known kinds."""
    names = _Names()
    text = _flatten(raw, names)
    for rx, kind, method, me in _RULES:
        m = rx.search(text)
        if m:
            return _action(m, kind, method, me, text, names)
    if "拍了拍" in text:
        return _pat(text, names)
    m = re.match(r"^[\"“]?(?P<t>[^\"“”]+?)[\"”]?与群里其他人都不是(?:微信)?朋友关系", text)
    if m:
        return SysAction(
            Kind.SERVICE, text, targets=(names.person(m["t"]),), service="not_friends_notice"
        )
    return SysAction(Kind.SERVICE, text)


_PAT_RE = re.compile(
    r"^(?:[\"“](?P<a>[^\"“”]+)[\"”]|(?P<me>我|你))\s*拍了拍\s*(?:[\"“](?P<t>[^\"“”]+)[\"”]|(?P<me2>我|你|自己))?"
)


def _pat(text: str, names: _Names) -> SysAction:
    """拍一拍 (a "nudge"): a SERVICE event from the nudger to the nudged."""
    m = _PAT_RE.match(text)
    actor = target = None
    if m:
        actor = names.person(m["a"]) if m["a"] else Person(SELF)
        if m["t"]:
            target = names.person(m["t"])
        elif m["me2"]:
            target = actor if m["me2"] == "自己" else Person(SELF)
    return SysAction(
        Kind.SERVICE, text, actor=actor, targets=(target,) if target else (), service="拍一拍"
    )


def _action(
    m: re.Match[str],
    kind: Kind,
    method: JoinMethod | None,
    me: str | None,
    text: str,
    names: _Names,
) -> SysAction:
    groups = m.groupdict()
    actor = names.person(groups["a"]) if groups.get("a") else None
    targets = names.people(groups["t"]) if groups.get("t") else ()
    if me == _ME_ACTS:
        actor = Person(SELF)
    elif me == _ME_UNDERGOES:
        targets = (Person(SELF), *targets)
    if actor is None and kind in (Kind.JOIN, Kind.LEAVE) and len(targets) == 1:
        actor = targets[0]  # joined or left by themself
    return SysAction(kind, text, actor=actor, targets=targets, method=method, title=groups.get("n"))


# ---------------------------------------------------------------- XML and markup

_TAG_RE = re.compile(r"<[^<>]+>")
_LINK_RE = re.compile(r"<a\b[^>]*>.*?</a>", re.S)


def _flatten(raw: str, names: _Names) -> str:
    """The notice as the WeChat window shows it, whatever markup it came in."""
    s = raw.strip()
    if "<sysmsg" in s:
        s = _from_sysmsg(s, names) or s
    s = s.replace("<![CDATA[", "").replace("]]>", "")
    s = _LINK_RE.sub("", s)
    s = _TAG_RE.sub("", s)
    return re.sub(r"\s+", " ", s).strip()


def _from_sysmsg(xml: str, names: _Names) -> str | None:
    try:
        root = ET.fromstring(xml[xml.index("<sysmsg") :])
    except (ET.ParseError, ValueError):
        return None
    if root.get("type") == "revokemsg":
        return root.findtext(".//replacemsg") or root.findtext(".//content") or ""
    template = root.findtext(".//template")
    if template is None:
        return root.findtext(".//plain") or None
    for link in root.iter("link"):
        members = [
            ((mem.findtext("username") or "").strip(), (mem.findtext("nickname") or "").strip())
            for mem in link.iter("member")
        ]
        sep = link.findtext("separator") or "、"
        for wxid, nick in members:
            if nick and wxid:
                names.by_name.setdefault(nick, wxid)
        shown = sep.join(nick or wxid for wxid, nick in members)
        template = template.replace(f"${link.get('name', '')}$", shown)
    return template
