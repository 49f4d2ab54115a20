"""Matrix: a bot account on any homeserver, through matrix-nio's AsyncClient.

Receiving is one long-poll ``/sync`` loop. Its ``next_batch`` token is committed
through the sink together with the events of that sync, so a restart continues
exactly where the store stopped. A sync after a long pause comes back
``limited`` (a timeline of the last N events and a gap before them); the
connector then pages back with ``/messages`` until it meets the last event it
stored for that room (kept per room in the state too), so nothing in the gap is
lost. On the very first start it only takes the current position: history from
before qunyun was connected is what the export importers are for.

Sending uses the outbox's action key as the Matrix transaction id, which Synapse
deduplicates per device for 24 hours, so a resend after a crash is not a second
message (``idempotent_sends``; a test proves it against Synapse).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import secrets
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import aiohttp
from markdown_it import MarkdownIt
from nio import (
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    MessageDirection,
)
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from qunyun.connectors.base import (
    Action,
    ActionKind,
    Capability,
    CheckReport,
    Connector,
    DeliveryError,
    EventSink,
    GroupRights,
    Rate,
    RateLimits,
    Receipt,
    Refused,
    RetryLater,
    Unreachable,
    Unsupported,
)
from qunyun.connectors.matrix_events import PLATFORM, prev_membership, translate
from qunyun.connectors.matrix_rights import rights
from qunyun.events import Event, GroupRef

log = logging.getLogger(__name__)

SINCE = "since"
LAST = "last:"  # + room id -> the last event id stored for that room
_PAGE = 100
_SEEN_MAX = 20_000
_TXN_SAFE = re.compile(r"^[A-Za-z0-9._~-]{1,200}$")


class MatrixSettings(BaseModel):
    """``[connectors.NAME]`` with ``platform = "matrix"``."""

    model_config = ConfigDict(extra="forbid")

    homeserver: str = Field(description="client-server API base URL, e.g. https://matrix.example.org")
    user_id: str = Field(pattern=r"^@[^:]+:.+$", description="the bot's full mxid")
    access_token: SecretStr | None = None
    password: SecretStr | None = None
    device_id: str | None = Field(
        default=None,
        description="keep it stable: transaction ids (idempotent sends) are scoped to a device",
    )
    rooms: list[str] = Field(default_factory=list, description="allow-list of room ids; empty: all")
    auto_join: bool = Field(default=False, description="accept invites (to allowed rooms)")
    sync_timeout: float = Field(default=30.0, gt=0, description="long-poll seconds")
    timeline_limit: int = Field(default=50, ge=1, le=100)
    max_backfill: int = Field(
        default=5000, ge=0, description="events paged back per room to close one gap"
    )
    max_backoff: float = Field(default=30.0, gt=0, description="longest wait between retries")

    @model_validator(mode="after")
    def _credentials(self) -> MatrixSettings:
        if self.access_token is None and self.password is None:
            raise ValueError("set access_token (preferred) or password for the bot account")
        return self


class MatrixConnector(Connector):
    platform: ClassVar[str] = PLATFORM
    Settings: ClassVar[type[BaseModel]] = MatrixSettings
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.SEND_TEXT,
            Capability.SEND_MARKDOWN,
            Capability.REPLY,
            Capability.DELETE,
            Capability.KICK,
            Capability.BAN,
            Capability.UNBAN,
            Capability.SET_TITLE,
            Capability.SET_ANNOUNCEMENT,
        }
    )
    #: Synapse's default rc_message (0.2/s, burst 10, per account, not per room):
    #: at most 10 in any 50 s never exceeds that bucket. A bot the operator exempted
    #: (admin API override_ratelimit) is paced more slowly than it could be.
    limits: ClassVar[RateLimits] = RateLimits(per_bot=(Rate(10, 50.0),), per_chat=(Rate(10, 50.0),))
    idempotent_sends: ClassVar[bool] = True

    settings: MatrixSettings

    def __init__(
        self, name: str, settings: BaseModel, state: Mapping[str, str] | None = None
    ) -> None:
        if not isinstance(settings, MatrixSettings):
            settings = MatrixSettings.model_validate(settings.model_dump())
        super().__init__(name, settings, state)
        self._nio: Any = None
        self._login_lock = asyncio.Lock()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._inviters: dict[tuple[str, str], str] = {}
        self._full_state = True  # first incremental sync refills names and titles
        self.last_error: str | None = None

    # -- the client ---------------------------------------------------------------

    async def _client(self) -> Any:
        async with self._login_lock:
            if self._nio is not None:
                return self._nio
            s = self.settings
            config = AsyncClientConfig(
                max_limit_exceeded=0,
                max_timeouts=0,
                encryption_enabled=False,
                store_sync_tokens=False,
                request_timeout=max(60.0, s.sync_timeout + 30),
            )
            client = AsyncClient(
                s.homeserver.rstrip("/"), s.user_id, device_id=s.device_id or "", config=config
            )
            if s.access_token is not None:
                client.access_token = s.access_token.get_secret_value()
                client.user_id = s.user_id
            else:
                assert s.password is not None
                resp = await _guard(client.login(s.password.get_secret_value(),
                                                 device_name=f"qunyun {self.name}"))
                if isinstance(resp, ErrorResponse):
                    await client.close()
                    raise _delivery_error(resp, "login")
            self._nio = client
            return client

    async def close(self) -> None:
        client, self._nio = self._nio, None
        if client is not None:
            await client.close()

    def _allowed(self, room_id: str) -> bool:
        return not self.settings.rooms or room_id in self.settings.rooms

    def _filter(self, limit: int, *, fresh: bool = False) -> dict[str, Any]:
        timeline: dict[str, Any] = {"limit": limit}
        if fresh:
            # Synapse answers a repeated /sync from its response cache for 2 minutes
            # (sync_response_cache_duration), so a first start soon after another
            # would take an old position and replay what came since. An event type
            # nobody sends makes the filter, and so the cache key, new.
            timeline["not_types"] = [f"org.qunyun.nonce.{secrets.token_hex(8)}"]
        room: dict[str, Any] = {"timeline": timeline, "ephemeral": {"not_types": ["*"]},
                                "account_data": {"not_types": ["*"]}}
        if self.settings.rooms:
            room["rooms"] = list(self.settings.rooms)
        return {"room": room, "presence": {"not_types": ["*"]},
                "account_data": {"not_types": ["*"]}}

    # -- receiving ----------------------------------------------------------------

    async def run(self, sink: EventSink) -> None:
        """Sync until cancelled; any failure is logged and retried with backoff."""
        backoff = 0.5
        while True:
            try:
                await self._sync_once(sink)
                backoff = 0.5
                self.last_error = None
            except asyncio.CancelledError:
                raise
            except RetryLater as exc:
                self.last_error = str(exc)
                await asyncio.sleep(max(exc.retry_after, 0.1))
            except Exception as exc:  # never let one failure end the loop
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("matrix %s: sync failed (%s); retrying in %.1f s",
                            self.name, self.last_error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.settings.max_backoff)

    async def _sync_once(self, sink: EventSink) -> None:
        client = await self._client()
        since = self.state.get(SINCE)
        if since is None:
            await self._first_position(client, sink)
            return
        resp = await _guard(client.sync(
            timeout=int(self.settings.sync_timeout * 1000),
            sync_filter=self._filter(self.settings.timeline_limit),
            since=since,
            full_state=self._full_state,
        ))
        if isinstance(resp, ErrorResponse):
            raise _delivery_error(resp, "sync")
        events: list[Event] = []
        updates: dict[str, str] = {SINCE: resp.next_batch}
        rooms = list(resp.rooms.join.items()) + list(resp.rooms.leave.items())
        for room_id, info in rooms:
            if not self._allowed(room_id):
                continue
            raw = [e.source for e in info.timeline.events]
            raw = await self._close_gap(client, room_id, raw, info.timeline.limited,
                                        info.timeline.prev_batch)
            events.extend(await self._translate(client, room_id, raw))
            if raw:
                updates[LAST + room_id] = str(raw[-1]["event_id"])
        await self._commit(sink, events, updates)
        self._full_state = False
        await self._auto_join(client, resp)

    async def _first_position(self, client: Any, sink: EventSink) -> None:
        """Take the current position (and each room's newest event) without history."""
        resp = await _guard(client.sync(timeout=0, sync_filter=self._filter(1, fresh=True),
                                        full_state=True))
        if isinstance(resp, ErrorResponse):
            raise _delivery_error(resp, "sync")
        updates = {SINCE: resp.next_batch}
        for room_id, info in resp.rooms.join.items():
            if info.timeline.events:
                updates[LAST + room_id] = str(info.timeline.events[-1].source["event_id"])
        await self._commit(sink, [], updates)
        self._full_state = False
        await self._auto_join(client, resp)

    async def _commit(
        self, sink: EventSink, events: list[Event], updates: Mapping[str, str]
    ) -> None:
        fresh = [e for e in events if e.source_event_id not in self._seen]
        state = {**self.state, **updates}
        await sink(fresh, state)  # only now is the position ours
        self.state = state
        for e in fresh:
            self._seen[e.source_event_id] = None
        while len(self._seen) > _SEEN_MAX:
            self._seen.popitem(last=False)

    async def _close_gap(
        self, client: Any, room_id: str, raw: list[dict[str, Any]], limited: bool,
        prev_batch: str | None,
    ) -> list[dict[str, Any]]:
        """The timeline with what a ``limited`` sync left out paged back in front of it.

        A known room is paged back to its last stored event; a room new to the bot
        back to the bot's own join (earlier history is not ours to count).
        """
        last = self.state.get(LAST + room_id)
        ids = [str(e.get("event_id")) for e in raw]
        bot = self.settings.user_id

        def is_my_join(e: Mapping[str, Any]) -> bool:
            return (e.get("type") == "m.room.member" and e.get("state_key") == bot
                    and (e.get("content") or {}).get("membership") == "join")

        if last is not None and last in ids:
            return raw[ids.index(last) + 1:]
        if last is None:
            joins = [i for i, e in enumerate(raw) if is_my_join(e)]
            if joins:
                return raw[joins[-1]:]
        if not limited or not prev_batch:
            return raw
        older: list[dict[str, Any]] = []
        token: str | None = prev_batch
        while token and len(older) < self.settings.max_backfill:
            page = await _guard(client.room_messages(
                room_id, start=token, direction=MessageDirection.back, limit=_PAGE))
            if isinstance(page, ErrorResponse):
                raise _delivery_error(page, "room_messages")
            if not page.chunk:
                break
            for ev in page.chunk:
                src: dict[str, Any] = ev.source
                if last is not None and src.get("event_id") == last:
                    return older[::-1] + raw
                older.append(src)
                if last is None and is_my_join(src):
                    return older[::-1] + raw
            token = page.end if page.end != token else None
        if len(older) >= self.settings.max_backfill:
            log.warning("matrix %s: gap in %s longer than max_backfill=%d; older events skipped",
                        self.name, room_id, self.settings.max_backfill)
        return older[::-1] + raw

    async def _translate(self, client: Any, room_id: str, raw: Sequence[Mapping[str, Any]]
                         ) -> list[Event]:
        room = client.rooms.get(room_id)
        group = GroupRef(PLATFORM, room_id, (room.name if room is not None else None) or None)
        bot = self.settings.user_id

        def name_of(mxid: str) -> str | None:
            user = room.users.get(mxid) if room is not None else None
            return getattr(user, "display_name", None) or None

        out: list[Event] = []
        for ev in raw:
            if "event_id" not in ev or "sender" not in ev:
                continue
            inviter = None
            if ev.get("type") == "m.room.member":
                member = str(ev.get("state_key"))
                membership = (ev.get("content") or {}).get("membership")
                if membership == "invite":
                    self._inviters[(room_id, member)] = str(ev["sender"])
                elif membership == "join" and prev_membership(ev) == "invite":
                    inviter = await self._inviter(client, room_id, member, ev)
            out.extend(translate(ev, group, name_of, bot, inviter=inviter))
        return out

    async def _inviter(self, client: Any, room_id: str, member: str, ev: Mapping[str, Any]
                       ) -> str | None:
        """Who sent the invite this join accepted: remembered, or read back once."""
        known = self._inviters.pop((room_id, member), None)
        if known:
            return known
        replaced = (ev.get("unsigned") or {}).get("replaces_state")
        if not replaced:
            return None
        with contextlib.suppress(Exception):
            resp = await client.room_get_event(room_id, replaced)
            if not isinstance(resp, ErrorResponse):
                sender = resp.event.source.get("sender")
                return str(sender) if sender else None
        return None

    async def _auto_join(self, client: Any, resp: Any) -> None:
        if not self.settings.auto_join:
            return
        for room_id in resp.rooms.invite:
            if not self._allowed(room_id):
                continue
            joined = await _guard(client.join(room_id))
            if isinstance(joined, ErrorResponse):
                log.warning("matrix %s: could not join %s: %s", self.name, room_id, joined)

    # -- acting -------------------------------------------------------------------

    async def perform(self, action: Action) -> Receipt:
        if not self.supports(action):
            missing = ", ".join(sorted(c.value for c in _needed_missing(self, action)))
            raise Unsupported(f"matrix cannot {action.kind.value} ({missing})",
                              code="unsupported")
        client = await self._client()
        room, kind = action.chat, action.kind
        if kind is ActionKind.SEND:
            resp = await _guard(client.room_send(room, "m.room.message", send_content(action),
                                                 tx_id=txn_id(action.key)))
        elif kind is ActionKind.DELETE:
            if not action.message_id:
                raise Refused("a delete needs message_id", code="bad_request")
            resp = await _guard(client.room_redact(room, action.message_id, action.reason,
                                                   tx_id=txn_id(action.key)))
        elif kind in (ActionKind.KICK, ActionKind.BAN, ActionKind.UNBAN):
            if not action.target:
                raise Refused(f"a {kind.value} needs target (an mxid)", code="bad_request")
            if kind is ActionKind.KICK:
                resp = await _guard(client.room_kick(room, action.target, action.reason))
            elif kind is ActionKind.BAN:
                resp = await _guard(client.room_ban(room, action.target, action.reason))
            else:
                resp = await _guard(client.room_unban(room, action.target))
        elif kind in (ActionKind.SET_TITLE, ActionKind.SET_ANNOUNCEMENT):
            text = action.title if action.title is not None else (action.text or "")
            etype, content = (("m.room.name", {"name": text}) if kind is ActionKind.SET_TITLE
                              else ("m.room.topic", {"topic": text}))
            resp = await _guard(client.room_put_state(room, etype, content))
        else:  # pragma: no cover - supports() refused it above
            raise Unsupported(f"matrix cannot {kind.value}", code="unsupported")
        if isinstance(resp, ErrorResponse):
            raise _delivery_error(resp, kind.value)
        return Receipt(remote_id=getattr(resp, "event_id", None) or None)

    # -- checking -----------------------------------------------------------------

    async def check(self) -> CheckReport:
        try:
            client = await self._client()
            who = await _guard(client.whoami())
            if isinstance(who, ErrorResponse):
                raise _delivery_error(who, "whoami")
            joined = await _guard(client.joined_rooms())
            if isinstance(joined, ErrorResponse):
                raise _delivery_error(joined, "joined_rooms")
        except DeliveryError as exc:
            return CheckReport(ok=False, account=None, problems=(str(exc),))
        me = str(who.user_id)
        problems = []
        if me != self.settings.user_id:
            problems.append(f"the access token belongs to {me}, not to user_id "
                            f"{self.settings.user_id}; fix user_id")
        rooms = [r for r in joined.rooms if self._allowed(r)]
        problems += [f"the bot is not in room {r}, which is in rooms; invite it"
                     for r in self.settings.rooms if r not in joined.rooms]
        groups = []
        for room_id in rooms:
            levels = await _guard(client.room_get_state_event(room_id, "m.room.power_levels"))
            name = await _guard(client.room_get_state_event(room_id, "m.room.name"))
            title = None if isinstance(name, ErrorResponse) else name.content.get("name")
            if isinstance(levels, ErrorResponse):
                why = f"cannot read the power levels of {room_id}: {levels}"
                groups.append(GroupRights(room_id, title, frozenset(), (why,)))
                continue
            have, missing = rights(levels.content, me, room_id, self.capabilities)
            groups.append(GroupRights(room_id, title, have, missing))
        return CheckReport(ok=True, account=me, problems=tuple(problems), groups=tuple(groups))


_MD = MarkdownIt("commonmark", {"html": False})


def send_content(action: Action) -> dict[str, Any]:
    """An m.text message; markdown also as HTML; a reply as ``m.in_reply_to``."""
    text = action.text or ""
    content: dict[str, Any] = {"msgtype": "m.text", "body": text}
    if action.format == "markdown":
        content["format"] = "org.matrix.custom.html"
        content["formatted_body"] = _MD.render(text).strip()
    if action.reply_to:
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": action.reply_to}}
    return content


def txn_id(key: str) -> str:
    """The action key as a transaction id (a URL path segment), hashed if it is not one."""
    if _TXN_SAFE.match(key):
        return key
    return "q" + hashlib.sha256(key.encode()).hexdigest()[:40]


def _needed_missing(connector: Connector, action: Action) -> set[Capability]:
    from qunyun.connectors.base import needed

    return set(needed(action) - connector.capabilities)


async def _guard(awaitable: Any) -> Any:
    """Await a nio call; a network failure becomes :class:`Unreachable`."""
    try:
        return await awaitable
    except (aiohttp.ClientError, TimeoutError, ConnectionError, OSError) as exc:
        raise Unreachable(f"homeserver unreachable: {type(exc).__name__}: {exc}",
                          code="unreachable") from exc


def _delivery_error(resp: Any, what: str) -> DeliveryError:
    """Classify a Matrix error response (errcode and HTTP status)."""
    transport = getattr(resp, "transport_response", None)
    status = getattr(transport, "status", None)
    code = str(resp.status_code or "")
    message = f"matrix {what}: {code or status} {resp.message}".strip()
    if code == "M_LIMIT_EXCEEDED" or status == 429:
        # Synapse's rc_message counts per account, not per room: pause the bot.
        return RetryLater(message, (resp.retry_after_ms or 1000) / 1000, scope="bot")
    if status is None or status >= 500:
        return Unreachable(message, code="unreachable")
    if code == "M_FORBIDDEN":
        return Refused(message, code="forbidden")
    if code == "M_UNKNOWN_TOKEN":
        return Refused(message + " (the access token is invalid or was logged out)",
                       code="unknown_token")
    return Refused(message, code=code.lower().removeprefix("m_") or f"http_{status}")
