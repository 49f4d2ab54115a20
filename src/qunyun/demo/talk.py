"""What one group says: the payload of each human message.

A :class:`Talk` is made per group and holds that group's text pools, media
names, and a little conversational memory (the last question, the last eight
messages) so answers, replies and mentions point at real earlier messages and
people. Each message kind is one small method; the generator picks one through
a 128-slot table with a single ``getrandbits(7)``, which keeps the mix exact
and the per-message cost to a lookup and a call.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from qunyun.demo.plan import GroupPlan
from qunyun.demo.texts import DISCORD_EMOJI, HEX, PLAIN_EMOJI, WECHAT_EMOJI, Pools

Payload = dict[str, Any]
Maker = Callable[[int, float, str], Payload]

#: Slots out of 128 per message kind (the rest is plain chat).
MIX = {
    "question": 12,
    "answer": 10,
    "reply": 12,
    "greet": 5,
    "emoji": 8,
    "sticker": 6,
    "image": 10,
    "link": 5,
    "mention": 6,
    "voice": 3,
    "file": 1,
    "video": 2,
}
CHECKIN_SLOTS = 16
RING = 8


class Talk:
    """Message payload makers for one group."""

    def __init__(self, rng: random.Random, g: GroupPlan, pools: Pools) -> None:
        self.rnd = rng.random
        self.platform = g.platform
        self.pools = pools.texts
        self.links = pools.links
        self.names = [m.ident.display_name or m.ident.external_id for m in g.members]
        self.recent_ids = [""] * RING
        self.recent_auth = [-1] * RING
        self.pos = 0
        self.last_q = ""
        self.last_q_auth = -1
        self.images = _media_names(rng, g.platform)
        self.table = self._table(g)

    def _table(self, g: GroupPlan) -> list[Maker]:
        slots: list[Maker] = []
        for kind, n in MIX.items():
            if kind == "voice" and g.platform == "discord":
                continue
            slots += [getattr(self, kind)] * n
        if g.checkin:
            slots += [self.checkin] * CHECKIN_SLOTS
        slots += [self.chat] * (128 - len(slots))
        rnd = random.Random(g.index)
        rnd.shuffle(slots)
        return slots

    def note(self, i: int, sid: str) -> None:
        """Remember a message so later replies and mentions can point at it."""
        p = self.pos = (self.pos + 1) & (RING - 1)
        self.recent_ids[p] = sid
        self.recent_auth[p] = i

    def _pick(self, seq: tuple[str, ...]) -> str:
        return seq[int(self.rnd() * len(seq))]

    def _recent(self, i: int) -> int:
        """Index into the ring of a recent message by someone else, or -1."""
        j = (self.pos - int(self.rnd() * 4)) & (RING - 1)
        a = self.recent_auth[j]
        return j if a >= 0 and a != i else -1

    def chat(self, i: int, t: float, sid: str) -> Payload:
        return {"text": self._pick(self.pools["chat"]), "type": "text"}

    def question(self, i: int, t: float, sid: str) -> Payload:
        self.last_q, self.last_q_auth = sid, i
        return {"text": self._pick(self.pools["question"]), "type": "text"}

    def answer(self, i: int, t: float, sid: str) -> Payload:
        if not self.last_q or self.last_q_auth == i:
            return self.chat(i, t, sid)
        return {"text": self._pick(self.pools["answer"]), "type": "text", "reply_to": self.last_q}

    def reply(self, i: int, t: float, sid: str) -> Payload:
        j = self._recent(i)
        if j < 0:
            return self.chat(i, t, sid)
        text = self._pick(self.pools["reply"])
        return {"text": text, "type": "text", "reply_to": self.recent_ids[j]}

    def mention(self, i: int, t: float, sid: str) -> Payload:
        j = self._recent(i)
        if j < 0:
            return self.chat(i, t, sid)
        name = self.names[self.recent_auth[j]]
        body = self._pick(self.pools["mention"])
        return {"text": f"@{name} {body}", "type": "text", "mentions": [name]}

    def checkin(self, i: int, t: float, sid: str) -> Payload:
        return {"text": self._pick(self.pools["checkin"]), "type": "text"}

    def greet(self, i: int, t: float, sid: str) -> Payload:
        hour = int((t + 28800.0) % 86400.0) // 3600
        if 5 <= hour < 11:
            return {"text": self._pick(self.pools["morning"]), "type": "text"}
        if hour >= 21 or hour < 2:
            return {"text": self._pick(self.pools["evening"]), "type": "text"}
        return self.chat(i, t, sid)

    def emoji(self, i: int, t: float, sid: str) -> Payload:
        if self.platform == "wechat":
            return {"text": self._pick(WECHAT_EMOJI), "type": "emoji"}
        if self.platform == "discord":
            return {"text": self._pick(DISCORD_EMOJI), "type": "emoji"}
        return {"text": self._pick(PLAIN_EMOJI), "type": "text"}

    def sticker(self, i: int, t: float, sid: str) -> Payload:
        if self.platform == "wechat":
            return {"text": "[动画表情]", "type": "sticker"}
        if self.platform == "telegram":
            return {"text": self._pick(PLAIN_EMOJI), "type": "sticker", "media": "sticker.webp"}
        return {"type": "sticker", "media": self._pick(("Wave", "Hi", "Thumbs up", "Party"))}

    def image(self, i: int, t: float, sid: str) -> Payload:
        media = self._pick(self.images)
        if self.platform == "wechat":
            return {"text": "[图片]", "type": "image", "media": media}
        if self.rnd() < 0.2:
            return {"text": self._pick(self.pools["chat"]), "type": "image", "media": media}
        return {"type": "image", "media": media}

    def link(self, i: int, t: float, sid: str) -> Payload:
        title, url = self.links[int(self.rnd() * len(self.links))]
        if self.platform == "wechat":
            return {"text": title, "type": "link", "urls": [url]}
        return {"text": f"{title} {url}", "type": "text", "urls": [url]}

    def voice(self, i: int, t: float, sid: str) -> Payload:
        if self.platform == "wechat":
            return {"text": "[语音]", "type": "voice"}
        return {"type": "voice", "media": "voice_messages/audio.ogg"}

    def file(self, i: int, t: float, sid: str) -> Payload:
        name = self._pick(self.pools["file"])
        if self.platform == "wechat":
            return {"text": f"[文件] {name}", "type": "file", "media": name}
        return {"type": "file", "media": name}

    def video(self, i: int, t: float, sid: str) -> Payload:
        if self.platform == "wechat":
            return {"text": "[视频]", "type": "video"}
        return {"type": "video", "media": self._pick(self.images).rsplit(".", 1)[0] + ".mp4"}


def _media_names(rng: random.Random, platform: str) -> tuple[str, ...]:
    if platform == "wechat":
        return tuple("".join(rng.choices(HEX, k=32)) + ".jpg" for _ in range(48))
    if platform == "telegram":
        return tuple(f"photos/photo_{rng.randint(1, 9999)}.jpg" for _ in range(48))
    return tuple(f"IMG_{rng.randint(1000, 9999)}.png" for _ in range(48))
