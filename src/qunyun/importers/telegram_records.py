"""Translate one Telegram Desktop export message (a parsed JSON object) into events.

Kept apart from :mod:`qunyun.importers.telegram`, which only finds and streams
the export: this module knows what Telegram's JSON *means* (peer ids, text
entities, service actions, reactions) and nothing about files. Everything here
works on one message at a time, so memory stays flat however long the chat is.

Ids follow the Bot API so that an import and a live bot agree: a supergroup or
channel ``1234`` is ``-1001234``, a basic group ``1234`` is ``-1234`` and a user
is its plain number.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from qunyun.events import Event, GroupRef, IdentityRef, JoinMethod, Kind, MsgType
from qunyun.importers.base import Record, Rejected

PLATFORM = "telegram"

#: Chat types imported, with the Bot API prefix of their id.
GROUP_PREFIX = {
    "private_group": "-",
    "private_supergroup": "-100",
    "public_supergroup": "-100",
    "private_channel": "-100",
    "public_channel": "-100",
}

#: media_type → what the message carries.
_MEDIA_TYPES = {
    "sticker": MsgType.STICKER,
    "animation": MsgType.VIDEO,
    "video_file": MsgType.VIDEO,
    "video_message": MsgType.VIDEO,
    "voice_message": MsgType.VOICE,
    "audio_file": MsgType.FILE,
}

#: Service actions that are plain renames of the group.
_TITLE_ACTIONS = frozenset({"edit_group_title"})
#: How many display names a chat remembers to resolve ``members`` lists to ids.
_MAX_NAMES = 500_000
_AMBIGUOUS = ""
#: How many member-naming service messages wait for the end of the chat at most.
_MAX_PENDING = 20_000
#: What a held service message keeps of its JSON object.
_LISTED_KEYS = ("action", "members", "inviter")


class BadField(ValueError):
    """A field of one message is unusable; becomes a :class:`Rejected`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def chat_external_id(chat_type: str, bare_id: int) -> str:
    """The Bot API id of a chat, from the bare id the export writes."""
    return f"{GROUP_PREFIX[chat_type]}{bare_id}"


def peer_external_id(peer: object) -> str | None:
    """Bot API form of an export peer id: ``user5`` → ``5``, ``channel5`` → ``-1005``.

    Exports before 2021 wrote a bare number for users; it is kept as is.
    """
    if isinstance(peer, bool):
        return None
    if isinstance(peer, int):
        return str(peer)
    if not isinstance(peer, str) or not peer:
        return None
    for prefix, api in (("user", ""), ("channel", "-100"), ("chat", "-")):
        if peer.startswith(prefix) and peer[len(prefix) :].isdigit():
            return api + peer[len(prefix) :]
    return peer


def parse_unix(value: object, field_name: str) -> datetime:
    """``date_unixtime`` is a string of seconds in current exports, a number in some tools."""
    try:
        seconds = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise BadField(field_name, f"not a unix time: {value!r}") from None
    return datetime.fromtimestamp(seconds, UTC)


def parse_local(value: object, tz: tzinfo, field_name: str) -> datetime:
    """``date`` is the exporting PC's wall-clock time without offset: read it in ``tz``."""
    if not isinstance(value, str):
        raise BadField(field_name, f"not a date: {value!r}")
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise BadField(field_name, f"not a date: {value!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return dt.astimezone(UTC)


def message_time(raw: dict[str, Any], tz: tzinfo, unix_key: str, local_key: str) -> datetime | None:
    """Prefer the exact unix time; fall back to the local string (older exports)."""
    if raw.get(unix_key) is not None:
        return parse_unix(raw[unix_key], unix_key)
    if raw.get(local_key) is not None:
        return parse_local(raw[local_key], tz, local_key)
    return None


@dataclass
class Text:
    """A message's text flattened, with the links and mentions its entities carry."""

    plain: str = ""
    urls: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)


def flatten_text(value: object) -> Text:
    """``text`` is a string, or a list of strings and entity objects; flatten both."""
    out = Text()
    if isinstance(value, str):
        out.plain = value
        return out
    if not isinstance(value, list):
        return out
    parts: list[str] = []
    for part in value:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict):
            text = part.get("text")
            if isinstance(text, str):
                parts.append(text)
                _collect_entity(part, text, out)
    out.plain = "".join(parts)
    return out


def _collect_entity(part: dict[str, Any], text: str, out: Text) -> None:
    kind = part.get("type")
    if kind == "link" and text and text not in out.urls:
        out.urls.append(text)
    elif kind == "text_link":
        href = part.get("href")
        if isinstance(href, str) and href and href not in out.urls:
            out.urls.append(href)
    elif kind == "mention" and text:
        out.mentions.append(text.lstrip("@"))
    elif kind == "mention_name":
        user_id = part.get("user_id")
        out.mentions.append(str(user_id) if user_id is not None else text)


@dataclass
class Chat:
    """One chat of the export being read, and what it has learnt so far.

    ``names`` maps display names to user ids seen in ``from``/``actor`` fields,
    because invite and removal lists in exports carry names only. It holds one
    entry per distinct name (not per message) and is capped.
    """

    file: str
    where: str  # "messages" or "chats.list[3].messages", for Rejected.record
    group: GroupRef
    tz: tzinfo
    names: dict[str, str] = field(default_factory=dict)
    #: ids of the ``topic_created`` messages seen: in a forum, a message "replying"
    #: to one of them is a message posted in that topic (how tdesktop writes topics)
    topics: set[int] = field(default_factory=set)
    #: service messages naming members, resolved once the chat is read (``finish``)
    pending: list[_Listed] = field(default_factory=list)
    #: the identity of each (from_id, from) pair seen, see ``_peer``
    peers: dict[tuple[object, str | None], IdentityRef] = field(default_factory=dict)

    @property
    def gid(self) -> str:
        return self.group.external_id

    def records(self, index: int, raw: object) -> Iterator[Record]:
        """The events of message ``index``, or one Rejected naming the bad field."""
        mid = raw.get("id") if isinstance(raw, dict) else None
        try:
            if not isinstance(raw, dict):
                raise BadField("", f"message is not an object: {type(raw).__name__}")
            if isinstance(mid, bool) or not isinstance(mid, int):
                raise BadField("id", f"message id missing or not a number: {mid!r}")
            events = list(self._convert(raw, mid))
        except BadField as exc:
            record = f"{self.where}[{index}]" + (f" (id {mid})" if mid is not None else "")
            yield Rejected(file=self.file, record=record, field=exc.field or None, message=str(exc))
            return
        yield from events

    # ------------------------------------------------------------------ dispatch

    def _convert(self, raw: dict[str, Any], mid: int) -> Iterator[Event]:
        kind = raw.get("type", "message")
        if kind == "unsupported":
            raise BadField("type", "Telegram exported this message as 'unsupported' (no content)")
        ts = message_time(raw, self.tz, "date_unixtime", "date")
        if ts is None:
            raise BadField("date", "message has no date")
        if kind == "service":
            yield from self._service(raw, mid, ts)
        elif kind == "message":
            yield from self._message(raw, mid, ts)
        else:
            raise BadField("type", f"unknown message type {kind!r}")

    def _sid(self, mid: object, *rest: object) -> str:
        if not rest:
            return f"{self.group.external_id}:{mid}"
        return ":".join([self.group.external_id, str(mid), *(str(r) for r in rest)])

    def _event(
        self,
        sid: str,
        kind: Kind,
        ts: datetime,
        actor: IdentityRef | None = None,
        target: IdentityRef | None = None,
        payload: dict[str, Any] | None = None,
    ) -> Event:
        return Event(PLATFORM, sid, kind, ts, self.group, actor, target, payload or {})

    # ------------------------------------------------------------------ identities

    def _peer(self, raw: dict[str, Any], id_key: str, name_key: str) -> IdentityRef | None:
        """The identity in ``from``/``from_id`` (or ``actor``/``actor_id``).

        A deleted account has a null name but keeps its id; without an id the
        display name is the best key the export offers.
        """
        name = raw.get(name_key)
        name = name if isinstance(name, str) and name else None
        peer = raw.get(id_key)
        # one ref per (peer, name): built and learnt once, and the same object for
        # every message of a member is one key for the packer and the writer
        key = (peer, name) if type(peer) is str or type(peer) is int else None
        hit = self.peers.get(key) if key is not None else None
        if hit is not None:
            return hit
        ext = peer_external_id(peer)
        if ext is None:
            return IdentityRef(PLATFORM, name) if name else None
        if name:
            self._learn(name, ext)
        ref = IdentityRef(PLATFORM, ext, name)
        if key is not None:
            if len(self.peers) >= _MAX_NAMES:
                self.peers.clear()
            self.peers[key] = ref
        return ref

    def _learn(self, name: str, ext: str) -> None:
        known = self.names.get(name)
        if known is None:
            if len(self.names) < _MAX_NAMES:
                self.names[name] = ext
        elif known != ext:
            self.names[name] = _AMBIGUOUS

    def _by_name(self, name: str) -> IdentityRef:
        """A member known only by name: its id if the chat showed it unambiguously."""
        ext = self.names.get(name)
        return IdentityRef(PLATFORM, ext or name, name)

    # ------------------------------------------------------------------ messages

    def _message(self, raw: dict[str, Any], mid: int, ts: datetime) -> Iterator[Event]:
        actor = self._peer(raw, "from_id", "from")
        edited = message_time(raw, self.tz, "edited_unixtime", "edited")
        payload = self._message_payload(raw, edited)
        yield self._event(self._sid(mid), Kind.MESSAGE, ts, actor=actor, payload=payload)
        if edited is not None:
            edit_payload: dict[str, Any] = {
                "edited_at": edited.isoformat(),
                "message_id": self._sid(mid),
            }
            if payload.get("text"):
                edit_payload["text"] = payload["text"]
            key = int(edited.timestamp())
            yield self._event(
                self._sid(mid, "edit", key), Kind.EDIT, edited, actor=actor, payload=edit_payload
            )
        yield from self._reactions(raw, mid, ts)

    def _message_payload(self, raw: dict[str, Any], edited: datetime | None) -> dict[str, Any]:
        text = flatten_text(raw["text"] if "text" in raw else raw.get("text_entities"))
        payload: dict[str, Any] = {"type": _msg_type(raw).value}
        if text.plain:
            payload["text"] = text.plain
        if text.mentions:
            payload["mentions"] = text.mentions
        if text.urls:
            payload["urls"] = text.urls
        topic = raw.get("reply_to_message_id")
        if topic in self.topics and raw.get("reply_to_peer_id") is None:
            payload["thread"] = self._sid(topic)
            if payload["type"] == MsgType.REPLY.value:
                payload["type"] = (MsgType.TEXT if payload.get("text") else MsgType.OTHER).value
        else:
            reply = self._reply_to(raw)
            if reply:
                payload["reply_to"] = reply
        media = raw.get("photo") or raw.get("file")
        if isinstance(media, str):
            payload["media"] = media
        fwd = raw.get("forwarded_from")
        if isinstance(fwd, str) and fwd:
            payload["forwarded_from"] = fwd
        if edited is not None:
            payload["edited_at"] = edited.isoformat()
        extra = _message_extra(raw)
        if extra:
            payload["extra"] = extra
        return payload

    def _reply_to(self, raw: dict[str, Any]) -> str | None:
        target = raw.get("reply_to_message_id")
        if target is None:
            return None
        peer = peer_external_id(raw.get("reply_to_peer_id"))
        return f"{peer}:{target}" if peer else self._sid(target)

    def _reactions(self, raw: dict[str, Any], mid: int, ts: datetime) -> Iterator[Event]:
        """One REACTION per reactor the export names (``recent``); totals stay on the message."""
        reactions = raw.get("reactions")
        if reactions is None or not isinstance(reactions, list):
            return
        for n, reaction in enumerate(reactions):
            if not isinstance(reaction, dict):
                continue
            emoji = _reaction_key(reaction)
            for r, recent in enumerate(reaction.get("recent") or []):
                if not isinstance(recent, dict):
                    continue
                who = self._peer(recent, "from_id", "from")
                if who is None:
                    continue
                try:
                    when = message_time(recent, self.tz, "date_unixtime", "date") or ts
                except BadField as exc:
                    raise BadField(f"reactions[{n}].recent[{r}].{exc.field}", str(exc)) from None
                yield self._event(
                    self._sid(mid, "reaction", who.external_id, emoji),
                    Kind.REACTION,
                    when,
                    actor=who,
                    payload={"emoji": emoji, "message_id": self._sid(mid)},
                )

    # ------------------------------------------------------------------ service

    def _service(self, raw: dict[str, Any], mid: int, ts: datetime) -> Iterator[Event]:
        action = raw.get("action")
        actor = self._peer(raw, "actor_id", "actor")
        if action == "topic_created":
            if len(self.topics) < _MAX_NAMES:
                self.topics.add(mid)
            yield self._service_event(raw, mid, ts, actor, action)
        elif action == "invite_members":
            yield from self._defer(_Listed("invite", raw, mid, ts, actor))
        elif action == "create_group":
            yield self._service_event(raw, mid, ts, actor, "create_group")
            if "members" in raw:  # older tools may leave it out
                yield from self._defer(_Listed("create", raw, mid, ts, actor))
        elif action == "join_group_by_link":
            yield from self._defer(_Listed("link", raw, mid, ts, actor))
        elif action == "join_group_by_request":
            yield self._self_join(raw, mid, ts, actor, action)
        elif action == "remove_members":
            yield from self._defer(_Listed("removal", raw, mid, ts, actor))
        elif action == "pin_message":
            pinned = self._sid(raw.get("message_id")) if "message_id" in raw else None
            yield self._event(
                self._sid(mid),
                Kind.PIN,
                ts,
                actor=actor,
                payload=_drop_empty({"service": action, "message_id": pinned}),
            )
        elif action in _TITLE_ACTIONS:
            yield self._event(
                self._sid(mid),
                Kind.TITLE_CHANGE,
                ts,
                actor=actor,
                payload=_drop_empty({"title": raw.get("title"), "service": action}),
            )
        else:
            yield self._service_event(raw, mid, ts, actor, action)

    def _service_event(
        self, raw: dict[str, Any], mid: int, ts: datetime, actor: IdentityRef | None, action: object
    ) -> Event:
        payload: dict[str, Any] = {"service": action if isinstance(action, str) else "custom"}
        title = raw.get("title")
        topic = action in _TOPIC_ACTIONS
        if isinstance(title, str) and title and not topic:
            payload["title"] = title  # the group's own title (create_group, migrate_from_group)
        if action == "topic_created":
            payload["thread"] = self._sid(mid)
        text = flatten_text(raw.get("text")).plain or raw.get("information_text")
        if isinstance(text, str) and text:
            payload["text"] = text
        extra = {k: raw[k] for k in _SERVICE_EXTRA if raw.get(k) not in (None, "", [])}
        if topic and isinstance(title, str) and title:
            extra["topic_title"] = title
        if extra:
            payload["extra"] = extra
        return self._event(self._sid(mid), Kind.SERVICE, ts, actor=actor, payload=payload)

    # ------------------------------------------------------------------ named members
    #
    # Invite and removal lists (and a link's ``inviter``) carry display names only.
    # Telegram writes every name as it is when the export is made, so a member's
    # name in a list is the very name their own messages show with their id, often
    # *later* in the file. These service messages are therefore held until the chat
    # has been read (``finish``) and their names resolved with everything the chat
    # showed; only service messages wait, plain messages never do.

    def _defer(self, listed: _Listed) -> Iterator[Event]:
        """Check ``listed`` now (a bad record is rejected in place), resolve it later."""
        if listed.what == "link":
            if listed.actor is None:
                raise BadField("actor_id", "join_group_by_link without the member who joined")
        else:
            action = listed.raw.get("action")
            members = listed.raw.get("members")
            if not isinstance(members, list):
                raise BadField("members", f"{action} without a members list")
            if not members:  # nobody named: kept as what it is, not dropped
                if action != "create_group":  # which has its service event already
                    raw, mid, ts, actor = listed.raw, listed.mid, listed.ts, listed.actor
                    yield self._service_event(raw, mid, ts, actor, action)
                return
            self._note_homonyms(members, listed)
        if not listed.names_others():  # "X joined the group", "X left": nothing to look up
            yield from self._resolve(listed)
            return
        listed.raw = {k: listed.raw[k] for k in _LISTED_KEYS if k in listed.raw}  # held small
        self.pending.append(listed)
        if len(self.pending) >= _MAX_PENDING:  # memory stays flat on a huge chat
            yield from self.finish()

    def _note_homonyms(self, members: list[Any], listed: _Listed) -> None:
        """Names the list shows to belong to two people are never resolved to one id.

        One list names distinct users (the server's list of ids), so a name written
        twice is two people; the actor's name among several invitees is a namesake,
        since nobody adds themself together with others.
        """
        seen: set[str] = set()
        actor_name = listed.actor.display_name if listed.actor is not None else None
        for name in members:
            if not isinstance(name, str) or not name:
                continue
            if name in seen or (name == actor_name and not listed.may_name_actor(members)):
                self.names[name] = _AMBIGUOUS
            seen.add(name)

    def finish(self) -> Iterator[Event]:
        """The events of the held service messages, in the order they were read."""
        pending, self.pending = self.pending, []
        for listed in pending:
            yield from self._resolve(listed)

    def _resolve(self, listed: _Listed) -> Iterator[Event]:
        if listed.what in ("invite", "create"):
            yield from self._joins(listed)
        elif listed.what == "link":
            yield self._link_join(listed)
        else:
            yield from self._removal(listed)

    def _listed_members(self, listed: _Listed) -> Iterator[tuple[int, IdentityRef]]:
        """(index, identity) of each entry of a ``members`` list, none left out.

        * the actor's own name (or, for a deleted actor, a null entry) in a list that
          can hold the actor is the actor: a self-join, a creator, a member who left;
        * a name the chat showed with exactly one id is that id (:meth:`_by_name`);
        * the second person of the same name in one list is ``<name>#2`` (#3, …);
        * a deleted account (``null``) cannot be linked to anything and is its own
          identity ``deleted:<source_event_id>``, so that it still counts once.
        """
        members: list[Any] = listed.raw["members"]
        actor = listed.actor
        self_ok = listed.may_name_actor(members)
        counts: dict[str, int] = {}
        for n, entry in enumerate(members):
            name = entry if isinstance(entry, str) and entry else None
            if actor is not None and self_ok and name == actor.display_name:
                self_ok = False  # the actor is in the list once
                yield n, actor
            elif name is None:
                yield n, IdentityRef(PLATFORM, f"deleted:{self._sid(listed.mid, n)}")
            else:
                k = counts[name] = counts.get(name, 0) + 1
                yield n, self._by_name(name) if k == 1 else self._namesake(name, k)

    @staticmethod
    def _namesake(name: str, k: int) -> IdentityRef:
        """The ``k``-th person of one name in one list: told apart, linked to nobody."""
        return IdentityRef(PLATFORM, f"{name}#{k}", name)

    def _joins(self, listed: _Listed) -> Iterator[Event]:
        """One join per entry of an invite or creation list: nobody listed is dropped."""
        actor, action = listed.actor, listed.raw.get("action")
        for n, target in self._listed_members(listed):
            self_join = actor is not None and target.external_id == actor.external_id
            payload: dict[str, Any] = {
                "method": (JoinMethod.UNKNOWN if self_join else JoinMethod.INVITED_BY).value,
                "service": action,
            }
            yield self._event(
                self._sid(listed.mid, n),
                Kind.JOIN,
                listed.ts,
                actor=actor or target,
                target=target,
                payload=payload,
            )

    def _member(self, name: str, actor: IdentityRef | None) -> IdentityRef:
        """A member named alone (an inviter); the actor themself when the name is theirs."""
        if actor is not None and actor.display_name == name:
            return actor
        return self._by_name(name)

    def _link_join(self, listed: _Listed) -> Event:
        """A member joined by a link; the actor is the link's creator when named."""
        member = listed.actor
        assert member is not None  # checked by _defer
        by: IdentityRef = member
        inviter = listed.raw.get("inviter")
        if isinstance(inviter, str) and inviter:
            by = self._member(inviter, member)
        payload = {"service": "join_group_by_link", "method": JoinMethod.INVITE_LINK.value}
        return self._event(
            self._sid(listed.mid), Kind.JOIN, listed.ts, actor=by, target=member, payload=payload
        )

    def _self_join(
        self, raw: dict[str, Any], mid: int, ts: datetime, member: IdentityRef | None, action: str
    ) -> Event:
        """A join request approved: the approving admin is not in the export."""
        if member is None:
            raise BadField("actor_id", f"{action} without the member who joined")
        payload: dict[str, Any] = {"service": action, "method": JoinMethod.APPROVED.value}
        return self._event(
            self._sid(mid), Kind.JOIN, ts, actor=member, target=member, payload=payload
        )

    def _removal(self, listed: _Listed) -> Iterator[Event]:
        """A kick, or a leave when the member removed themself (or no admin is named)."""
        actor, mid = listed.actor, listed.mid
        single = len(listed.raw["members"]) == 1
        for n, target in self._listed_members(listed):
            left = actor is None or target.external_id == actor.external_id
            yield self._event(
                self._sid(mid) if single else self._sid(mid, n),
                Kind.LEAVE if left else Kind.KICK,
                listed.ts,
                actor=actor or target,
                target=target,
                payload={"service": "remove_members"},
            )


@dataclass(slots=True)
class _Listed:
    """A service message naming members, held until its chat is read (see ``finish``)."""

    what: str  # "invite", "create", "link" or "removal"
    raw: dict[str, Any]
    mid: int
    ts: datetime
    actor: IdentityRef | None

    def may_name_actor(self, members: list[Any]) -> bool:
        """A creation lists its creator, a removal may be a leave, and a one-name
        invite may be the actor joining a public group; a longer invite never names
        the actor (nobody adds themself together with others)."""
        return self.what != "invite" or len(members) == 1

    def names_others(self) -> bool:
        """Whether resolving this needs the chat's names: someone besides the actor is
        named. Self-joins and leaves, the bulk of a big public group's service
        messages, do not wait."""
        own = self.actor.display_name if self.actor is not None else None
        if self.what == "link":
            inviter = self.raw.get("inviter")
            return isinstance(inviter, str) and bool(inviter) and inviter != own
        members: list[Any] = self.raw["members"]
        return len(members) > 1 or not self.may_name_actor(members) or members[0] != own


#: Service actions about a forum topic: their ``title`` names the topic, not the group.
_TOPIC_ACTIONS = frozenset({"topic_created", "topic_edit"})

#: Service fields kept verbatim under ``extra``.
_SERVICE_EXTRA = (
    "members",
    "inviter",
    "duration_seconds",
    "duration",
    "discard_reason",
    "message_id",
    "period",
    "schedule_date",
    "emoticon",
    "new_title",
    "new_icon_emoji_id",
    "photo",
    "boosts",
    "cost",
    "months",
    "stars",
    "amount",
    "currency",
    "score",
    "game_message_id",
    "to",
    "distance",
)


#: Keys that say what a message carries, strongest first.
_TYPE_KEYS = (
    ("photo", MsgType.IMAGE),
    ("poll", MsgType.POLL),
    ("location_information", MsgType.LOCATION),
    ("place_name", MsgType.LOCATION),
    ("contact_information", MsgType.CONTACT),
    ("file", MsgType.FILE),
    ("forwarded_from", MsgType.FORWARD),
    ("reply_to_message_id", MsgType.REPLY),
)
_TYPE_KEY_SET = frozenset(k for k, _ in _TYPE_KEYS)


def _msg_type(raw: dict[str, Any]) -> MsgType:
    media_type = raw.get("media_type")
    if media_type in _MEDIA_TYPES:
        return _MEDIA_TYPES[media_type]
    present = raw.keys() & _TYPE_KEY_SET  # one C-level test for the common plain message
    if present:
        return next(kind for key, kind in _TYPE_KEYS if key in present)
    if raw.get("text") or raw.get("text_entities"):
        return MsgType.TEXT
    return MsgType.OTHER


#: Message fields kept verbatim under ``extra`` (only JSON values come from ijson).
_MESSAGE_EXTRA = frozenset(
    {
        "media_type",
        "sticker_emoji",
        "mime_type",
        "duration_seconds",
        "file_name",
        "via_bot",
        "author",
        "saved_from",
        "forwarded_from_id",
        "reply_to_peer_id",
        "poll",
        "location_information",
        "place_name",
        "address",
        "contact_information",
        "performer",
        "title",
        "game_title",
        "live_location_period_seconds",
    }
)


def _message_extra(raw: dict[str, Any]) -> dict[str, Any]:
    extra = {k: raw[k] for k in sorted(raw.keys() & _MESSAGE_EXTRA) if raw[k] not in (None, "")}
    reactions = raw.get("reactions")
    if isinstance(reactions, list) and reactions:
        extra["reactions"] = [
            {"emoji": _reaction_key(r), "count": r.get("count")}
            for r in reactions
            if isinstance(r, dict)
        ]
    return extra


def _reaction_key(reaction: dict[str, Any]) -> str:
    """The emoji, or ``custom:<document_id>`` / ``paid`` for the other reaction kinds."""
    emoji = reaction.get("emoji")
    if isinstance(emoji, str) and emoji:
        return emoji
    doc = reaction.get("document_id")
    if doc:
        return f"custom:{doc}"
    kind = reaction.get("type")
    return kind if isinstance(kind, str) and kind else "unknown"


def _drop_empty(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if v not in (None, "", [], {})}
