"""DiscordChatExporter JSON exports → events.

DiscordChatExporter (DCE, Tyrrrz) writes one JSON file per channel:
``{"guild": {...}, "channel": {...}, "dateRange": ..., "exportedAt": ...,
"messages": [...], "messageCount": n}``. Exports of a whole server are a folder
(or a zip) of such files, one per channel or thread.

**Group = the guild (server), not the channel.** An operator runs a Discord
*server* as one community: membership is per server (a ``GuildMemberJoin``
message lands in whichever channel is the system channel, not in the channels
the member will talk in), and channels are rooms inside it. So every channel
file of one server feeds one group; the channel travels in ``payload["thread"]``
(its id) and ``payload["extra"]["channel"]`` (its name). Direct messages have no
guild (DCE writes guild id ``0``, "Direct Messages"): there the DM or group DM
channel itself is the group, and RecipientAdd/RecipientRemove are its joins and
leaves.

Files are streamed with ijson: the guild and channel headers come first in
DCE's output, then each message is built and translated on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
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
from qunyun.importers.json_stream import objects

PLATFORM = "discord"
_HEAD_RE = re.compile(rb'^\s*\{\s*"guild"\s*:\s*\{')
_DM_GUILD_ID = "0"
_BUILT = ("guild", "channel", "messages.item")

_IMAGE_EXT = frozenset({"png", "jpg", "jpeg", "gif", "webp", "bmp", "avif", "heic"})
_VIDEO_EXT = frozenset({"mp4", "webm", "mov", "mkv", "avi", "m4v"})
_AUDIO_EXT = frozenset({"ogg", "mp3", "m4a", "wav", "flac", "opus", "aac"})

#: DCE message kinds that are Discord system notifications (type 1..18).
_SYSTEM_KINDS = frozenset(
    {
        "RecipientAdd",
        "RecipientRemove",
        "Call",
        "ChannelNameChange",
        "ChannelIconChange",
        "ChannelPinnedMessage",
        "GuildMemberJoin",
        "ThreadCreated",
    }
)


class _Context:
    """What every message of one file shares: its group and channel."""

    def __init__(self, label: str, guild: dict[str, Any], channel: dict[str, Any]) -> None:
        self.label = label
        self.guild_id = str(guild.get("id") or "")
        self.channel_id = str(channel.get("id") or "")
        self.channel_name = channel.get("name")
        self.is_dm = self.guild_id in ("", _DM_GUILD_ID)
        gid = self.channel_id if self.is_dm else self.guild_id
        title = self.channel_name if self.is_dm else guild.get("name")
        self.group = GroupRef(PLATFORM, gid, title if isinstance(title, str) else None)
        self.extra: dict[str, Any] = {"channel_id": self.channel_id}
        if isinstance(self.channel_name, str):
            self.extra["channel"] = self.channel_name
        kind = channel.get("type")
        if kind:
            self.extra["channel_type"] = kind
        if channel.get("category"):
            self.extra["category"] = channel["category"]
        if isinstance(kind, str) and kind.endswith("Thread") and channel.get("categoryId"):
            # DCE's "category" of a thread is its parent channel (the schema predates threads)
            self.extra["parent_channel_id"] = str(channel["categoryId"])

    def sid(self, message_id: str) -> str:
        return f"{self.group.external_id}:{message_id}"

    def ref_sid(self, ref: Any) -> str | None:
        """source_event_id of a referenced message (reply, pin), maybe in another chat."""
        if not isinstance(ref, dict) or not ref.get("messageId"):
            return None
        guild = ref.get("guildId")
        if guild and str(guild) != _DM_GUILD_ID:
            return f"{guild}:{ref['messageId']}"
        if self.is_dm:
            return f"{ref.get('channelId') or self.channel_id}:{ref['messageId']}"
        return self.sid(str(ref["messageId"]))


class DiscordImporter:
    name = "discord"
    platform = PLATFORM
    description = "Discord: DiscordChatExporter JSON (one file per channel; folder or zip)"

    def detect(self, path: Path) -> int:
        inputs = [i for i in list_inputs(path) if i.name.lower().endswith(".json")]
        for inp in inputs[:20]:
            if _looks_like_dce(inp):
                return 95 if path.is_file() and not _is_zip(path) else 90
        return 0

    def files(self, path: Path, options: ImportOptions) -> Iterator[SourceFile]:
        inputs = [i for i in list_inputs(path) if i.name.lower().endswith(".json")]
        chosen = [i for i in inputs if _looks_like_dce(i)]
        if not chosen:
            raise ImportFormatError(
                f"{path}: no DiscordChatExporter JSON file found (expected a JSON object "
                'starting with "guild" and "channel"; export with format "JSON")',
                zh=f"{path}：未找到 DiscordChatExporter 导出的 JSON 文件（导出时请选择 JSON 格式）",
                code="import_format",
            )
        for inp in chosen:
            pos = LazyPosition()
            yield SourceFile(inp.label, _records(inp, pos), size=inp.size, position=pos)


def _is_zip(path: Path) -> bool:
    return path.suffix.lower() == ".zip"


def _looks_like_dce(inp: InputFile) -> bool:
    try:
        head = inp.head(4096)
    except OSError:
        return False
    head = head.removeprefix(b"\xef\xbb\xbf")
    return bool(_HEAD_RE.match(head)) and b'"channel"' in head


# --------------------------------------------------------------------------- streaming


def _records(inp: InputFile, pos: LazyPosition) -> Iterator[Record]:
    header: dict[str, Any] = {}
    ctx: _Context | None = None
    index = 0
    with inp.open() as raw:
        reader = CountingReader(raw)
        pos.reader = reader
        try:
            for prefix, value in objects(reader, _BUILT):
                if prefix != "messages.item":
                    header[prefix] = value if isinstance(value, dict) else {}
                    continue
                if ctx is None:
                    if "guild" not in header or "channel" not in header:
                        yield Rejected(
                            inp.label,
                            "messages come before the guild/channel header",
                            record="messages[0]",
                            field="guild",
                        )
                        return
                    ctx = _Context(inp.label, header["guild"], header["channel"])
                yield from _message(ctx, index, value)
                index += 1
        except ijson.JSONError as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            yield Rejected(
                inp.label,
                f"invalid JSON, rest of file skipped: {reason}",
                record=f"messages[{index}]",
            )


def _message(ctx: _Context, index: int, msg: Any) -> Iterator[Record]:
    where = f"messages[{index}]"
    if not isinstance(msg, dict):
        yield Rejected(ctx.label, "message is not a JSON object", record=where)
        return
    try:
        msg_id = _msg_id(msg)
        where = f"messages[{index}] id {msg_id}"
        ts = _time(msg.get("timestamp"), "timestamp")
        author = _identity(msg.get("author"), "author")
        yield from _translate(ctx, msg, msg_id, ts, author)
    except BadField as bad:
        yield Rejected(ctx.label, bad.message, record=where, field=bad.field)


# --------------------------------------------------------------------------- fields


def _msg_id(msg: dict[str, Any]) -> str:
    value = msg.get("id")
    if not isinstance(value, str | int) or not str(value).isdigit():
        raise BadField("id", f"missing or malformed message id {value!r}")
    return str(value)


def _time(value: Any, field: str) -> datetime:
    if not isinstance(value, str):
        raise BadField(field, f"missing or malformed time {value!r}")
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadField(field, f"malformed time {value!r}") from None
    if ts.tzinfo is None:
        raise BadField(field, f"time without UTC offset {value!r}")
    return ts.astimezone(UTC)


def _identity(user: Any, field: str) -> IdentityRef:
    if not isinstance(user, dict) or not user.get("id"):
        raise BadField(field, f"missing or malformed user in {field!r}")
    name = user.get("nickname") or user.get("name")
    return IdentityRef(
        PLATFORM,
        str(user["id"]),
        name if isinstance(name, str) else None,
        bool(user.get("isBot")),
    )


def _list(msg: dict[str, Any], key: str) -> list[Any]:
    value = msg.get(key)
    return value if isinstance(value, list) else []


# --------------------------------------------------------------------------- translation


def _translate(
    ctx: _Context, msg: dict[str, Any], msg_id: str, ts: datetime, author: IdentityRef
) -> Iterator[Event]:
    kind = str(msg.get("type") or "Default")
    sid = ctx.sid(msg_id)
    base: dict[str, Any] = {}
    if not ctx.is_dm:
        base = {"thread": ctx.channel_id, "extra": dict(ctx.extra)}

    def event(k: Kind, payload: dict[str, Any], target: IdentityRef | None = None) -> Event:
        return Event(PLATFORM, sid, k, ts, ctx.group, author, target, _clean({**base, **payload}))

    content = msg.get("content")
    text = content if isinstance(content, str) else ""
    if kind == "GuildMemberJoin":
        yield Event(
            PLATFORM,
            sid,
            Kind.JOIN,
            ts,
            ctx.group,
            author,
            author,
            _clean({**base, "method": JoinMethod.UNKNOWN.value, "service": kind}),
        )
    elif kind in ("RecipientAdd", "RecipientRemove"):
        yield _recipient(ctx, msg, kind, sid, ts, author, base)
    elif kind == "ChannelPinnedMessage":
        yield event(Kind.PIN, {"message_id": ctx.ref_sid(msg.get("reference")), "service": kind})
    elif kind == "ChannelNameChange":
        # DCE ≥ 2.40 writes "Changed the channel name: <name>"; older ones only the sentence
        title = text.split(": ", 1)[1].strip() if ": " in text else None
        k = Kind.TITLE_CHANGE if ctx.is_dm and title else Kind.SERVICE
        yield event(k, {"title": title, "text": text, "service": kind})
    elif kind == "Call":
        yield event(
            Kind.MESSAGE,
            {
                "type": MsgType.CALL.value,
                "text": text,
                "extra": {**base.get("extra", {}), "call_ended": msg.get("callEndedTimestamp")},
            },
        )
    elif kind == "ThreadCreated":
        ref = msg.get("reference")
        thread = ref.get("channelId") if isinstance(ref, dict) else None
        extra = {**base.get("extra", {}), "thread_id": str(thread) if thread else None}
        yield event(Kind.SERVICE, {"text": text, "service": kind, "extra": _clean(extra)})
    elif _is_service(kind):
        yield event(Kind.SERVICE, {"text": text, "service": kind})
    else:
        yield event(Kind.MESSAGE, _message_payload(ctx, msg, kind, text))
        yield from _edit(ctx, msg, sid, author, text, base)
        yield from _reactions(ctx, msg, sid, ts, author, base)


#: Discord message types someone (a member or an app) wrote, as DCE writes the ones its
#: enum does not name: 20 slash-command reply, 23 context-menu-command reply. Every other
#: number is a system notice (boosts, follows, 21 thread starter — a copy of a message
#: already counted in the parent channel —, 22 invite reminder, 24 AutoMod action,
#: stage events, 46 poll result …) and so not a message.
_AUTHORED_NUMBERS = frozenset({"0", "19", "20", "23"})


def _is_service(kind: str) -> bool:
    """Known system kinds, and DCE's numbers for the system kinds its enum does not name."""
    if kind in _SYSTEM_KINDS:
        return True
    return kind.isdigit() and kind not in _AUTHORED_NUMBERS


def _recipient(
    ctx: _Context,
    msg: dict[str, Any],
    kind: str,
    sid: str,
    ts: datetime,
    author: IdentityRef,
    base: dict[str, Any],
) -> Event:
    """Group-DM member added/removed; the member is the first mention (DCE's own reading)."""
    mentions = _list(msg, "mentions")
    target = _identity(mentions[0], "mentions") if mentions else None
    payload = {**base, "service": kind, "text": msg.get("content")}
    if target is None:
        return Event(PLATFORM, sid, Kind.SERVICE, ts, ctx.group, author, None, _clean(payload))
    if kind == "RecipientAdd":
        payload["method"] = JoinMethod.INVITED_BY.value
        return Event(PLATFORM, sid, Kind.JOIN, ts, ctx.group, author, target, _clean(payload))
    k = Kind.LEAVE if target.external_id == author.external_id else Kind.KICK
    return Event(PLATFORM, sid, k, ts, ctx.group, author, target, _clean(payload))


def _message_payload(ctx: _Context, msg: dict[str, Any], kind: str, text: str) -> dict[str, Any]:
    forwarded = msg.get("forwardedMessage")
    forwarded = forwarded if isinstance(forwarded, dict) else {}
    if not text and isinstance(forwarded.get("content"), str):
        text = forwarded["content"]  # a forward's own content is empty: show what was forwarded
    attachments = [a for a in _list(msg, "attachments") if isinstance(a, dict)]
    attachments += [a for a in _list(forwarded, "attachments") if isinstance(a, dict)]
    stickers = [s for s in _list(msg, "stickers") if isinstance(s, dict)]
    embeds = [e for e in _list(msg, "embeds") if isinstance(e, dict)]
    names = [str(a.get("fileName") or a.get("url") or "") for a in attachments]
    names += [str(s.get("name") or "") for s in stickers]
    urls = _unique(find_urls(text) + [str(e["url"]) for e in embeds if e.get("url")])
    reference = msg.get("reference")
    payload: dict[str, Any] = {
        "text": text,
        "type": _msg_type(kind, msg, attachments, stickers, embeds, text).value,
        "mentions": [
            str(m["id"]) for m in _list(msg, "mentions") if isinstance(m, dict) and m.get("id")
        ],
        "urls": urls,
        "media": names[0] if names else None,
        "reply_to": ctx.ref_sid(reference) if kind == "Reply" else None,
        "edited_at": _iso(msg.get("timestampEdited")),
    }
    extra = dict(ctx.extra) if not ctx.is_dm else {}
    if len(names) > 1:
        extra["attachments"] = names
    if msg.get("isPinned"):
        extra["pinned"] = True
    interaction = msg.get("interaction")
    if isinstance(interaction, dict) and interaction.get("name"):
        extra["command"] = interaction["name"]
        user = interaction.get("user")
        if isinstance(user, dict) and user.get("id"):
            # the author of a slash-command reply is the bot; this is who ran the command
            extra["command_user"] = {
                "id": str(user["id"]),
                "name": user.get("nickname") or user.get("name"),
            }
    if kind not in ("Default", "Reply"):
        extra["discord_type"] = kind
    payload["extra"] = extra
    return payload


def _msg_type(
    kind: str,
    msg: dict[str, Any],
    attachments: list[dict[str, Any]],
    stickers: list[dict[str, Any]],
    embeds: list[dict[str, Any]],
    text: str,
) -> MsgType:
    ref = msg.get("reference")
    if msg.get("forwardedMessage") or (isinstance(ref, dict) and ref.get("type") == "Forward"):
        return MsgType.FORWARD
    if attachments:
        return _attachment_type(str(attachments[0].get("fileName") or ""))
    if stickers:
        return MsgType.STICKER
    if msg.get("poll"):
        return MsgType.POLL
    if kind == "Reply":
        return MsgType.REPLY
    if embeds and find_urls(text):
        return MsgType.LINK
    return MsgType.TEXT


def _attachment_type(file_name: str) -> MsgType:
    ext = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if ext in _IMAGE_EXT:
        return MsgType.IMAGE
    if ext in _VIDEO_EXT:
        return MsgType.VIDEO
    if ext in _AUDIO_EXT:
        return MsgType.VOICE
    return MsgType.FILE


def _edit(
    ctx: _Context,
    msg: dict[str, Any],
    sid: str,
    author: IdentityRef,
    text: str,
    base: dict[str, Any],
) -> Iterator[Event]:
    """DCE keeps only the last edit time; that edit becomes one EDIT event."""
    raw = msg.get("timestampEdited")
    if not raw:
        return
    try:
        edited = _time(raw, "timestampEdited")
    except BadField:
        return
    payload = {**base, "message_id": sid, "text": text, "edited_at": edited.isoformat()}
    yield Event(
        PLATFORM,
        f"{sid}:edit:{edited.isoformat()}",
        Kind.EDIT,
        edited,
        ctx.group,
        author,
        author,
        _clean(payload),
    )


def _reactions(
    ctx: _Context,
    msg: dict[str, Any],
    sid: str,
    ts: datetime,
    author: IdentityRef,
    base: dict[str, Any],
) -> Iterator[Event]:
    """One event per listed reacting user; reactions DCE counted but did not list → one
    aggregated event with ``count``. Reaction times are not exported: the message time
    stands in."""
    for reaction in _list(msg, "reactions"):
        if not isinstance(reaction, dict) or not isinstance(reaction.get("emoji"), dict):
            continue
        emoji = reaction["emoji"]
        name = str(emoji.get("name") or emoji.get("code") or "")
        key = str(emoji.get("id") or name)
        users = [u for u in _list(reaction, "users") if isinstance(u, dict) and u.get("id")]
        payload = {**base, "emoji": name, "message_id": sid}
        for user in users:
            who = _identity(user, "reactions.users")
            yield Event(
                PLATFORM,
                f"{sid}:reaction:{key}:{who.external_id}",
                Kind.REACTION,
                ts,
                ctx.group,
                who,
                author,
                _clean(payload),
            )
        count = reaction.get("count")
        rest = count - len(users) if isinstance(count, int) else 0
        if rest > 0:
            yield Event(
                PLATFORM,
                f"{sid}:reaction:{key}",
                Kind.REACTION,
                ts,
                ctx.group,
                None,
                author,
                _clean({**payload, "count": rest}),
            )


# --------------------------------------------------------------------------- helpers


def _iso(value: Any) -> str | None:
    if not value:
        return None
    try:
        return _time(value, "timestampEdited").isoformat()
    except BadField:
        return None


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _clean(payload: dict[str, Any]) -> dict[str, Any]:
    """Drop empty values: payloads omit keys they have nothing for."""
    return {k: v for k, v in payload.items() if v not in (None, "", [], {})}


IMPORTER = DiscordImporter()
