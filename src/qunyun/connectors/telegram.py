"""Telegram through the Bot API, with python-telegram-bot 22's ``telegram.Bot``.

Only PTB's ``Bot`` is used, not its ``Application``/handlers: qunyun runs its own
loop, commits the update offset through the sink together with the events (PTB's
updater confirms updates itself, before anything is stored), and translates raw
update JSON — the same dicts a webhook delivers — in
:mod:`qunyun.connectors.telegram_translate`. Updates are fetched raw with
``Bot.do_api_request("getUpdates")``; actions use PTB's typed methods, whose
errors (``RetryAfter``, ``BadRequest``, ``Forbidden``, ``TimedOut``) map onto the
delivery errors of :mod:`qunyun.connectors.base`.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
import warnings
from collections.abc import Callable, Coroutine, Mapping
from datetime import timedelta
from typing import Any, ClassVar, Literal, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, SecretStr, model_validator
from telegram import (
    Bot,
    ChatPermissions,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning, PTBUserWarning

from qunyun.connectors.base import (
    Action,
    ActionKind,
    Capability,
    CheckReport,
    Connector,
    EventSink,
    GroupRights,
    Rate,
    RateLimits,
    Receipt,
    Refused,
    RetryLater,
    Unreachable,
    Unsupported,
    WebhookRequest,
    WebhookResponse,
)
from qunyun.connectors.telegram_markup import markdown_to_html
from qunyun.connectors.telegram_translate import PLATFORM, translate_batch

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Update types asked for; chat_member and message_reaction must be named explicitly.
ALLOWED_UPDATES = (
    "message",
    "edited_message",
    "chat_member",
    "my_chat_member",
    "chat_join_request",
    "message_reaction",
)
SECRET_HEADER = "x-telegram-bot-api-secret-token"

#: Which admin right each capability needs, and how to say it is missing.
_RIGHTS: tuple[tuple[str, tuple[Capability, ...], str], ...] = (
    ("can_restrict_members", (Capability.KICK, Capability.BAN, Capability.UNBAN,
                              Capability.MUTE), "kick, ban or mute members"),
    ("can_delete_messages", (Capability.DELETE,), "delete other people's messages"),
    ("can_invite_users", (Capability.INVITE_LINK, Capability.APPROVE_JOIN,
                          Capability.DECLINE_JOIN), "create invite links or approve join requests"),
    ("can_change_info", (Capability.SET_TITLE,), "change the group's title"),
)


class TelegramSettings(BaseModel):
    """``[connectors.NAME]`` with ``platform = "telegram"``."""

    model_config = ConfigDict(extra="forbid")

    token: SecretStr
    mode: Literal["polling", "webhook"] = "polling"
    #: the public HTTPS URL Telegram posts to, i.e. qunyun's ``/hooks/NAME``
    webhook_url: str | None = None
    secret_token: SecretStr | None = None
    #: the Bot API server's root, e.g. ``http://127.0.0.1:8081`` for a local server
    base_url: str = "https://api.telegram.org"
    #: chat ids (``-100…``) to take events from and to check; empty: every chat
    chats: list[str] = []
    poll_timeout: int = 30
    request_timeout: float = 10.0

    @model_validator(mode="after")
    def _webhook_needs_url_and_secret(self) -> TelegramSettings:
        if self.mode == "webhook" and (not self.webhook_url or self.secret_token is None):
            raise ValueError("mode = \"webhook\" needs webhook_url and secret_token")
        return self


def _retry_after(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def classify(exc: TelegramError, what: str) -> Exception:
    """The delivery error a Bot API failure means (see docs/connectors/telegram.md)."""
    text = str(exc)
    low = text.lower()
    if isinstance(exc, RetryAfter):
        # Telegram does not say which limit was hit; pausing the chat is enough for the
        # per-chat and per-group limits, and the outbox paces the bot-wide one itself.
        return RetryLater(f"Telegram asked to wait before {what}: {text}",
                          _retry_after(exc), scope="chat")
    if isinstance(exc, ChatMigrated):
        return Refused(f"the group became a supergroup with id {exc.new_chat_id}; "
                       f"update the chat id ({what})", code="chat_migrated")
    if isinstance(exc, Forbidden):
        if "kicked" in low or "not a member" in low:
            return Refused(f"the bot was removed from the group, so it cannot {what}: {text}",
                           code="bot_removed")
        return Refused(f"Telegram forbids this ({what}): {text}", code="forbidden")
    if isinstance(exc, InvalidToken):
        return Refused(f"Telegram rejected the bot token ({what}): {text}", code="bad_token")
    if isinstance(exc, BadRequest):
        if "not enough rights" in low or "administrator rights" in low or "admin_required" in low:
            return Refused(f"the bot lacks an admin right to {what}: {text}",
                           code="missing_right")
        if "chat not found" in low:
            return Refused(f"Telegram does not know this chat ({what}): {text}",
                           code="chat_not_found")
        return Refused(f"Telegram refused to {what}: {text}", code="bad_request")
    if isinstance(exc, NetworkError):  # includes TimedOut and 5xx answers
        return Unreachable(f"Telegram could not be reached to {what}: {text}")
    return Refused(f"Telegram refused to {what}: {text}", code="error")


def _message_id(value: str) -> int:
    """A message id as an action gives it: bare, or a ``chat:id`` event key."""
    return int(value.rsplit(":", 1)[-1])


class TelegramConnector(Connector):
    platform: ClassVar[str] = PLATFORM
    Settings: ClassVar[type[BaseModel]] = TelegramSettings
    capabilities: ClassVar[frozenset[Capability]] = frozenset({
        Capability.SEND_TEXT, Capability.SEND_MARKDOWN, Capability.SEND_IMAGE,
        Capability.SEND_BUTTONS, Capability.REPLY, Capability.DELETE, Capability.KICK,
        Capability.BAN, Capability.UNBAN, Capability.MUTE, Capability.APPROVE_JOIN,
        Capability.DECLINE_JOIN, Capability.INVITE_LINK, Capability.SET_TITLE,
    })
    limits: ClassVar[RateLimits] = RateLimits(
        per_bot=(Rate(30, 1.0),), per_chat=(Rate(1, 1.0),), per_group=(Rate(20, 60.0),)
    )
    idempotent_sends: ClassVar[bool] = False  # the Bot API has no idempotency key

    def __init__(self, name: str, settings: BaseModel,
                 state: Mapping[str, str] | None = None) -> None:
        super().__init__(name, settings, state)
        assert isinstance(settings, TelegramSettings)
        self.cfg = settings
        root = settings.base_url.rstrip("/")
        self.bot = Bot(
            settings.token.get_secret_value(),
            base_url=f"{root}/bot",
            base_file_url=f"{root}/file/bot",
            request=HTTPXRequest(connection_pool_size=64, read_timeout=settings.request_timeout,
                                 connect_timeout=settings.request_timeout),
            get_updates_request=HTTPXRequest(read_timeout=settings.poll_timeout + 10),
        )
        self._ready = False
        self._hook_lock = asyncio.Lock()
        self._chats = set(settings.chats)
        self.seen_chats: set[str] = set()

    # ------------------------------------------------------------------ plumbing

    async def _start(self) -> None:
        if not self._ready:
            await self.bot.initialize()
            self._ready = True

    async def _call(self, what: str, fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
        try:
            await self._start()
            return await fn()
        except TelegramError as exc:
            raise classify(exc, what) from exc

    async def close(self) -> None:
        if self._ready:
            await self.bot.shutdown()
            self._ready = False

    def _wanted(self, events: list[Any]) -> list[Any]:
        for e in events:
            self.seen_chats.add(e.group.external_id)
        if not self._chats:
            return events
        return [e for e in events if e.group.external_id in self._chats]

    @property
    def offset(self) -> int | None:
        """The last update_id committed through the sink, if any."""
        value = self.state.get("offset")
        return int(value) if value else None

    # ------------------------------------------------------------------ receiving

    async def run(self, sink: EventSink) -> None:
        if self.cfg.mode == "webhook":
            await self._register_webhook()
            return
        await self._poll(sink)

    async def _register_webhook(self) -> None:
        assert self.cfg.webhook_url is not None and self.cfg.secret_token is not None
        await self._call("register the webhook", lambda: self.bot.set_webhook(
            self.cfg.webhook_url or "",
            secret_token=self.cfg.secret_token.get_secret_value() if self.cfg.secret_token
            else None,
            allowed_updates=list(ALLOWED_UPDATES),
            max_connections=1,  # in order, so the committed offset tells a replay
        ))
        log.info("telegram %s: webhook registered at %s", self.name, self.cfg.webhook_url)

    async def _poll(self, sink: EventSink) -> None:
        delay = 0.5
        cleared = False
        while True:
            try:
                await self._start()
                if not cleared:  # getUpdates is refused while a webhook is set
                    await self.bot.delete_webhook(drop_pending_updates=False)
                    cleared = True
                updates = await self._get_updates()
            except InvalidToken:
                raise
            except (NetworkError, Conflict) as exc:
                log.warning("telegram %s: getUpdates failed (%s); retrying in %.1fs",
                            self.name, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            delay = 0.5
            if updates:
                await self._commit(updates, sink)

    async def _get_updates(self) -> list[dict[str, Any]]:
        offset = self.offset
        kwargs: dict[str, Any] = {"timeout": self.cfg.poll_timeout,
                                  "allowed_updates": list(ALLOWED_UPDATES)}
        if offset is not None:
            kwargs["offset"] = offset + 1
        with warnings.catch_warnings():  # raw on purpose: the same dicts a webhook gets
            warnings.simplefilter("ignore", PTBUserWarning)
            result = await self.bot.do_api_request(
                "getUpdates", api_kwargs=kwargs, read_timeout=self.cfg.poll_timeout + 10
            )
        return list(result or [])

    async def _commit(self, updates: list[dict[str, Any]], sink: EventSink) -> None:
        last = max(int(u["update_id"]) for u in updates)
        events = self._wanted(translate_batch(updates))
        await sink(events, {"offset": str(last)})
        self.state["offset"] = str(last)

    async def webhook(self, request: WebhookRequest, sink: EventSink) -> WebhookResponse:
        secret = self.cfg.secret_token
        given = request.headers.get(SECRET_HEADER, "")
        if secret is None or not hmac.compare_digest(
            given.encode(), secret.get_secret_value().encode()
        ):
            log.warning("telegram %s: webhook from %s rejected: %s secret token", self.name,
                        request.remote, "wrong" if given else "missing")
            return WebhookResponse(401, b"wrong or missing secret token")
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            log.warning("telegram %s: webhook rejected: content type %r is not JSON",
                        self.name, ctype)
            return WebhookResponse(400, b"expected application/json")
        try:
            update = orjson.loads(request.body)
            if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
                raise ValueError("not an update object with an update_id")
        except (orjson.JSONDecodeError, ValueError) as exc:
            log.warning("telegram %s: webhook rejected: malformed update (%s)", self.name, exc)
            return WebhookResponse(400, b"malformed update")
        async with self._hook_lock:
            last = self.offset
            if last is not None and update["update_id"] <= last:
                log.info("telegram %s: webhook update %s already stored; ignored", self.name,
                         update["update_id"])
                return WebhookResponse(200, b"duplicate")
            try:
                await self._commit([update], sink)
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("telegram %s: webhook update %s could not be read (%r)",
                            self.name, update["update_id"], exc)
                return WebhookResponse(400, b"malformed update")
        return WebhookResponse(200, b"ok")

    # ------------------------------------------------------------------ actions

    async def perform(self, action: Action) -> Receipt:
        if not self.supports(action):
            raise Unsupported(f"Telegram cannot {action.kind.value}", code="unsupported")
        chat = action.chat
        kind = action.kind
        if kind is ActionKind.SEND:
            return await self._send(action)
        if kind is ActionKind.DELETE:
            mid = _message_id(action.message_id or "")
            await self._call("delete the message",
                             lambda: self.bot.delete_message(chat, mid))
            return Receipt()
        if kind is ActionKind.CREATE_INVITE_LINK:
            return await self._invite_link(action)
        if kind is ActionKind.SET_TITLE:
            await self._call("change the title",
                             lambda: self.bot.set_chat_title(chat, action.title or ""))
            return Receipt()
        user = int(action.target or "0")
        if kind is ActionKind.KICK:
            await self._call("kick the member", lambda: self.bot.ban_chat_member(chat, user))
            await self._call("let the kicked member return",
                             lambda: self.bot.unban_chat_member(chat, user, only_if_banned=True))
        elif kind is ActionKind.BAN:
            until = int(time.time() + action.duration) if action.duration else None
            await self._call("ban the member",
                             lambda: self.bot.ban_chat_member(chat, user, until_date=until))
        elif kind is ActionKind.UNBAN:
            await self._call("unban the member",
                             lambda: self.bot.unban_chat_member(chat, user, only_if_banned=True))
        elif kind is ActionKind.MUTE:
            until = int(time.time() + action.duration) if action.duration else None
            await self._call("mute the member", lambda: self.bot.restrict_chat_member(
                chat, user, ChatPermissions.no_permissions(), until_date=until,
                use_independent_chat_permissions=True))
        elif kind is ActionKind.APPROVE_JOIN:
            await self._call("approve the join request",
                             lambda: self.bot.approve_chat_join_request(chat, user))
        elif kind is ActionKind.DECLINE_JOIN:
            await self._call("decline the join request",
                             lambda: self.bot.decline_chat_join_request(chat, user))
        return Receipt()

    async def _send(self, a: Action) -> Receipt:
        markdown = a.format == "markdown"
        text = markdown_to_html(a.text or "") if markdown else (a.text or "")
        mode = "HTML" if markdown else None
        markup = (InlineKeyboardMarkup([[InlineKeyboardButton(label, url=url)]
                                        for label, url in a.buttons]) if a.buttons else None)
        reply = (ReplyParameters(_message_id(a.reply_to), allow_sending_without_reply=True)
                 if a.reply_to else None)
        if a.image:
            image = a.image
            msg = await self._call("send the picture", lambda: self.bot.send_photo(
                a.chat, image, caption=text or None, parse_mode=mode if text else None,
                reply_parameters=reply, reply_markup=markup))
        else:
            msg = await self._call("send the message", lambda: self.bot.send_message(
                a.chat, text, parse_mode=mode, reply_parameters=reply, reply_markup=markup))
        return Receipt(str(msg.message_id),
                       {"source_event_id": f"{msg.chat_id}:{msg.message_id}"})

    async def _invite_link(self, a: Action) -> Receipt:
        spec = a.link
        if spec is None:
            raise Refused("create_invite_link needs a link spec (name, expiry…)", code="bad_action")
        link = await self._call("create the invite link", lambda: self.bot.create_chat_invite_link(
            a.chat, name=spec.name or None,
            expire_date=int(spec.expire_at) if spec.expire_at else None,
            member_limit=spec.member_limit, creates_join_request=spec.join_request or None))
        return Receipt(link.invite_link, {"name": link.name})

    # ------------------------------------------------------------------ check

    async def check(self) -> CheckReport:
        try:
            await self._start()
            me = self.bot.bot
        except InvalidToken:
            return CheckReport(False, None, ("Telegram rejected the bot token: copy it again "
                                             "from @BotFather (/token)",))
        except TelegramError as exc:
            return CheckReport(False, None, (f"Telegram could not be reached: {exc}",))
        account = f"@{me.username} ({me.id})"
        groups = []
        problems: list[str] = []
        for chat in sorted(self._chats | self.seen_chats):
            groups.append(await self._rights(chat, me.id))
        for g in groups:
            problems.extend(g.missing)
        return CheckReport(True, account, tuple(problems), tuple(groups))

    async def _rights(self, chat: str, bot_id: int) -> GroupRights:
        try:
            info = await self.bot.get_chat(chat)
            member = await self.bot.get_chat_member(chat, bot_id)
        except Forbidden:
            return GroupRights(chat, None, frozenset(),
                               (f"the bot was removed from group {chat}; add it again",))
        except TelegramError as exc:
            return GroupRights(chat, None, frozenset(), (f"group {chat}: {exc}",))
        name = info.title or chat
        caps = {Capability.SEND_TEXT, Capability.SEND_MARKDOWN, Capability.SEND_IMAGE,
                Capability.SEND_BUTTONS, Capability.REPLY}
        missing: list[str] = []
        status = member.status
        if status not in ("administrator", "creator"):
            missing.append(f"the bot is not an admin in group {name}, so it cannot kick, ban, "
                           "mute, delete messages, manage invite links or see joins and leaves "
                           "(chat_member updates)")
        else:
            for right, gives, sentence in _RIGHTS:
                if status == "creator" or getattr(member, right, False):
                    caps.update(gives)
                else:
                    missing.append(f"the bot lacks the right '{right}' in group {name}, "
                                   f"so it cannot {sentence}")
        return GroupRights(chat, info.title, frozenset(caps), tuple(missing))
