"""What a WhatsApp export line *means*: system notices and message bodies.

System lines carry no "Name:" part on Android (``X added Y``) and are written
in the phone's language. iOS instead attributes them to the group (or chat)
name and starts the text with a U+200E mark (``[…] My Group: ‎X added Y``).
Both end up in :func:`classify_system`, which turns the text into a small,
platform-neutral :class:`SystemAction`.

Message bodies carry placeholders instead of media (``<Media omitted>``,
``image omitted``, ``‎<attached: 00000012-PHOTO-….jpg>``, ``IMG-….jpg (file
attached)``) and markers for deletions and edits; :func:`classify_body` reads
them. Only the wordings listed here are recognised; anything else stays a text
message or a generic service event, never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qunyun.events import JoinMethod, Kind, MsgType

_Q_OPEN = '"“„「«'
_Q_CLOSE = '"”“」»'
_QUOTED = rf"[{_Q_OPEN}](?P<title>.*)[{_Q_CLOSE}]"
_OLD_QUOTED = rf"[{_Q_OPEN}](?P<old>.*)[{_Q_CLOSE}]"


@dataclass(frozen=True, slots=True)
class SystemAction:
    """A system line, decoded. ``targets`` are the members an event is about."""

    kind: Kind
    service: str
    actor: str | None = None
    targets: tuple[str, ...] = ()
    method: JoinMethod | None = None
    title: str | None = None
    old: str | None = None


@dataclass(frozen=True, slots=True)
class _Rule:
    regex: re.Pattern[str]
    kind: Kind
    service: str
    method: JoinMethod | None = None
    many: bool = False  # the "t" group lists several members


def _r(
    pattern: str, kind: Kind, service: str, method: JoinMethod | None = None, many: bool = False
) -> _Rule:
    return _Rule(re.compile(pattern, re.IGNORECASE | re.DOTALL), kind, service, method, many)


_LINK = JoinMethod.INVITE_LINK
_BY = JoinMethod.INVITED_BY
_UNK = JoinMethod.UNKNOWN

#: Ordered: the first rule that matches the whole text wins, so specific
#: wordings come before general ones ("joined using…" before "joined").
_RULES: tuple[_Rule, ...] = (
    # ---- end-to-end notices (no actor)
    _r(
        r"^(?:Messages and calls are end-to-end encrypted|Messages to this (?:group|chat)"
        r"(?: and calls)? are now secured with end-to-end encryption|"
        r"(?:消息和通话|訊息與通話|你发送给自己的消息|您的消息).{0,6}端[到對对]端加密|"
        r"Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt).*",
        Kind.SERVICE,
        "encryption_notice",
    ),
    # ---- English
    _r(
        r"^(?P<a>.+?) joined using (?:this|the|a) (?:group|community)(?:['’]s)? (?:invite )?link$",
        Kind.JOIN,
        "joined_by_link",
        _LINK,
    ),
    _r(r"^(?P<a>.+?) joined from the community$", Kind.JOIN, "joined_from_community", _UNK),
    _r(r"^(?P<a>.+?) joined(?: the group)?$", Kind.JOIN, "joined", _UNK),
    _r(r"^(?P<t>You) were added$", Kind.JOIN, "added", _BY),
    _r(r"^(?P<t>.+?) was added$", Kind.JOIN, "added", _BY),
    _r(r"^(?P<a>.+?) added (?P<t>.+)$", Kind.JOIN, "added", _BY, many=True),
    _r(r"^(?P<t>You) were removed$", Kind.KICK, "removed"),
    _r(r"^(?P<a>.+?) removed (?P<t>.+)$", Kind.KICK, "removed", many=True),
    _r(r"^(?P<a>.+?) left$", Kind.LEAVE, "left"),
    _r(rf"^(?P<a>.+?) created (?:the )?group {_QUOTED}$", Kind.SERVICE, "group_created"),
    _r(r"^(?P<a>.+?) created (?:this|the) group$", Kind.SERVICE, "group_created"),
    _r(
        rf"^(?P<a>.+?) changed the (?:subject|group name) from {_OLD_QUOTED} to {_QUOTED}$",
        Kind.TITLE_CHANGE,
        "subject_changed",
    ),
    _r(
        rf"^(?P<a>.+?) changed the (?:subject|group name) to {_QUOTED}$",
        Kind.TITLE_CHANGE,
        "subject_changed",
    ),
    _r(
        r"^(?P<a>.+?) (?:changed|deleted) (?:this group's|the group) icon$",
        Kind.SERVICE,
        "icon_changed",
    ),
    _r(
        r"^(?P<a>.+?) (?:changed|deleted) the group description.*$",
        Kind.SERVICE,
        "description_changed",
    ),
    _r(
        r"^(?P<a>.+?) changed (?:this group's|the group) settings.*$",
        Kind.SERVICE,
        "settings_changed",
    ),
    _r(r"^(?P<a>.+?) changed their phone number.*$", Kind.SERVICE, "number_changed"),
    _r(r"^(?P<a>.+?) changed to (?P<new>\+[\d\s().\-]+)$", Kind.RENAME, "number_changed"),
    _r(r"^(?P<a>.+?) pinned a message$", Kind.PIN, "pinned"),
    _r(r"^(?P<a>.+?) (?:is|are|['’]re) now an admin$", Kind.SERVICE, "admin_granted"),
    _r(
        r"^(?P<a>.+?) turned (?:on|off) disappearing messages.*$",
        Kind.SERVICE,
        "disappearing_messages",
    ),
    # ---- Chinese (simplified and traditional); spacing around names varies
    _r(
        r"^(?P<a>.+?)\s*(?:通过|使用|透過)(?:此|本)?群[组組]的?邀[请請](?:链接|連結)加入(?:了)?(?:此?群[组組])?$",
        Kind.JOIN,
        "joined_by_link",
        _LINK,
    ),
    _r(r"^(?P<a>.+?)\s*(?:已?加入(?:了)?(?:此|本)?群[组組]|已加入)$", Kind.JOIN, "joined", _UNK),
    _r(r"^(?P<t>你|您)(?:已被|被)添加(?:了)?$", Kind.JOIN, "added", _BY),
    _r(
        r"^(?P<a>.+?)\s*(?:已?添加了|已添加|已新增|新增了)\s*(?P<t>.+)$",
        Kind.JOIN,
        "added",
        _BY,
        many=True,
    ),
    _r(r"^(?P<a>.+?)\s*(?:已?移除了|已移除)\s*(?P<t>.+)$", Kind.KICK, "removed", many=True),
    _r(
        r"^(?P<a>.+?)\s*(?:已退出(?:群[组組])?|退出了群[组組]|已?离开(?:了)?(?:群组)?|已離開(?:群組)?)$",
        Kind.LEAVE,
        "left",
    ),
    _r(rf"^(?P<a>.+?)\s*(?:创建了群组|建立了群組)\s*{_QUOTED}$", Kind.SERVICE, "group_created"),
    _r(r"^(?P<a>.+?)\s*(?:创建了此群组|建立了此群組)$", Kind.SERVICE, "group_created"),
    _r(
        rf"^(?P<a>.+?)\s*将(?:群组名称|群组名|主题)从\s*{_OLD_QUOTED}\s*更改为\s*{_QUOTED}$",
        Kind.TITLE_CHANGE,
        "subject_changed",
    ),
    _r(
        rf"^(?P<a>.+?)\s*(?:将群组名称|已將群組名稱)?更改为\s*{_QUOTED}$",
        Kind.TITLE_CHANGE,
        "subject_changed",
    ),
    _r(
        r"^(?P<a>.+?)\s*(?:更改了|已變更)(?:此|本)?群[组組]的?(?:图标|圖示|头像)$",
        Kind.SERVICE,
        "icon_changed",
    ),
    # ---- German
    _r(
        r"^(?P<a>.+?) (?:ist|bist) (?:der Gruppe )?über den Einladungslink(?: dieser Gruppe)?"
        r" beigetreten$",
        Kind.JOIN,
        "joined_by_link",
        _LINK,
    ),
    _r(r"^(?P<a>.+?) (?:ist|bist) (?:der Gruppe )?beigetreten$", Kind.JOIN, "joined", _UNK),
    _r(r"^(?P<t>Du) wurdest hinzugefügt$", Kind.JOIN, "added", _BY),
    _r(r"^(?P<a>.+?) (?:hat|hast) die Gruppe verlassen$", Kind.LEAVE, "left"),
    _r(rf"^(?P<a>.+?) (?:hat|hast) die Gruppe {_QUOTED} erstellt$", Kind.SERVICE, "group_created"),
    _r(
        rf"^(?P<a>.+?) (?:hat|hast) den Betreff von {_OLD_QUOTED} zu {_QUOTED} geändert$",
        Kind.TITLE_CHANGE,
        "subject_changed",
    ),
    _r(r"^(?P<a>.+?) (?:hat|hast) (?P<t>.+) hinzugefügt$", Kind.JOIN, "added", _BY, many=True),
    _r(r"^(?P<a>.+?) (?:hat|hast) (?P<t>.+) entfernt$", Kind.KICK, "removed", many=True),
    _r(
        r"^(?P<a>.+?) (?:hat|hast) (?:das Gruppenbild|den Gruppenbetreff|die Gruppenbeschreibung)"
        r" (?:geändert|gelöscht)$",
        Kind.SERVICE,
        "group_info_changed",
    ),
)

#: Splits "Y, Z and W" / "Y、Z" / "Y, Z und W". Names with " and " inside are
#: split too; WhatsApp gives no way to tell (documented limit).
_LIST_SPLIT = re.compile(r"\s*(?:,\s*(?:and|und|y|e|et)\s+|,|、|，|\s+(?:and|und|y|e|et|和)\s+)\s*")

#: Texts that fit a system rule's *start* but sit before ": " in an Android
#: line, e.g. ``X changed the subject from "a: b" to "c"``; such a line is not
#: a message by "X changed the subject from "a".
SYSTEM_IN_AUTHOR = re.compile(
    r" changed the (?:subject|group name|group description)| created group | added | removed |"
    r"将群组名称|创建了群组|更改了|添加了|移除了| hat | hast ",
)


def classify_system(text: str) -> SystemAction:
    """The action a system text describes; unknown texts become a SERVICE."""
    core = text.strip().rstrip(".。")
    for rule in _RULES:
        m = rule.regex.match(core)
        if m is None:
            continue
        groups = m.groupdict()
        actor = groups.get("a")
        raw_t = groups.get("t")
        if raw_t is not None:
            targets = tuple(t for t in _LIST_SPLIT.split(raw_t) if t) if rule.many else (raw_t,)
        elif rule.kind in (Kind.JOIN, Kind.LEAVE):
            targets = (actor,) if actor else ()
        else:
            targets = ()
        return SystemAction(
            kind=rule.kind,
            service=rule.service,
            actor=actor,
            targets=targets,
            method=rule.method,
            title=groups.get("title") or groups.get("new"),
            old=groups.get("old") or (actor if rule.kind is Kind.RENAME else None),
        )
    return SystemAction(Kind.SERVICE, "other")


def looks_like_system(text: str) -> bool:
    """Whether a text is one of the known system wordings (iOS puts them after a name)."""
    return classify_system(text).service != "other"


# --------------------------------------------------------------------------- bodies


@dataclass(slots=True)
class Body:
    """A message body read from the export: type, text and media placeholder."""

    type: MsgType
    text: str
    media: str | None = None
    deleted: bool = False
    extra: dict[str, object] = field(default_factory=dict)


#: Whole-body placeholders (after stripping U+200E and whitespace).
_PLACEHOLDERS: dict[str, MsgType] = {
    "<media omitted>": MsgType.OTHER,
    "<省略影音内容>": MsgType.OTHER,
    "<已省略多媒體檔案>": MsgType.OTHER,
    "<附件未下载>": MsgType.OTHER,
    "<medien ausgeschlossen>": MsgType.OTHER,
    "<multimedia omitido>": MsgType.OTHER,
    "image omitted": MsgType.IMAGE,
    "photo omitted": MsgType.IMAGE,
    "gif omitted": MsgType.IMAGE,
    "video omitted": MsgType.VIDEO,
    "audio omitted": MsgType.VOICE,
    "sticker omitted": MsgType.STICKER,
    "document omitted": MsgType.FILE,
    "contact card omitted": MsgType.CONTACT,
    "bild weggelassen": MsgType.IMAGE,
    "video weggelassen": MsgType.VIDEO,
    "audio weggelassen": MsgType.VOICE,
    "sticker weggelassen": MsgType.STICKER,
    "gif weggelassen": MsgType.IMAGE,
    "dokument weggelassen": MsgType.FILE,
    "圖片已略去": MsgType.IMAGE,
    "影片已略去": MsgType.VIDEO,
    "音訊已略去": MsgType.VOICE,
    "貼圖已略去": MsgType.STICKER,
    "貼圖已忽略": MsgType.STICKER,
    "图片已略去": MsgType.IMAGE,
    "视频已略去": MsgType.VIDEO,
    "音频已略去": MsgType.VOICE,
    "贴图已略去": MsgType.STICKER,
    "missed voice call": MsgType.CALL,
    "missed video call": MsgType.CALL,
    "voice call": MsgType.CALL,
    "video call": MsgType.CALL,
}

_DELETED = frozenset(
    {
        "this message was deleted",
        "you deleted this message",
        "这条消息已删除",
        "此消息已删除",
        "您已删除此消息",
        "你已删除此消息",
        "你删除了此消息",
        "您删除了此消息",
        "此訊息已刪除",
        "你已刪除此訊息",
        "diese nachricht wurde gelöscht",
        "du hast diese nachricht gelöscht",
    }
)

_EDITED = re.compile(
    r"\s*\u200e?<(?:This message was edited|Diese Nachricht wurde bearbeitet|"
    r"已编辑此消息|此消息已编辑)>$"
)

#: iOS: ‎<attached: 00000012-PHOTO-2020-12-31-21-41-05.jpg>; de <Anhang: …>; zh <附件：…>
_ATTACHED = re.compile(
    r"^\u200e?<\s*(?:attached|Anhang|附件|已附加|adjunto|anexo)\s*[:：]\s*(.+?)\s*>"
)
#: Android with media: "IMG-20201231-WA0001.jpg (file attached)" on the first line.
_FILE_ATTACHED = re.compile(
    r"^\u200e?(.+?\.\w{1,5}) \((?:file attached|文件附件|Datei angehängt|archivo adjunto|"
    r"arquivo anexado|檔案已附加)\)$"
)

_MEDIA_WORDS: tuple[tuple[tuple[str, ...], MsgType], ...] = (
    (("-PHOTO-", "IMG-", "IMG_"), MsgType.IMAGE),
    (("-VIDEO-", "VID-", "VID_"), MsgType.VIDEO),
    (("-AUDIO-", "PTT-", "AUD-"), MsgType.VOICE),
    (("-STICKER-", "STK-"), MsgType.STICKER),
    (("-GIF-",), MsgType.IMAGE),
)


def media_type(name: str) -> MsgType:
    """Message type from an attachment's file name as WhatsApp names them."""
    upper = name.upper()
    for words, kind in _MEDIA_WORDS:
        if any(w in upper for w in words):
            return kind
    if upper.endswith(".VCF"):
        return MsgType.CONTACT
    if upper.endswith(".WEBP"):
        return MsgType.STICKER
    return MsgType.FILE


def _attachment(text: str) -> Body | None:
    first, _, rest = text.partition("\n")
    m = _ATTACHED.match(first) or _FILE_ATTACHED.match(first)
    if m is None:
        return None
    name = m.group(1)
    caption = (first[m.end() :].strip() + "\n" + rest).strip()
    return Body(media_type(name), caption, media=name)


_SPECIAL_FIRST = frozenset("\u200e<")
_SPECIAL_LAST = frozenset(">)")
_SPECIAL_STARTS = ("POLL:\n", "location: ", "Location: ", "standort: ", "Standort: ", "位置")
_SHORT_KEYS = frozenset({*_PLACEHOLDERS, *_DELETED, "null"})


def is_plain(text: str) -> bool:
    """Cheap test for the common case: an ordinary text message.

    Everything :func:`classify_body` recognises starts with U+200E or ``<``,
    ends with ``>`` or ``)``, has a ``)`` ending its first line, starts with a
    poll/location prefix, or is one of a few short placeholders.
    """
    if text[:1] in _SPECIAL_FIRST or text[-1:] in _SPECIAL_LAST:
        return False
    if len(text) < 48 and text.rstrip(". ").lower() in _SHORT_KEYS:
        return False
    return not (text.startswith(_SPECIAL_STARTS) or ")\n" in text)


def classify_body(text: str) -> Body:
    """Type, visible text and media of a message body."""
    extra: dict[str, object] = {}
    if text.endswith(">") and "<" in text:
        m = _EDITED.search(text)
        if m is not None:
            text = text[: m.start()]
            extra["edited"] = True
    if len(text) < 48:
        key = text.strip().strip("\u200e").strip().rstrip(".").lower()
        if key in _PLACEHOLDERS:
            return Body(_PLACEHOLDERS[key], "", media=text.strip("\u200e ").strip(), extra=extra)
        if key in _DELETED:
            return Body(MsgType.OTHER, "", deleted=True, extra=extra)
        if key == "null":  # Android's view-once media
            extra["view_once"] = True
            return Body(MsgType.OTHER, "", extra=extra)
    nl = text.find("\n")
    first = text if nl < 0 else text[:nl]
    if first.endswith(")") or text[:1] in ("\u200e", "<"):
        body = _attachment(text)
        if body is not None:
            body.extra.update(extra)
            return body
    if text.startswith("POLL:\n"):
        return Body(MsgType.POLL, text, extra=extra)
    low = text[:12].lstrip("\u200e").lower()
    if low.startswith(("location: ", "standort: ", "位置: ", "位置：")):
        return Body(MsgType.LOCATION, text.lstrip("\u200e"), extra=extra)
    return Body(MsgType.TEXT, text.lstrip("\u200e"), extra=extra)
