"""A fake of the Telegram Bot API on loopback, for tests and benchmarks.

Telegram's Bot API server cannot run here (it needs Telegram's own servers), so
the project keeps this fake. Real clients reach it through their base URL
setting (python-telegram-bot: ``Bot(token, base_url=f"{url}/bot")``) and see the
documented wire format: ``POST /bot<token>/<method>`` with query, form or JSON
parameters; ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code",
"description", "parameters": {"retry_after"}}``; 401 for a wrong token, 404 for
an unknown method, 400 "Bad Request: not enough rights to ..." when the bot lacks
an admin right, 403 "Forbidden: bot was kicked from the supergroup chat" once it
was removed, 409 for a second long poll or getUpdates while a webhook is set,
429 over the sending limits (:class:`FakeLimits`).

Python API (thread-safe; the server runs its own event loop in a thread)::

    fake = FakeBotAPI(token="123:abc", limits=FakeLimits())  # defaults: 30/s per bot,
    url = fake.start()                     # 20/min per group, 1/s per chat
    chat = fake.add_group("Tea club", bot_rights={"can_restrict_members", ...})
    alice = fake.user_joins(chat, "Alice")              # directly (public group)
    fake.user_joins(chat, "Bob", link="spring promo")   # by a named invite link
    fake.user_joins(chat, "Carol", by="Alice")          # added by another member
    fake.user_requests_join(chat, "Dan", link=None)     # a join request
    mid = fake.user_says(chat, "Alice", "hello")
    fake.user_edits(chat, "Alice", mid, "hello!"); fake.user_reacts(chat, "Bob", mid, "👍")
    fake.user_leaves(chat, "Alice"); fake.admin_removes(chat, "Bob", ban=True)
    fake.admin_approves(chat, "Dan"); fake.admin_sets_title(chat, "Tea club 2")
    fake.remove_bot(chat)                               # later calls get 403
    fake.fail_next(3, "5xx") / fake.fail_next(1, "429", retry_after=7) / "hang"
    fake.calls            # every call: method, params, time, status, response
    fake.sent(chat)       # messages the bot sent there (not deleted), oldest first
    fake.count_429        # how many 429 answers were given
    fake.stop()

``user_*`` helpers take the person's *name*; the fake gives each name a stable
user id (returned by :meth:`user`). ``bot_rights`` are the Bot API's
ChatMemberAdministrator field names (``can_restrict_members``, ``can_delete_messages``,
``can_invite_users``, ``can_change_info``, …): ``None`` means all of them, an
empty set makes the bot a plain member.

Webhook mode: after ``setWebhook`` the fake POSTs each update, oldest first and
one at a time (as with ``max_connections=1``), to the URL with the
``X-Telegram-Bot-Api-Secret-Token`` header, and retries it after
``webhook_retry_delay`` seconds until the receiver answers 2xx. Plain ``http://``
webhook URLs are accepted (Telegram demands HTTPS) because the fake serves loopback.

Limits are counted only for accepted sends (sendMessage, sendPhoto) with sliding
windows on ``clock`` (monotonic seconds, injectable so tests need not sleep).
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, Literal
from urllib.parse import parse_qsl

import httpx
import orjson

from qunyun.testing.loophttp import HttpRequest, HttpResponse, ThreadedServer
from qunyun.testing.telegram_fake_limits import FakeLimits, Limiter
from qunyun.testing.telegram_fake_methods import METHODS, SENDS, Params, error_of
from qunyun.testing.telegram_fake_model import ADMIN_RIGHTS, ApiError, Member, User, bad_request
from qunyun.testing.telegram_fake_state import World

__all__ = ["Call", "FakeBotAPI", "FakeLimits"]

_PATH = re.compile(r"^/bot([^/]+)/([A-Za-z]+)$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot "
    "instance is running"
)
_CONFLICT_HOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
    "delete the webhook first"
)


@dataclass(frozen=True, slots=True)
class Call:
    """One request the fake answered."""

    method: str  # as the client spelt it, e.g. "sendMessage"
    params: dict[str, Any]
    time: float  # Unix seconds when it arrived
    status: int
    response: dict[str, Any]


@dataclass(slots=True)
class _Fault:
    kind: Literal["5xx", "429", "hang"]
    status: int
    retry_after: int
    methods: frozenset[str] | None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook POST the fake made."""

    update_id: int
    status: int | None  # None: no HTTP answer (refused, timed out)
    time: float


class FakeBotAPI:
    """See the module docstring."""

    def __init__(
        self,
        token: str = "123456789:AAFakeTokenForQunyunTests",
        limits: FakeLimits | None = None,
        *,
        privacy_mode: bool = True,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        webhook_retry_delay: float = 0.2,
        hang_seconds: float = 120.0,
        bot_username: str = "qunyun_test_bot",
    ) -> None:
        bot_id = int(token.partition(":")[0]) if token.partition(":")[0].isdigit() else 1
        self.token = token
        self.limits = limits or FakeLimits()
        self.clock = clock
        self.wall = wall
        self.webhook_retry_delay = webhook_retry_delay
        self.hang_seconds = hang_seconds
        self.bot = User(bot_id, "Qunyun Test Bot", is_bot=True, username=bot_username)
        self.world = World(self.bot, privacy_mode=privacy_mode, wall=wall)
        self.world.on_update = self._notify
        self.calls: list[Call] = []
        self.deliveries: list[Delivery] = []
        self.count_429 = 0
        self._limiter = Limiter(self.limits)
        self._faults: deque[_Fault] = deque()
        self._lock = threading.RLock()
        self._server = ThreadedServer(self._handle)
        self._wake: asyncio.Event | None = None
        self._poll_gen = 0
        self._webhook: dict[str, Any] | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._webhook_error: tuple[int, str] | None = None
        self.url = ""

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> str:
        """Serve on a free loopback port; returns the base URL (``http://127.0.0.1:PORT``)."""
        self.url = self._server.start()
        self._server.call(self._make_wake())
        return self.url

    async def _make_wake(self) -> None:
        self._wake = asyncio.Event()

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> FakeBotAPI:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def bot_base_url(self) -> str:
        """What python-telegram-bot's ``base_url`` wants: the token is appended to it."""
        return f"{self.url}/bot"

    def _notify(self) -> None:
        loop = self._server.loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._fire)

    def _fire(self) -> None:
        ev, self._wake = self._wake, asyncio.Event()
        if ev is not None:
            ev.set()

    # ------------------------------------------------------------------ HTTP

    async def _handle(self, req: HttpRequest) -> HttpResponse:
        match = _PATH.match(req.path)
        if match is None:
            return _json(404, ApiError(404, "Not Found").body())
        token, method = match.groups()
        started = self.wall()
        try:
            params = _params(req)
        except ApiError as exc:
            return self._record(method, {}, started, exc.code, exc.body())
        if token != self.token:
            return self._record(method, params.values, started, 401,
                                ApiError(401, "Unauthorized").body())
        fault = self._take_fault(method)
        if fault is not None:
            return await self._inject(fault, method, params.values, started)
        name = method.lower()
        try:
            if name == "getupdates":
                result: Any = await self._get_updates(params)
                body: dict[str, Any] = {"ok": True, "result": result}
            elif name in ("setwebhook", "deletewebhook", "getwebhookinfo"):
                body = self._webhook_method(name, params)
            else:
                impl = METHODS.get(name)
                if impl is None:
                    raise ApiError(404, "Not Found")
                with self._lock:
                    if name in SENDS:
                        self._check_limits(params)
                    result = impl(self.world, params)
                body = {"ok": True, "result": result}
        except Exception as exc:
            err = error_of(exc)
            if err.code == 429:
                self.count_429 += 1
            return self._record(method, params.values, started, err.code, err.body())
        return self._record(method, params.values, started, 200, body)

    def _record(self, method: str, params: dict[str, Any], at: float, status: int,
                body: dict[str, Any]) -> HttpResponse:
        self.calls.append(Call(method, params, at, status, body))
        return _json(status, body)

    def _check_limits(self, params: Params) -> None:
        chat = self.world.chats.get(_int_or_none(params.raw("chat_id")) or 0)
        if chat is None:
            return  # the method itself says "chat not found"
        wait = self._limiter.check(chat.id, chat.type in ("group", "supergroup"), self.clock())
        if wait:
            raise ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)

    # ------------------------------------------------------------------ faults

    def fail_next(
        self,
        n: int,
        kind: Literal["5xx", "429", "hang"] = "5xx",
        *,
        status: int = 502,
        retry_after: int = 5,
        methods: Iterable[str] | None = None,
    ) -> None:
        """Answer the next ``n`` calls (of ``methods`` only, if given) with a failure:
        ``"5xx"`` (``status``), ``"429"`` (with ``retry_after``) or ``"hang"`` (no
        answer for ``hang_seconds``, so the client times out)."""
        wanted = frozenset(m.lower() for m in methods) if methods is not None else None
        with self._lock:
            for _ in range(n):
                self._faults.append(_Fault(kind, status, retry_after, wanted))

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.methods is None or method.lower() in fault.methods:
                    self._faults.remove(fault)
                    return fault
        return None

    async def _inject(self, fault: _Fault, method: str, params: dict[str, Any],
                      at: float) -> HttpResponse:
        if fault.kind == "hang":
            await asyncio.sleep(self.hang_seconds)
            return self._record(method, params, at, 504, ApiError(504, "Gateway Timeout").body())
        if fault.kind == "429":
            self.count_429 += 1
            err = ApiError(429, f"Too Many Requests: retry after {fault.retry_after}",
                           retry_after=fault.retry_after)
        else:
            err = ApiError(fault.status, _PHRASES.get(fault.status, "Internal Server Error"))
        return self._record(method, params, at, err.code, err.body())

    # ------------------------------------------------------------------ updates

    async def _get_updates(self, p: Params) -> list[dict[str, Any]]:
        offset = p.integer("offset", 0)
        limit = min(100, max(1, p.integer("limit", 100)))
        timeout = max(0, p.integer("timeout", 0))
        allowed = p.obj("allowed_updates")
        with self._lock:
            if self._webhook is not None:
                raise ApiError(409, _CONFLICT_HOOK)
            if allowed is not None:
                if not isinstance(allowed, list):
                    raise bad_request("can't parse allowed_updates JSON array")
                self.world.set_allowed([str(a) for a in allowed])
            self.world.confirm(offset)
            found = self.world.pending(offset, limit)
        self._poll_gen += 1
        mine = self._poll_gen
        self._fire()  # a poll still waiting is now the older one: it ends with 409
        if found or timeout == 0:
            return found
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            wake = self._wake
            assert wake is not None
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            try:
                await asyncio.wait_for(wake.wait(), remaining)
            except TimeoutError:
                return []
            if self._poll_gen != mine:
                raise ApiError(409, _CONFLICT_POLL)
            with self._lock:
                found = self.world.pending(offset, limit)
            if found:
                return found

    # ------------------------------------------------------------------ webhooks

    def _webhook_method(self, name: str, p: Params) -> dict[str, Any]:
        with self._lock:
            if name == "getwebhookinfo":
                return {"ok": True, "result": self._webhook_info()}
            if p.flag("drop_pending_updates"):
                self.world.updates.clear()
            url = p.text("url") or "" if name == "setwebhook" else ""
            if not url:
                had = self._webhook is not None
                self._webhook = None
                self._fire()
                text = "Webhook was deleted" if had else "Webhook is already deleted"
                return {"ok": True, "result": True, "description": text}
            if not url.startswith(("https://", "http://")):
                raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
            secret = p.text("secret_token")
            if secret is not None and not _SECRET.match(secret):
                raise bad_request("secret token contains unallowed characters")
            self.world.set_allowed(_list_or_none(p.obj("allowed_updates")))
            self._webhook = {"url": url, "secret": secret}
            self._webhook_error = None
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.get_running_loop().create_task(self._deliver())
        self._fire()
        return {"ok": True, "result": True, "description": "Webhook was set"}

    def _webhook_info(self) -> dict[str, Any]:
        hook = self._webhook
        info: dict[str, Any] = {
            "url": hook["url"] if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.world.updates),
        }
        if hook:
            info["max_connections"] = 1
            info["allowed_updates"] = sorted(self.world.allowed)
        if self._webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    async def _deliver(self) -> None:
        async with httpx.AsyncClient(timeout=10.0) as client:
            while True:
                with self._lock:
                    hook = self._webhook
                    update = self.world.updates[0] if self.world.updates else None
                if hook is None:
                    return
                if update is None:
                    wake = self._wake
                    assert wake is not None
                    await wake.wait()
                    continue
                headers = {"Content-Type": "application/json"}
                if hook["secret"]:
                    headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret"]
                status: int | None = None
                try:
                    resp = await client.post(hook["url"], content=orjson.dumps(update),
                                             headers=headers)
                    status = resp.status_code
                    error = f"Wrong response from the webhook: {status} {resp.reason_phrase}"
                except httpx.HTTPError as exc:
                    error = f"Connection failed: {type(exc).__name__}"
                self.deliveries.append(Delivery(update["update_id"], status, self.wall()))
                if status is not None and 200 <= status < 300:
                    with self._lock:
                        self.world.confirm(update["update_id"] + 1)
                else:
                    self._webhook_error = (int(self.wall()), error)
                    await asyncio.sleep(self.webhook_retry_delay)

    # ------------------------------------------------------------------ the world, for tests

    def user(self, name: str) -> int:
        """The user id of the person called ``name``."""
        with self._lock:
            return self.world.user(name).id

    def add_group(self, title: str, bot_rights: Iterable[str] | None = None,
                  kind: Literal["supergroup", "group"] = "supergroup") -> int:
        """A new group with the bot in it (admin with ``bot_rights``; see the module doc)."""
        rights = None if bot_rights is None else frozenset(bot_rights)
        if rights is not None and not rights <= set(ADMIN_RIGHTS):
            raise ValueError(f"unknown rights: {sorted(rights - set(ADMIN_RIGHTS))}")
        with self._lock:
            return self.world.add_chat(title, kind, rights).id

    def set_bot_rights(self, chat_id: int, bot_rights: Iterable[str]) -> None:
        with self._lock:
            chat = self.world.chats[chat_id]
            rights = frozenset(bot_rights)
            status = "administrator" if rights else "member"
            self.world.change(chat, self._owner(chat), Member(self.bot, status, rights=rights))

    def _owner(self, chat_id_or_chat: Any) -> User:
        chat = chat_id_or_chat
        owner: User = next(m.user for m in chat.members.values() if m.status == "creator")
        return owner

    def _actor(self, chat: Any, name: str | None) -> User:
        return self.world.user(name) if name else self._owner(chat)

    def user_joins(self, chat_id: int, name: str, *, link: str | None = None,
                   by: str | None = None) -> int:
        """``name`` joins directly, through invite ``link`` (its URL or name), or is added
        ``by`` another member; returns their user id."""
        with self._lock:
            chat = self.world.chats[chat_id]
            user = self.world.user(name)
            lk = self.world.find_link(chat, link) if link else None
            if lk is not None and lk.creates_join_request:
                raise ValueError(f"link {link!r} needs approval: use user_requests_join")
            adder = self.world.user(by) if by else None
            self.world.join(chat, user, adder, link=lk)
            return user.id

    def user_requests_join(self, chat_id: int, name: str, *, link: str | None = None,
                           bio: str | None = None) -> int:
        with self._lock:
            chat = self.world.chats[chat_id]
            user = self.world.user(name)
            lk = self.world.find_link(chat, link) if link else None
            self.world.request_join(chat, user, lk, bio)
            return user.id

    def admin_approves(self, chat_id: int, name: str, admin: str | None = None) -> None:
        with self._lock:
            chat = self.world.chats[chat_id]
            self.world.settle_request(chat, self.world.user(name), self._actor(chat, admin), True)

    def user_says(self, chat_id: int, name: str, text: str, *,
                  reply_to: int | None = None) -> int:
        """``name`` writes ``text`` (replying to message ``reply_to``); returns its id."""
        with self._lock:
            chat = self.world.chats[chat_id]
            user = self.world.user(name)
            fields: dict[str, Any] = {"text": text}
            if reply_to is not None:
                original = self.world.message(chat, reply_to)
                if original is None:
                    raise ValueError(f"no message {reply_to} in {chat.title}")
                fields["reply_to_message"] = original
            msg = self.world.post(chat, user, fields)
            return int(msg["message_id"])

    def user_edits(self, chat_id: int, name: str, message_id: int, text: str) -> None:
        with self._lock:
            chat = self.world.chats[chat_id]
            msg = self.world.message(chat, message_id)
            if msg is None or msg["from"]["id"] != self.world.user(name).id:
                raise ValueError(f"{name} has no message {message_id} in {chat.title}")
            msg["text"] = text
            msg["edit_date"] = max(self.world.now(), msg["date"] + 1)
            self.world.emit("edited_message", chat, dict(msg))

    def user_reacts(self, chat_id: int, name: str, message_id: int, emoji: str) -> None:
        with self._lock:
            chat = self.world.chats[chat_id]
            user = self.world.user(name)
            self.world.emit("message_reaction", chat, {
                "chat": chat.json(), "message_id": message_id, "user": user.json(),
                "date": self.world.now(), "old_reaction": [],
                "new_reaction": [{"type": "emoji", "emoji": emoji}],
            })

    def user_leaves(self, chat_id: int, name: str) -> None:
        with self._lock:
            chat = self.world.chats[chat_id]
            user = self.world.user(name)
            if not self.world.member(chat, user).present:
                raise ValueError(f"{name} is not in {chat.title}")
            self.world.remove(chat, user, user)

    def admin_removes(self, chat_id: int, name: str, *, admin: str | None = None,
                      ban: bool = True) -> None:
        """An admin (the owner by default) bans ``name``, or removes and unbans them."""
        with self._lock:
            chat = self.world.chats[chat_id]
            user, by = self.world.user(name), self._actor(chat, admin)
            self.world.remove(chat, user, by, ban_until=0)
            if not ban:
                self.world.change(chat, by, Member(user, "left"))

    def admin_creates_link(self, chat_id: int, name: str | None = None, *,
                           admin: str | None = None, creates_join_request: bool = False) -> str:
        """A link made by someone else: the bot sees its URL with the secret part hidden."""
        with self._lock:
            chat = self.world.chats[chat_id]
            link = self.world.new_link(chat, self._actor(chat, admin), name=name,
                                       creates_join_request=creates_join_request)
            return link.url

    def admin_sets_title(self, chat_id: int, title: str, admin: str | None = None) -> None:
        with self._lock:
            chat = self.world.chats[chat_id]
            chat.title = title
            self.world.post(chat, self._actor(chat, admin), {"new_chat_title": title},
                            service=True)

    def remove_bot(self, chat_id: int, admin: str | None = None) -> None:
        """The bot is banned from the chat (``my_chat_member``); its calls then get 403."""
        with self._lock:
            chat = self.world.chats[chat_id]
            self.world.change(chat, self._actor(chat, admin), Member(self.bot, "kicked"))

    def is_member(self, chat_id: int, name: str) -> bool:
        with self._lock:
            chat = self.world.chats[chat_id]
            return self.world.member(chat, self.world.user(name)).present

    def status(self, chat_id: int, name: str) -> dict[str, Any]:
        """The member's ChatMember JSON, as getChatMember would answer."""
        with self._lock:
            chat = self.world.chats[chat_id]
            return self.world.member(chat, self.world.user(name)).json()

    def invite_links(self, chat_id: int) -> list[dict[str, Any]]:
        with self._lock:
            chat = self.world.chats[chat_id]
            return [lk.json(self.bot.id) | {"uses": lk.uses} for lk in chat.links.values()]

    def title(self, chat_id: int) -> str:
        with self._lock:
            return self.world.chats[chat_id].title

    def sent(self, chat_id: int) -> list[dict[str, Any]]:
        """Messages the bot sent into ``chat_id`` and did not delete, oldest first."""
        with self._lock:
            chat = self.world.chats[chat_id]
            return [m for mid, m in chat.messages.items()
                    if m["from"]["id"] == self.bot.id and mid not in chat.deleted
                    and "new_chat_title" not in m]

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in list(self.calls) if c.method.lower() == method.lower()]


_PHRASES = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
            504: "Gateway Timeout"}


def _json(status: int, body: dict[str, Any]) -> HttpResponse:
    return HttpResponse(status, orjson.dumps(body))


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _list_or_none(value: object) -> list[str] | None:
    return [str(v) for v in value] if isinstance(value, list) else None


def _params(req: HttpRequest) -> Params:
    """Query, form, multipart or JSON parameters, as the Bot API accepts them all."""
    values: dict[str, Any] = dict(parse_qsl(req.query, keep_blank_values=True))
    ctype = req.headers.get("content-type", "").lower()
    if not req.body:
        return Params(values, form=True)
    if ctype.startswith("application/json"):
        try:
            data = orjson.loads(req.body)
        except orjson.JSONDecodeError:
            raise bad_request("can't parse JSON body") from None
        if not isinstance(data, dict):
            raise bad_request("JSON body must be an object")
        values.update(data)
        return Params(values, form=False)
    if ctype.startswith("application/x-www-form-urlencoded"):
        values.update(parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True))
        return Params(values, form=True)
    if ctype.startswith("multipart/form-data"):
        head = f"Content-Type: {req.headers['content-type']}\r\n\r\n".encode("latin-1")
        msg = BytesParser(policy=HTTP).parsebytes(head + req.body)
        for part in msg.walk():
            if part.is_multipart():
                continue
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str) or not name:
                continue
            filename = part.get_filename()
            payload = part.get_payload(decode=True)
            if filename:
                values[name] = f"upload:{filename}"
            elif isinstance(payload, bytes):
                values[name] = payload.decode("utf-8", "replace")
        return Params(values, form=True)
    raise bad_request(f"unsupported content type {ctype!r}")
