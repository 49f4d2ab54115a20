"""Other people on a real Synapse, over plain client-server HTTP (not through nio).

The driver talks HTTP itself so the connector under test and the test's own view
of the room do not share a library's mistakes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from qunyun.testing.synapse import MatrixUser, SynapseServer

API = "/_matrix/client/v3"


@dataclass
class Accounts:
    """Users registered once per session, by short name."""

    server: SynapseServer
    users: dict[str, MatrixUser] = field(default_factory=dict)

    def __call__(self, name: str, *, admin: bool = False) -> MatrixUser:
        if name not in self.users:
            self.users[name] = self.server.register(name, admin=admin)
        return self.users[name]


class SynapseDriver:
    """Implements tests.connectors.contract.PlatformDriver, plus Matrix extras."""

    def __init__(self, server: SynapseServer, accounts: Accounts, bot: str = "qbot") -> None:
        self.server = server
        self.accounts = accounts
        self.bot = bot
        self.http = httpx.AsyncClient(timeout=30)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def call(
        self, user: str, method: str, path: str, body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        token = self.accounts(user).access_token
        r = await self.http.request(
            method, self.server.url + API + path, json=body, params=params,
            headers={"Authorization": f"Bearer {token}"},
        )
        if r.status_code >= 400:
            raise AssertionError(f"{method} {path} as {user}: {r.status_code} {r.text}")
        data: dict[str, Any] = r.json()
        return data

    def mxid(self, user: str) -> str:
        return self.accounts(user).user_id

    async def new_group(self, title: str, *, bot: str | None = None, bot_level: int = 50) -> str:
        bot = bot or self.bot
        bot_id = self.mxid(bot)
        room = await self.call("owner", "POST", "/createRoom", {
            "name": title,
            "preset": "public_chat",
            "invite": [bot_id],
            "power_level_content_override": {"users": {bot_id: bot_level}},
        })
        room_id = str(room["room_id"])
        await self.call(bot, "POST", f"/join/{quote(room_id)}", {})
        return room_id

    async def join(self, chat: str, user: str) -> str:
        await self.call(user, "POST", f"/join/{quote(chat)}", {})
        return self.mxid(user)

    async def send(self, chat: str, user: str, etype: str, content: dict[str, Any]) -> str:
        path = f"/rooms/{quote(chat)}/send/{etype}/{uuid.uuid4().hex}"
        return str((await self.call(user, "PUT", path, content))["event_id"])

    async def say(self, chat: str, user: str, text: str) -> str:
        return await self.send(chat, user, "m.room.message", {"msgtype": "m.text", "body": text})

    async def put_state(self, chat: str, user: str, etype: str, content: dict[str, Any],
                        state_key: str = "") -> str:
        path = f"/rooms/{quote(chat)}/state/{etype}/{quote(state_key)}"
        return str((await self.call(user, "PUT", path, content))["event_id"])

    async def get_state(self, chat: str, user: str, etype: str, state_key: str = ""
                        ) -> dict[str, Any]:
        path = f"/rooms/{quote(chat)}/state/{etype}/{quote(state_key)}"
        return await self.call(user, "GET", path)

    async def leave(self, chat: str, user: str) -> None:
        await self.call(user, "POST", f"/rooms/{quote(chat)}/leave", {})

    async def membership(self, chat: str, user: str, by: str = "owner") -> str:
        who = user if user.startswith("@") else self.mxid(user)
        try:
            state = await self.get_state(chat, by, "m.room.member", who)
        except AssertionError:
            return "none"
        return str(state.get("membership"))

    async def is_member(self, chat: str, user: str) -> bool:
        return await self.membership(chat, user) == "join"

    async def messages(self, chat: str, by: str = "owner") -> list[dict[str, Any]]:
        """Every event of the room, oldest first."""
        got = await self.call(by, "GET", f"/rooms/{quote(chat)}/messages",
                              params={"dir": "b", "limit": 1000})
        return list(reversed(got["chunk"]))

    async def bot_messages(self, chat: str) -> list[str]:
        bot = self.mxid(self.bot)
        return [
            str(e["content"].get("body", ""))
            for e in await self.messages(chat)
            if e["type"] == "m.room.message" and e["sender"] == bot
        ]
