"""The event vocabulary every importer and connector speaks.

Everything qunyun knows about a community arrives as an :class:`Event`. Importers
and connectors only *translate* platform data into these; the store derives
groups, identities, persons and memberships from them. An event is identified by
``(source, source_event_id)`` so that a replay, a re-import or an overlapping
export never counts anything twice.

Conventions that every producer follows (tests hold them to it):

* ``ts`` is an aware ``datetime``; the store keeps it in UTC.
* For member events (join, leave, kick, ban, unban, mute) ``target`` is the
  member affected and ``actor`` is who caused it: the inviter or the admin, or
  the member themself for a self-join or a self-leave. For every other event
  ``actor`` is the author and ``target`` is whom it is aimed at, if anyone.
* ``payload`` holds only JSON-serialisable values; the keys it may hold are
  listed in :data:`PAYLOAD_KEYS` and described in docs/events.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """What happened. Stored as its string value."""

    MESSAGE = "message"
    JOIN = "join"
    LEAVE = "leave"
    KICK = "kick"
    BAN = "ban"
    UNBAN = "unban"
    MUTE = "mute"
    EDIT = "edit"
    DELETE = "delete"
    REACTION = "reaction"
    PIN = "pin"
    TITLE_CHANGE = "title_change"
    RENAME = "rename"  # a member changed their display name (IRC nick change, …)
    SERVICE = "service"  # any other system line: group created, migrated, call, …


#: Kinds that change whether ``target`` is a member of the group. A ``ban`` is not
#: one: it records the ban (a moderation fact, for the shared ban list), while the
#: member's departure is its own ``kick`` or ``leave`` — on IRC a ban and the kick
#: that usually follows are two lines, and counting both would count one exit twice;
#: a connector whose platform removes a member by banning emits both events.
MEMBER_JOIN_KINDS = frozenset({Kind.JOIN})
MEMBER_EXIT_KINDS = frozenset({Kind.LEAVE, Kind.KICK})


class MsgType(StrEnum):
    """What a message carries; ``payload["type"]`` of a message event."""

    TEXT = "text"
    IMAGE = "image"
    STICKER = "sticker"
    EMOJI = "emoji"  # a platform emoticon sent alone, e.g. WeChat [旺柴], QQ [表情]
    VOICE = "voice"
    VIDEO = "video"
    FILE = "file"
    LINK = "link"  # a shared link card (WeChat 分享链接, Slack unfurl…)
    LOCATION = "location"
    CONTACT = "contact"
    POLL = "poll"
    CALL = "call"
    FORWARD = "forward"
    REPLY = "reply"
    OTHER = "other"


class JoinMethod(StrEnum):
    """How a member came in; ``payload["method"]`` of a join event."""

    INVITE_LINK = "invite_link"  # joined by a link (Telegram join_group_by_link, WhatsApp link)
    INVITED_BY = "invited_by"  # added by another member (actor)
    QR_CODE = "qr_code"  # scanned a group QR code, shared by actor if known
    CHANNEL_CODE = "channel_code"  # a qunyun channel code (live connectors, growth)
    APPROVED = "approved"  # join request approved by an admin (actor)
    COMMUNITY = "community"  # came in from the group's community (WhatsApp Communities)
    UNKNOWN = "unknown"


#: Documented payload keys (docs/events.md). Producers may add platform extras
#: under ``"extra"``.
PAYLOAD_KEYS = frozenset(
    {
        "text",  # plain text of the message (entities flattened)
        "type",  # MsgType value, for message events
        "mentions",  # list of mentioned names or ids as the platform gave them
        "urls",  # list of URLs found in the text or entities
        "reply_to",  # source_event_id of the message replied to
        "message_id",  # source_event_id of the message an edit/delete/pin/reaction concerns
        "forwarded_from",  # name of the original author of a forward
        "media",  # file name / placeholder of the attachment
        "edited_at",  # ISO time of the last edit, if the export says
        "method",  # JoinMethod value, for join events
        "target_by_name",  # true: the notice named the member by display name alone
        "invite_link",  # the invite link used, when known
        "channel_code",  # the qunyun channel code, when known
        "title",  # new title, for title_change events
        "old_name",  # for rename events
        "new_name",  # for rename events
        "emoji",  # for reaction events
        "count",  # for reaction events aggregated by the export
        "until",  # ISO time a mute ends, if known
        "reason",  # free text reason of a kick/ban/mute
        "thread",  # thread/topic id the message belongs to
        "service",  # the platform's own name of a service action
        "extra",  # anything else a platform offers, kept verbatim
    }
)


@dataclass(frozen=True, slots=True)
class GroupRef:
    """A chat group as a platform names it; the store maps it to a group row."""

    platform: str
    external_id: str
    title: str | None = None


@dataclass(frozen=True, slots=True)
class IdentityRef:
    """A platform account; the store maps it to an identity (and a person)."""

    platform: str
    external_id: str
    display_name: str | None = None
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class Event:
    source: str
    source_event_id: str
    kind: Kind
    ts: datetime
    group: GroupRef
    actor: IdentityRef | None = None
    target: IdentityRef | None = None
    payload: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.ts.tzinfo is None:
            raise ValueError(f"event {self.source}:{self.source_event_id} has a naive time")


# A frozen dataclass's own __init__ sets each field with object.__setattr__, which
# made building an Event 1.9 µs, a tenth of parsing a chat line. This one writes the
# slots through their descriptors (0.7 µs); the class stays frozen, equal, printable
# and replaceable as before.
_SET = tuple(Event.__dict__[f].__set__ for f in Event.__slots__)
assert Event.__slots__ == (
    "source", "source_event_id", "kind", "ts", "group", "actor", "target", "payload"
)
_s0, _s1, _s2, _s3, _s4, _s5, _s6, _s7 = _SET


def _event_init(
    self: Event,
    source: str,
    source_event_id: str,
    kind: Kind,
    ts: datetime,
    group: GroupRef,
    actor: IdentityRef | None = None,
    target: IdentityRef | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    if ts.tzinfo is None:
        raise ValueError(f"event {source}:{source_event_id} has a naive time")
    _s0(self, source)
    _s1(self, source_event_id)
    _s2(self, kind)
    _s3(self, ts)
    _s4(self, group)
    _s5(self, actor)
    _s6(self, target)
    _s7(self, {} if payload is None else payload)


Event.__init__ = _event_init  # type: ignore[method-assign]
