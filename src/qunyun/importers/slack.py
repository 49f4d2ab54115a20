"""Slack workspace exports (Slack's own export, slackdump) → events.

Layout (a zip or a folder): ``users.json``, ``channels.json`` and, when the export
has them, ``groups.json`` (private channels), ``mpims.json`` (group DMs) and
``dms.json``; then one folder per conversation holding ``YYYY-MM-DD.json`` day
files, each a JSON array of messages. Public and private channels and group DMs
are foldered by *name*, DMs by *id*.

**Group = the channel.** In Slack the workspace is the account boundary but the
channel is where people join and leave (``channel_join``/``channel_leave``) and
what an operator runs as a group. ``source_event_id`` is ``"<channel id>:<ts>"``:
Slack's ``ts`` is unique within a channel and is the message id replies point to.

Identities come from ``users.json`` (read once into a small map of id → name/bot,
the only state that grows — with the member count, not with the history); day
files are streamed with ijson.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ijson

from qunyun.errors import ImportFormatError
from qunyun.events import Event, GroupRef, IdentityRef, JoinMethod, Kind, MsgType
from qunyun.importers.base import (
    BadField,
    CountingReader,
    ImportOptions,
    InputFile,
    LazyPosition,
    Record,
    Rejected,
    SourceFile,
    find_urls,
    list_inputs,
)

PLATFORM = "slack"
_DAY_RE = re.compile(r"^(?:(?:.*/)?([^/]+)/)?(\d{4}-\d{2}-\d{2})\.json$")
_META = ("users.json", "channels.json", "groups.json", "mpims.json", "dms.json")
_TS_RE = re.compile(r"^(\d{1,12})(?:\.(\d{1,6}))?$")
_MARKUP_RE = re.compile(r"<([^<>]*)>")

#: subtypes that are ordinary messages (a person or an app said something)
_MESSAGE_SUBTYPES = frozenset(
    {
        "bot_message",
        "me_message",
        "file_share",
        "thread_broadcast",
        "reply_broadcast",
        "file_comment",
        "file_mention",
        "slackbot_response",
        "huddle_thread",
        "sh_room_created",
    }
)
#: huddles are call notices: messages of type ``call`` (not effective, docs/metrics.md);
#: ``reminder_add`` ("set up a reminder …") is Slack's notice, not something said: service
_CALL_SUBTYPES = frozenset({"huddle_thread", "sh_room_created"})
_JOIN = frozenset({"channel_join", "group_join"})
_LEAVE = frozenset({"channel_leave", "group_leave"})
_RENAME = frozenset({"channel_name", "group_name"})


@dataclass
class _Workspace:
    """Names the export's metadata files give us, for ids in messages and markup."""

    users: dict[str, IdentityRef] = field(default_factory=dict)
    channel_names: dict[str, str] = field(default_factory=dict)  # id → name
    folders: dict[str, GroupRef] = field(default_factory=dict)  # folder → group

    def user(self, uid: str, profile: Any = None) -> IdentityRef:
        known = self.users.get(uid)
        if known is not None:
            return known
        name = _profile_name(profile) if isinstance(profile, dict) else None
        return IdentityRef(PLATFORM, uid, name)


class SlackImporter:
    name = "slack"
    platform = PLATFORM
    description = "Slack: workspace export or slackdump export (zip or folder)"

    def detect(self, path: Path) -> int:
        inputs = list_inputs(path)
        names = {i.name.rsplit("/", 1)[-1] for i in inputs if i.name.count("/") <= 1}
        days = [i for i in inputs if _DAY_RE.match(i.name)]
        if days and names & {"users.json", "channels.json"}:
            return 95
        if days and _looks_like_day(days[0]):
            return 50 if path.is_dir() or path.suffix.lower() == ".zip" else 45
        return 0

    def files(self, path: Path, options: ImportOptions) -> Iterator[SourceFile]:
        inputs = list_inputs(path)
        days = [i for i in inputs if _DAY_RE.match(i.name)]
        if not days:
            raise ImportFormatError(
                f"{path}: no Slack day files (<channel>/YYYY-MM-DD.json) found; give the "
                "export zip or its unpacked folder",
                zh=f"{path}：未找到 Slack 导出的按日消息文件（<频道>/YYYY-MM-DD.json），"
                "请提供导出的 zip 或解压后的文件夹",
                code="import_format",
            )
        workspace = _load_workspace(inputs)
        for day in days:
            group = _group_for(day, path, workspace, options)
            pos = LazyPosition()
            yield SourceFile(
                day.label, _records(day, group, workspace, pos), size=day.size, position=pos
            )


def _looks_like_day(inp: InputFile) -> bool:
    try:
        head = inp.head(4096).lstrip(b"\xef\xbb\xbf \r\n\t")
    except OSError:
        return False
    return head.startswith(b"[") and b'"ts"' in head and b'"type"' in head


# --------------------------------------------------------------------------- metadata


def _load_workspace(inputs: list[InputFile]) -> _Workspace:
    """users.json and the channel lists; the shallowest copy of each wins."""
    ws = _Workspace()
    meta: dict[str, InputFile] = {}
    for inp in sorted(inputs, key=lambda i: i.name.count("/")):
        base = inp.name.rsplit("/", 1)[-1]
        if base in _META and base not in meta and inp.name.count("/") <= 1:
            meta[base] = inp
    if "users.json" in meta:
        for user in _items(meta["users.json"]):
            if isinstance(user, dict) and user.get("id"):
                ws.users[str(user["id"])] = IdentityRef(
                    PLATFORM,
                    str(user["id"]),
                    _profile_name(user),
                    bool(user.get("is_bot")) or user.get("id") == "USLACKBOT",
                )
    for base in ("channels.json", "groups.json", "mpims.json", "dms.json"):
        if base in meta:
            for conv in _items(meta[base]):
                _add_conversation(ws, conv, by_id=base == "dms.json")
    return ws


def _items(inp: InputFile) -> Iterator[Any]:
    try:
        with inp.open() as fh:
            yield from ijson.items(fh, "item", use_float=True)
    except ijson.JSONError as exc:
        raise ImportFormatError(
            f"{inp.label}: not valid JSON ({str(exc).splitlines()[0]})",
            zh=f"{inp.label}：JSON 格式错误",
            code="import_format",
        ) from None


def _add_conversation(ws: _Workspace, conv: Any, by_id: bool) -> None:
    if not isinstance(conv, dict) or not conv.get("id"):
        return
    cid = str(conv["id"])
    name = conv.get("name") if isinstance(conv.get("name"), str) else None
    if name:
        ws.channel_names[cid] = name
    title = f"#{name}" if name and not conv.get("is_mpim") else name
    if by_id or not name:
        members = [str(m) for m in _list(conv, "members")] or [str(conv.get("user") or "")]
        people = [ws.user(m).display_name or m for m in members if m]
        title = "DM " + ", ".join(people) if people else cid
    ws.folders[cid if by_id or not name else name] = GroupRef(PLATFORM, cid, title)


def _profile_name(user: dict[str, Any]) -> str | None:
    profile = user.get("profile") if isinstance(user.get("profile"), dict) else user
    assert isinstance(profile, dict)
    for key in ("display_name", "real_name"):
        if profile.get(key):
            return str(profile[key])
    for key in ("real_name", "name"):
        if user.get(key):
            return str(user[key])
    return None


def _group_for(day: InputFile, path: Path, ws: _Workspace, options: ImportOptions) -> GroupRef:
    """The conversation a day file belongs to: its folder, or the folder given itself."""
    match = _DAY_RE.match(day.name)
    assert match is not None
    folder = match.group(1) or (path.name if path.is_dir() else path.resolve().parent.name)
    if options.group:
        return GroupRef(PLATFORM, options.group, options.group)
    return ws.folders.get(folder) or GroupRef(PLATFORM, folder, f"#{folder}")


# --------------------------------------------------------------------------- records


def _records(
    day: InputFile, group: GroupRef, ws: _Workspace, pos: LazyPosition
) -> Iterator[Record]:
    index = 0
    with day.open() as raw:
        reader = CountingReader(raw)
        pos.reader = reader
        try:
            for msg in ijson.items(reader, "item", use_float=True):
                yield from _message(day.label, group, ws, index, msg)
                index += 1
        except ijson.JSONError as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            yield Rejected(
                day.label, f"invalid JSON, rest of file skipped: {reason}", record=f"[{index}]"
            )


def _message(label: str, group: GroupRef, ws: _Workspace, index: int, msg: Any) -> Iterator[Record]:
    where = f"[{index}]"
    if not isinstance(msg, dict):
        yield Rejected(label, "message is not a JSON object", record=where)
        return
    try:
        ts_raw = msg.get("ts")
        ts = _ts(ts_raw, "ts")
        where = f"[{index}] ts {ts_raw}"
        yield from _translate(group, ws, msg, str(ts_raw), ts)
    except BadField as bad:
        yield Rejected(label, bad.message, record=where, field=bad.field)


def _ts(value: Any, field: str) -> datetime:
    match = _TS_RE.match(value) if isinstance(value, str) else None
    if match is None:
        raise BadField(field, f"missing or malformed Slack timestamp {value!r}")
    micros = int((match.group(2) or "0").ljust(6, "0"))
    return datetime.fromtimestamp(int(match.group(1)), UTC).replace(microsecond=micros)


def _actor(ws: _Workspace, msg: dict[str, Any]) -> IdentityRef:
    uid = msg.get("user")
    if isinstance(uid, str) and uid:
        ref = ws.user(uid, msg.get("user_profile"))
        return IdentityRef(
            PLATFORM, ref.external_id, ref.display_name, ref.is_bot or bool(msg.get("bot_id"))
        )
    bot_id = msg.get("bot_id")
    if isinstance(bot_id, str) and bot_id:
        profile = _dict(msg, "bot_profile")
        name = msg.get("username") or profile.get("name")
        return IdentityRef(PLATFORM, bot_id, str(name) if name else None, True)
    comment = _dict(msg, "comment")  # file_comment in exports before 2019
    if isinstance(comment.get("user"), str) and comment["user"]:
        return ws.user(comment["user"])
    username = msg.get("username")
    if msg.get("subtype") == "bot_message" and isinstance(username, str) and username:
        # an old incoming webhook: only the name it posted under
        return IdentityRef(PLATFORM, f"bot:{username}", username, True)
    raise BadField("user", "message has neither a user nor a bot_id")


def _translate(
    group: GroupRef, ws: _Workspace, msg: dict[str, Any], ts_raw: str, ts: datetime
) -> Iterator[Event]:
    subtype = msg.get("subtype")
    sid = f"{group.external_id}:{ts_raw}"
    if subtype is None or subtype in _MESSAGE_SUBTYPES:
        yield from _chat_message(group, ws, msg, sid, ts)
        return
    if subtype == "message_changed":
        yield from _changed(group, ws, msg, sid, ts)
        return
    if subtype == "message_deleted":
        deleted = msg.get("deleted_ts")
        inner = _dict(msg, "previous_message")
        actor = ws.user(str(inner["user"])) if inner.get("user") else None
        yield Event(
            PLATFORM,
            sid,
            Kind.DELETE,
            ts,
            group,
            actor,
            None,
            _clean(
                {
                    "message_id": f"{group.external_id}:{deleted}" if deleted else None,
                    "service": subtype,
                }
            ),
        )
        return
    actor = _actor(ws, msg)
    text = render(msg.get("text"), ws)[0]
    if subtype == "tombstone":
        # a deleted thread parent: Slack keeps a placeholder so the replies hang somewhere
        yield Event(
            PLATFORM,
            f"{sid}:tombstone",
            Kind.DELETE,
            ts,
            group,
            actor,
            None,
            {"message_id": sid, "service": subtype},
        )
    elif subtype in _JOIN:
        yield _join(group, ws, msg, sid, ts, actor, subtype)
    elif subtype in _LEAVE:
        yield Event(PLATFORM, sid, Kind.LEAVE, ts, group, actor, actor, {"service": subtype})
    elif subtype in _RENAME:
        yield Event(
            PLATFORM,
            sid,
            Kind.TITLE_CHANGE,
            ts,
            group,
            actor,
            None,
            _clean(
                {
                    "title": msg.get("name"),
                    "text": text,
                    "service": subtype,
                    "extra": {"old_name": msg.get("old_name")} if msg.get("old_name") else None,
                }
            ),
        )
    elif subtype == "pinned_item":
        item = _dict(msg, "item")
        pinned = f"{group.external_id}:{item['ts']}" if item.get("ts") else None
        yield Event(
            PLATFORM,
            sid,
            Kind.PIN,
            ts,
            group,
            actor,
            None,
            _clean({"text": text, "service": subtype, "message_id": pinned}),
        )
    else:
        extra = {k: msg[k] for k in ("topic", "purpose") if isinstance(msg.get(k), str)}
        yield Event(
            PLATFORM,
            sid,
            Kind.SERVICE,
            ts,
            group,
            actor,
            None,
            _clean({"text": text, "service": subtype, "extra": extra}),
        )


def _join(
    group: GroupRef,
    ws: _Workspace,
    msg: dict[str, Any],
    sid: str,
    ts: datetime,
    member: IdentityRef,
    subtype: str,
) -> Event:
    inviter = msg.get("inviter")
    actor = ws.user(str(inviter)) if inviter else member
    method = JoinMethod.INVITED_BY if inviter else JoinMethod.UNKNOWN
    return Event(
        PLATFORM,
        sid,
        Kind.JOIN,
        ts,
        group,
        actor,
        member,
        {"method": method.value, "service": subtype},
    )


def _chat_message(
    group: GroupRef, ws: _Workspace, msg: dict[str, Any], sid: str, ts: datetime
) -> Iterator[Event]:
    actor = _actor(ws, msg)
    text, mentions, links = render(msg.get("text"), ws)
    attachments = [a for a in _list(msg, "attachments") if isinstance(a, dict)]
    if not text:
        text, mentions, links = render_blocks(_list(msg, "blocks"), ws)
    if not text:
        text = "\n".join(str(a.get("fallback") or a.get("text") or "") for a in attachments)
    comment = _dict(msg, "comment")
    if not text and isinstance(comment.get("comment"), str):
        text = render(comment["comment"], ws)[0]
    files = [f for f in _list(msg, "files") if isinstance(f, dict)]
    names = [str(f.get("name") or f.get("title")) for f in files if f.get("name") or f.get("title")]
    unfurls = [
        str(a.get("from_url") or a.get("original_url"))
        for a in attachments
        if a.get("from_url") or a.get("original_url")
    ]
    payload: dict[str, Any] = {
        "text": text,
        "type": _msg_type(msg, files, unfurls).value,
        "mentions": mentions,
        "urls": list(dict.fromkeys(links + find_urls(text) + unfurls)),
        "media": names[0] if names else None,
        "edited_at": None,
        "extra": {
            "subtype": msg.get("subtype"),
            "files": names if len(names) > 1 else None,
            "reply_count": msg.get("reply_count"),
        },
    }
    thread_ts = msg.get("thread_ts")
    if isinstance(thread_ts, str) and thread_ts:
        payload["thread"] = thread_ts
        if thread_ts != msg.get("ts"):
            payload["reply_to"] = f"{group.external_id}:{thread_ts}"
    edit = _edit_event(group, ws, msg, sid, text)
    if edit is not None:
        payload["edited_at"] = edit.ts.isoformat()
    payload["extra"] = _clean(payload["extra"])
    yield Event(PLATFORM, sid, Kind.MESSAGE, ts, group, actor, None, _clean(payload))
    if edit is not None:
        yield edit
    yield from _reactions(group, ws, msg, sid, ts, actor)


def _msg_type(msg: dict[str, Any], files: list[dict[str, Any]], unfurls: list[str]) -> MsgType:
    if msg.get("subtype") in _CALL_SUBTYPES:
        return MsgType.CALL
    if files:
        mime = str(files[0].get("mimetype") or "")
        if mime.startswith("image/"):
            return MsgType.IMAGE
        if mime.startswith("video/"):
            return MsgType.VIDEO
        if mime.startswith("audio/"):
            return MsgType.VOICE
        return MsgType.FILE
    if unfurls:
        return MsgType.LINK
    return MsgType.TEXT


def _edit_event(
    group: GroupRef, ws: _Workspace, msg: dict[str, Any], sid: str, text: str
) -> Event | None:
    """The export keeps only the latest edit (``edited: {user, ts}``): one EDIT event."""
    edited = msg.get("edited")
    if not isinstance(edited, dict):
        return None
    try:
        when = _ts(edited.get("ts"), "edited.ts")
    except BadField:
        return None
    who = ws.user(str(edited["user"])) if edited.get("user") else None
    return Event(
        PLATFORM,
        f"{sid}:edit:{edited['ts']}",
        Kind.EDIT,
        when,
        group,
        who,
        None,
        {"message_id": sid, "text": text, "edited_at": when.isoformat()},
    )


def _changed(
    group: GroupRef, ws: _Workspace, msg: dict[str, Any], sid: str, ts: datetime
) -> Iterator[Event]:
    inner = msg.get("message")
    if not isinstance(inner, dict):
        raise BadField("message", "message_changed without the changed message")
    text = render(inner.get("text"), ws)[0]
    actor = _actor(ws, inner) if inner.get("user") or inner.get("bot_id") else None
    yield Event(
        PLATFORM,
        sid,
        Kind.EDIT,
        ts,
        group,
        actor,
        None,
        _clean(
            {
                "message_id": f"{group.external_id}:{inner.get('ts')}" if inner.get("ts") else None,
                "text": text,
                "edited_at": ts.isoformat(),
                "service": "message_changed",
            }
        ),
    )


def _reactions(
    group: GroupRef,
    ws: _Workspace,
    msg: dict[str, Any],
    sid: str,
    ts: datetime,
    author: IdentityRef,
) -> Iterator[Event]:
    """One event per listed user; users Slack counted but did not list → one event with
    ``count``. Exports carry no reaction times: the message time stands in."""
    for reaction in _list(msg, "reactions"):
        if not isinstance(reaction, dict) or not reaction.get("name"):
            continue
        name = str(reaction["name"])
        users = [str(u) for u in _list(reaction, "users") if u]
        for uid in users:
            yield Event(
                PLATFORM,
                f"{sid}:reaction:{name}:{uid}",
                Kind.REACTION,
                ts,
                group,
                ws.user(uid),
                author,
                {"emoji": name, "message_id": sid},
            )
        count = reaction.get("count")
        rest = int(count) - len(users) if isinstance(count, int | float) else 0
        if rest > 0:
            yield Event(
                PLATFORM,
                f"{sid}:reaction:{name}",
                Kind.REACTION,
                ts,
                group,
                None,
                author,
                {"emoji": name, "message_id": sid, "count": rest},
            )


# --------------------------------------------------------------------------- markup


def render(text: Any, ws: _Workspace) -> tuple[str, list[str], list[str]]:
    """Slack markup → (plain text, mentioned user ids, link targets).

    ``<@U1>``/``<@U1|name>`` → ``@name``; ``<#C1|general>`` → ``#general``;
    ``<!here>`` → ``@here``; ``<!subteam^S1|@team>`` and ``<!date^…|fallback>`` → their
    label; ``<https://x|label>`` → ``label``; then HTML entities (``&amp;`` …) unescaped.
    """
    if not isinstance(text, str) or not text:
        return "", [], []
    mentions: list[str] = []
    links: list[str] = []

    def sub(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            uid = target[1:]
            mentions.append(uid)
            return "@" + (label or ws.user(uid).display_name or uid)
        if target.startswith("#"):
            cid = target[1:]
            return "#" + (label or ws.channel_names.get(cid, cid))
        if target.startswith("!"):
            special = target[1:].split("^", 1)[0]
            return label or f"@{special}"
        links.append(html.unescape(target))
        return html.unescape(label) if label else html.unescape(target)

    plain = _MARKUP_RE.sub(sub, text)
    return html.unescape(plain), mentions, links


def render_blocks(blocks: list[Any], ws: _Workspace) -> tuple[str, list[str], list[str]]:
    """Plain text of ``rich_text`` blocks, for messages whose ``text`` is empty (some
    apps and newer clients send blocks only): (text, mentioned user ids, link targets)."""
    parts: list[str] = []
    mentions: list[str] = []
    links: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for child in node:
                walk(child)
            return
        if not isinstance(node, dict):
            return
        kind = node.get("type")
        if kind == "text":
            parts.append(str(node.get("text") or ""))
        elif kind == "link":
            url = str(node.get("url") or "")
            links.append(url)
            parts.append(str(node.get("text") or url))
        elif kind == "user" and node.get("user_id"):
            uid = str(node["user_id"])
            mentions.append(uid)
            parts.append("@" + (ws.user(uid).display_name or uid))
        elif kind == "channel" and node.get("channel_id"):
            cid = str(node["channel_id"])
            parts.append("#" + ws.channel_names.get(cid, cid))
        elif kind == "emoji" and node.get("name"):
            parts.append(f":{node['name']}:")
        elif kind == "broadcast" and node.get("range"):
            parts.append(f"@{node['range']}")
        elif kind in ("rich_text_section", "rich_text_preformatted", "rich_text_quote"):
            walk(node.get("elements"))
            parts.append("\n")
        else:
            walk(node.get("elements"))

    for block in blocks:
        if isinstance(block, dict) and block.get("type") == "rich_text":
            walk(block.get("elements"))
    return "".join(parts).strip(), mentions, links


def _list(obj: dict[str, Any], key: str) -> list[Any]:
    value = obj.get(key)
    return value if isinstance(value, list) else []


def _dict(obj: dict[str, Any], key: str) -> dict[str, Any]:
    value = obj.get(key)
    return value if isinstance(value, dict) else {}


def _clean(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if v not in (None, "", [], {})}


IMPORTER = SlackImporter()
