"""The one interface every live platform implements.

A connector *translates*: platform updates become :class:`~qunyun.events.Event`
records handed to an :class:`EventSink`, and :class:`Action` rows from the outbox
become platform API calls. It holds no business logic — who to kick, what to
reply, when to broadcast is decided upstream and arrives as an action. What a
platform can and cannot do, and how fast, is *data* (:class:`Capability`,
:class:`RateLimits`), so callers degrade (alert an operator instead of kicking on
WeCom) and the outbox paces deliveries without knowing any platform.

Errors a delivery can end in are classified here once, because the outbox's
retry policy depends only on the class: :class:`RetryLater` (pause the chat or the
bot for ``retry_after``), :class:`Unreachable` (transient: back off and retry),
:class:`Refused` (permanent: a missing right, the bot removed; retrying cannot
help, so it becomes a dead letter with the reason).
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Literal, Protocol

from pydantic import BaseModel

from qunyun.events import Event


class Capability(StrEnum):
    """Something a connector can do; a connector lists the ones it has."""

    SEND_TEXT = "send_text"
    SEND_MARKDOWN = "send_markdown"
    SEND_IMAGE = "send_image"
    SEND_BUTTONS = "send_buttons"  # link buttons under a message
    REPLY = "reply"  # a send that quotes an earlier message
    DELETE = "delete"  # delete (redact) a message
    KICK = "kick"  # remove a member who may come back
    BAN = "ban"
    UNBAN = "unban"
    MUTE = "mute"  # with a duration
    APPROVE_JOIN = "approve_join"
    DECLINE_JOIN = "decline_join"
    INVITE_LINK = "invite_link"  # named invite links with expiry / member limit
    SET_TITLE = "set_title"
    SET_ANNOUNCEMENT = "set_announcement"
    BROADCAST = "broadcast"  # the platform's own mass-send (WeCom 群发), quota-limited


class ActionKind(StrEnum):
    """What the outbox asks a connector to do."""

    SEND = "send"
    DELETE = "delete"
    KICK = "kick"
    BAN = "ban"
    UNBAN = "unban"
    MUTE = "mute"
    APPROVE_JOIN = "approve_join"
    DECLINE_JOIN = "decline_join"
    CREATE_INVITE_LINK = "create_invite_link"
    SET_TITLE = "set_title"
    SET_ANNOUNCEMENT = "set_announcement"


#: Which capability each action needs (a send needs more, see :func:`needed`).
ACTION_NEEDS: dict[ActionKind, Capability] = {
    ActionKind.SEND: Capability.SEND_TEXT,
    ActionKind.DELETE: Capability.DELETE,
    ActionKind.KICK: Capability.KICK,
    ActionKind.BAN: Capability.BAN,
    ActionKind.UNBAN: Capability.UNBAN,
    ActionKind.MUTE: Capability.MUTE,
    ActionKind.APPROVE_JOIN: Capability.APPROVE_JOIN,
    ActionKind.DECLINE_JOIN: Capability.DECLINE_JOIN,
    ActionKind.CREATE_INVITE_LINK: Capability.INVITE_LINK,
    ActionKind.SET_TITLE: Capability.SET_TITLE,
    ActionKind.SET_ANNOUNCEMENT: Capability.SET_ANNOUNCEMENT,
}


@dataclass(frozen=True, slots=True)
class Rate:
    """At most ``count`` calls in any ``per`` seconds."""

    count: int
    per: float

    @property
    def interval(self) -> float:
        """Seconds between two calls when paced evenly."""
        return self.per / self.count


@dataclass(frozen=True, slots=True)
class RateLimits:
    """A platform's sending limits, as the outbox enforces them.

    ``per_bot`` applies to all of one bot account's calls, ``per_chat`` to the calls
    into one chat, ``per_group`` additionally to group chats (Telegram: 20 a minute
    in a group on top of about 1 a second in any chat). ``per_recipient`` is a
    platform quota such as WeCom's one group message per customer group per day;
    a broadcast that would exceed it skips the group and says why.
    """

    per_bot: tuple[Rate, ...] = ()
    per_chat: tuple[Rate, ...] = ()
    per_group: tuple[Rate, ...] = ()
    per_recipient: Rate | None = None


@dataclass(frozen=True, slots=True)
class InviteLinkSpec:
    """A named invite link: every join through it is attributed to ``name``."""

    name: str
    expire_at: float | None = None  # Unix seconds
    member_limit: int | None = None
    join_request: bool = False  # joins need an admin's (or qunyun's) approval


@dataclass(frozen=True, slots=True)
class Action:
    """One thing to do in one chat; stored in the outbox as :meth:`to_json`.

    ``key`` is the idempotency key: the outbox holds one row per key, and a
    connector whose platform offers it (Matrix transaction ids) passes it on, so a
    resend after a crash is not a second message.
    """

    kind: ActionKind
    chat: str  # the platform's chat id, as in GroupRef.external_id
    key: str
    target: str | None = None  # the member's platform id, as in IdentityRef.external_id
    text: str | None = None
    format: Literal["text", "markdown"] = "text"
    image: str | None = None  # an https URL
    buttons: tuple[tuple[str, str], ...] = ()  # (label, url)
    reply_to: str | None = None  # the platform's id of the message replied to
    message_id: str | None = None  # the message a delete concerns
    duration: float | None = None  # seconds, for a mute or a temporary ban
    reason: str | None = None
    link: InviteLinkSpec | None = None
    title: str | None = None  # set_title / set_announcement text

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["buttons"] = [list(b) for b in self.buttons]
        return {k: v for k, v in data.items() if v not in (None, (), [])}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Action:
        d = dict(data)
        d["kind"] = ActionKind(d["kind"])
        d["buttons"] = tuple(tuple(b) for b in d.get("buttons", ()))
        if d.get("link") is not None:
            d["link"] = InviteLinkSpec(**d["link"])
        return cls(**d)


def needed(action: Action) -> frozenset[Capability]:
    """Every capability ``action`` needs."""
    caps = {ACTION_NEEDS[action.kind]}
    if action.kind is ActionKind.SEND:
        if action.format == "markdown":
            caps.add(Capability.SEND_MARKDOWN)
        if action.image:
            caps.add(Capability.SEND_IMAGE)
        if action.buttons:
            caps.add(Capability.SEND_BUTTONS)
        if action.reply_to:
            caps.add(Capability.REPLY)
    return frozenset(caps)


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a delivered action returned: the platform's id of what it made."""

    remote_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class DeliveryError(Exception):
    """An action the platform did not carry out; the subclass says what to do next."""

    permanent: ClassVar[bool] = False

    def __init__(self, message: str, *, code: str = "error") -> None:
        super().__init__(message)
        self.code = code  # a short machine-readable reason, shown with the message


class RetryLater(DeliveryError):
    """The platform asked us to wait (HTTP 429 and its ``retry_after``).

    ``scope`` says what to pause: ``"chat"`` pauses only this chat's deliveries,
    ``"bot"`` every delivery of this connector.
    """

    def __init__(
        self, message: str, retry_after: float, *, scope: Literal["chat", "bot"] = "chat"
    ) -> None:
        super().__init__(message, code="rate_limited")
        self.retry_after = retry_after
        self.scope = scope


class Unreachable(DeliveryError):
    """A transient failure (timeout, connection refused, 5xx): back off and retry."""


class Refused(DeliveryError):
    """A permanent refusal (missing right, bot removed, bad request): never retried."""

    permanent = True


class Unsupported(Refused):
    """The connector lacks the capability; callers should have checked :func:`needed`."""


class EventSink(Protocol):
    """Where a connector hands what it translated.

    When the awaitable returns, ``events`` are committed, together with ``state``
    (the connector's position: a sync token, an update offset) in the same
    transaction — so a connector that saves its position only through the sink can
    never skip events it had not stored, nor store them twice after a restart.
    """

    def __call__(
        self, events: Sequence[Event], state: Mapping[str, str] | None = None
    ) -> Awaitable[None]: ...


@dataclass(frozen=True, slots=True)
class GroupRights:
    """What the bot may do in one group, as the platform reports it."""

    chat: str
    title: str | None
    capabilities: frozenset[Capability]
    missing: tuple[str, ...] = ()  # plain sentences: "the bot is not an admin, so it cannot kick"


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Result of ``qunyun connector test NAME``."""

    ok: bool  # credentials accepted
    account: str | None  # the bot's own id / name on the platform
    problems: tuple[str, ...] = ()
    groups: tuple[GroupRights, ...] = ()


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """An HTTP request to ``/hooks/NAME``, framework-free so connectors stay testable."""

    method: str
    headers: Mapping[str, str]  # lower-case names
    query: Mapping[str, str]
    body: bytes
    remote: str | None = None


@dataclass(frozen=True, slots=True)
class WebhookResponse:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"


class Connector(abc.ABC):
    """One configured account on one platform (``[connectors.NAME]`` in the config).

    ``settings`` is the instance of the class's :attr:`Settings` model that the
    configuration loader validated (secrets included: they never reach the store).
    """

    platform: ClassVar[str]
    #: the pydantic model of this platform's ``[connectors.NAME]`` table
    Settings: ClassVar[type[BaseModel]]
    capabilities: ClassVar[frozenset[Capability]]
    limits: ClassVar[RateLimits]
    #: True when resending an action with the same key cannot make a second one
    #: (Matrix transaction ids); the outbox then resends a delivery whose outcome a
    #: crash left unknown, and otherwise marks it ``unknown`` for an operator.
    idempotent_sends: ClassVar[bool] = False

    def __init__(
        self, name: str, settings: BaseModel, state: Mapping[str, str] | None = None
    ) -> None:
        self.name = name
        self.settings = settings
        #: the position saved through the sink last time (empty on first start)
        self.state: dict[str, str] = dict(state or {})

    @abc.abstractmethod
    async def run(self, sink: EventSink) -> None:
        """Stream events into ``sink`` until cancelled; survive transient errors.

        Webhook-driven connectors may return at once and receive through
        :meth:`routes` instead.
        """

    @abc.abstractmethod
    async def perform(self, action: Action) -> Receipt:
        """Carry out ``action`` once, or raise a :class:`DeliveryError`."""

    @abc.abstractmethod
    async def check(self) -> CheckReport:
        """Verify the credentials and report the bot's rights in each known group."""

    async def webhook(self, request: WebhookRequest, sink: EventSink) -> WebhookResponse:
        """Answer a POST to ``/hooks/NAME``: verify it, translate it, await ``sink``.

        Reply 2xx only after the sink returned, so a platform that retries
        undelivered webhooks retries what a crash lost. Reject what fails
        verification with 401/403 and malformed bodies with 400, storing nothing.
        """
        return WebhookResponse(404, b"this connector takes no webhooks")

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release network resources."""

    def supports(self, action: Action) -> bool:
        return needed(action) <= self.capabilities
