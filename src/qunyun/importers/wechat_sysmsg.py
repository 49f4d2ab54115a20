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
        parts = re.split(r"[、,，]|\s+and\s+", names)
        return tuple(self.person(n) for n in parts if n.strip(' "“”'))


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

# English-UI names come quoted ("Bruce LEE") or bare (You invited 管理员 to the group chat.),
# lists joined by "、", ", " or " and ".
_EN_NAME = r"(?P<{}>.+?)"
_CHAT = r"(?:the |this |a )?group chat"


def _en(pattern: str) -> re.Pattern[str]:
    out = pattern.replace("CHAT", _CHAT)
    for g in ("a", "t", "n"):
        out = out.replace(f"<{g}>", _EN_NAME.format(g), 1) if f"<{g}>" in out else out
    return re.compile(out, re.I)


# (regex, kind, join method, role of "你"); named groups: a = actor, t = target(s),
# n = new title. More specific wordings come before the general ones. Wordings as the
# PC/mobile clients write them (Chinese UI, then English UI).
_Rule = tuple[re.Pattern[str], Kind, JoinMethod | None, str | None]
_RULES: list[_Rule] = [
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
    (re.compile(r"^你加入了群聊"), Kind.JOIN, JoinMethod.UNKNOWN, _ME_UNDERGOES),
    (_re(r"^Q<t>E加入了群聊"), Kind.JOIN, JoinMethod.UNKNOWN, None),
    (_re(r"^你将Q<t>E移出了群聊"), Kind.KICK, None, _ME_ACTS),
    (_re(r"^你被Q<a>E移出群聊"), Kind.KICK, None, _ME_UNDERGOES),
    (_re(r"^Q<a>E将Q<t>E移出了群聊"), Kind.KICK, None, None),
    (_re(r"^Q<t>E(?:已)?退出了群聊"), Kind.LEAVE, None, None),
    (re.compile(r"^你修改群名为[“\"](?P<n>.*)[”\"]\s*$"), Kind.TITLE_CHANGE, None, _ME_ACTS),
    (
        re.compile(r"^[\"“](?P<a>[^\"“”]+)[\"”]\s*修改群名为[“\"](?P<n>.*)[”\"]\s*$"),
        Kind.TITLE_CHANGE,
        None,
        None,
    ),
    (re.compile(r"^你撤回了一[条條則]\s*(?:消息|訊息)"), Kind.DELETE, None, _ME_ACTS),
    (
        re.compile(r"^[\"“]?(?P<a>[^\"“”]+?)[\"”]?\s*(?:撤回|收回)了一[条條則]\s*(?:消息|訊息)"),
        Kind.DELETE,
        None,
        None,
    ),
    # English UI
    (_en(r"^You invited <t> to (?:join )?CHAT"), Kind.JOIN, JoinMethod.INVITED_BY, _ME_ACTS),
    (_en(r"^<a> invited you and <t> to CHAT"), Kind.JOIN, JoinMethod.INVITED_BY, _ME_UNDERGOES),
    (_en(r"^<a> invited you to (?:join )?CHAT"), Kind.JOIN, JoinMethod.INVITED_BY, _ME_UNDERGOES),
    (_en(r"^<a> invited <t> to (?:join )?CHAT"), Kind.JOIN, JoinMethod.INVITED_BY, None),
    (
        _en(r"^<t> joined (?:the )?group chat via (?:the QR code you shared|your shared QR code)"),
        Kind.JOIN,
        JoinMethod.QR_CODE,
        _ME_ACTS,
    ),
    (
        _en(r"^<t> joined (?:the )?group chat via (?:the )?QR code shared by <a>\.?\s*$"),
        Kind.JOIN,
        JoinMethod.QR_CODE,
        None,
    ),
    (
        _en(r"^You(?:'ve| have)? joined (?:the |this )?group chat via (?:the )?QR code"),
        Kind.JOIN,
        JoinMethod.QR_CODE,
        _ME_UNDERGOES,
    ),
    (
        _en(r"^<t> joined (?:the )?group chat via (?:the )?QR code"),
        Kind.JOIN,
        JoinMethod.QR_CODE,
        None,
    ),
    (_en(r"^You(?:'ve| have)? joined CHAT"), Kind.JOIN, JoinMethod.UNKNOWN, _ME_UNDERGOES),
    (_en(r"^<t> joined CHAT\.?\s*$"), Kind.JOIN, JoinMethod.UNKNOWN, None),
    (_en(r"^You removed <t> from CHAT"), Kind.KICK, None, _ME_ACTS),
    (_en(r"^You were removed from CHAT by <a>\.?\s*$"), Kind.KICK, None, _ME_UNDERGOES),
    (_en(r"^<a> removed <t> from CHAT"), Kind.KICK, None, None),
    (_en(r"^<t> (?:has )?left CHAT"), Kind.LEAVE, None, None),
    (_en(r"^You changed the group name to <n>\s*$"), Kind.TITLE_CHANGE, None, _ME_ACTS),
    (_en(r"^<a> changed the group name to <n>\s*$"), Kind.TITLE_CHANGE, None, None),
    (_en(r"^You(?: have|'ve)? recalled a message"), Kind.DELETE, None, _ME_ACTS),
    (_en(r"^<a> (?:has )?recalled a message"), Kind.DELETE, None, None),
]

# Notices that change no membership but are worth a name: (regex, service, role of "你").
_SERVICES: list[tuple[re.Pattern[str], str, str | None]] = [
    (
        re.compile(r"^[\"“]?(?P<t>[^\"“”]+?)[\"”]?与群里其他人都不是(?:微信)?朋友关系"),
        "not_friends_notice",
        None,
    ),
    (
        _en(r"^<t> (?:is|are) not .{0,40}?with anyone else in this group chat"),
        "not_friends_notice",
        None,
    ),
    (re.compile(r"群聊邀请确认"), "invite_confirmation", None),
    (re.compile(r"^你已成为新群主"), "owner_changed", _ME_UNDERGOES),
    (_re(r"^Q<t>E\s*已成为新群主"), "owner_changed", None),
    (_en(r"^You(?:'ve| have)? become the new (?:group )?owner"), "owner_changed", _ME_UNDERGOES),
    (_en(r"^<t> (?:has )?become the new (?:group )?owner"), "owner_changed", None),
]


def parse_system(raw: str) -> SysAction:
    """What a system notice says happened; SERVICE when it is none of the known kinds."""
    names = _Names()
    text = _flatten(raw, names)
    for rx, kind, method, me in _RULES:
        m = rx.search(text)
        if m:
            return _action(m, kind, method, me, text, names)
    if "拍了拍" in text or re.search(r"\b(?:patted|tickled)\b", text):
        return _pat(text, names)
    for rx, service, me in _SERVICES:
        m = rx.search(text)
        if m:
            groups = m.groupdict()
            targets = names.people(groups["t"]) if groups.get("t") else ()
            if me == _ME_UNDERGOES:
                targets = (Person(SELF),)
            return SysAction(Kind.SERVICE, text, targets=targets[:1], service=service)
    return SysAction(Kind.SERVICE, text)


_PAT_RE = re.compile(
    r"^(?:[\"“](?P<a>[^\"“”]+)[\"”]|(?P<me>我|你|You))\s*(?:拍了拍|patted|tickled)\s*"
    r"(?:[\"“](?P<t>[^\"“”]+)[\"”]|(?P<me2>我|你|自己|me|you|yourself|myself)\b)?",
    re.I,
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
            own = m["me2"].lower() in ("自己", "yourself", "myself")
            target = actor if own else Person(SELF)
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
    title = groups.get("n")
    if title is not None:
        title = title.strip()
        if title[:1] in ('"', "“") and title[-1:] in ('"', "”", "."):
            title = title.rstrip(".").strip('"“”')
    return SysAction(kind, text, actor=actor, targets=targets, method=method, title=title)


# ---------------------------------------------------------------- XML and markup

_TAG_RE = re.compile(r"<[^<>]+>")
_LINK_RE = re.compile(r"<a\b[^>]*>.*?</a>", re.S)


def _flatten(raw: str, names: _Names) -> str:
    """The notice as the WeChat window shows it, whatever markup it came in."""
    s = raw.strip()
    if "<sysmsg" in s:
        s = _from_sysmsg(s, names) or s
    elif "<patinfo" in s:
        s = _from_patinfo(s, names) or s
    s = s.replace("<![CDATA[", "").replace("]]>", "")
    s = _LINK_RE.sub("", s)
    s = _TAG_RE.sub("", s)
    return re.sub(r"\s+", " ", s).strip()


def _parse(xml: str, tag: str) -> ET.Element | None:
    try:
        return ET.fromstring(xml[xml.index(tag) :])
    except (ET.ParseError, ValueError):
        return None


def _from_sysmsg(xml: str, names: _Names) -> str | None:
    root = _parse(xml, "<sysmsg")
    if root is None:
        return None
    kind = root.get("type")
    if kind == "revokemsg":
        return root.findtext(".//replacemsg") or root.findtext(".//content") or ""
    if kind == "pat":
        return _pat_template(root, names)
    # Newer clients put the wording in <template>; some put the same $name$ text in
    # <plain>; old ones (delchatroommember …) have the final text in <plain>.
    template = (root.findtext(".//template") or "").strip()
    if not template:
        template = (root.findtext(".//plain") or "").strip()
    if not template:
        return root.findtext(".//text") or None
    for link in root.iter("link"):
        name = link.get("name", "")
        if not name:
            continue
        members = [
            ((mem.findtext("username") or "").strip(), (mem.findtext("nickname") or "").strip())
            for mem in link.iter("member")
        ]
        sep = link.findtext("separator") or "、"
        for wxid, nick in members:
            if nick and wxid:
                names.by_name.setdefault(nick, wxid)
            elif wxid:
                names.by_name.setdefault(wxid, wxid)
        # a hidden link is a button (撤销, 查看): the window shows no text for it
        shown = "" if link.get("hidden") == "1" else sep.join(n or w for w, n in members)
        template = template.replace(f"${name}$", shown)
    return template


_PAT_VAR_RE = re.compile(r"\$\{([^{}@]+)\}")


def _pat_template(root: ET.Element, names: _Names) -> str | None:
    """``<sysmsg type="pat">``: ``"${wxid_a}" 拍了拍 "${wxid_b}"``; the ids are the names."""
    template = root.findtext(".//template") or root.findtext(".//title")
    if not template:
        return None
    template = re.sub(r"\$\{[^{}]*@textstatusicon\}", "", template)
    for wxid in _PAT_VAR_RE.findall(template):
        names.by_name.setdefault(wxid.strip(), wxid.strip())
    return _PAT_VAR_RE.sub(lambda m: m[1].strip(), template)


def _from_patinfo(xml: str, names: _Names) -> str | None:
    """A pat sent as app message 49/62 (WeChat 4): the same template inside <patinfo>."""
    root = _parse(xml, "<msg")
    if root is None:
        return None
    text = _pat_template(root, names)
    if text and "${" not in text:
        return text
    return root.findtext(".//appmsg/title")
