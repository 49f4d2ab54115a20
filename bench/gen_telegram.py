"""Generate a realistic Telegram Desktop single-chat ``result.json`` of N messages.

The file is written as a stream (never built in memory) in the exact shape
Telegram Desktop's JSON exporter writes: the chat's ``name``/``type``/``id``
first, then ``messages`` with ``date`` (local ISO time) and ``date_unixtime``,
``from``/``from_id``, ``text`` as a string or a list of strings and entity
objects, ``text_entities``, replies, edits, media, reactions and service
messages (joins by link, invites, removals, pins, title changes).
Deterministic for a given ``--seed`` so benchmark runs are comparable.

    python bench/gen_telegram.py --messages 1000000 --out /tmp/tg/result.json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

START = datetime(2021, 3, 1, 8, 0, tzinfo=UTC)
CHAT_ID = 1522334455
WORDS = (
    "hello",
    "大家好",
    "请问",
    "meetup",
    "tonight",
    "明天",
    "几点",
    "python",
    "release",
    "群主",
    "链接",
    "thanks",
    "收到",
    "ok",
    "docs",
    "issue",
    "bug",
    "fixed",
    "新人",
    "报到",
    "welcome",
    "price",
    "价格",
    "活动",
    "报名",
    "周末",
    "deploy",
    "server",
)
EMOJI = ("👍", "❤", "🔥", "😁", "🎉", "🤔")


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=1)


class Gen:
    """Holds the evolving chat state: members, next id, clock."""

    def __init__(self, seed: int, n: int) -> None:
        self.rng = random.Random(seed)
        self.n = n
        self.msg_id = 0
        self.t = START
        self.members: list[tuple[int, str]] = []
        self.next_user = 100000
        for _ in range(20):
            self.members.append(self._new_user())

    def _new_user(self) -> tuple[int, str]:
        self.next_user += self.rng.randint(1, 977)
        uid = 5_000_000_000 + self.next_user
        return uid, f"User {self.next_user % 100000}"

    def _base(self, kind: str) -> dict[str, Any]:
        self.msg_id += 1
        self.t += timedelta(seconds=self.rng.randint(1, 240))
        local = self.t + timedelta(hours=8)  # the exporting PC was in UTC+8
        return {
            "id": self.msg_id,
            "type": kind,
            "date": local.strftime("%Y-%m-%dT%H:%M:%S"),
            "date_unixtime": str(int(self.t.timestamp())),
        }

    def _text(self) -> tuple[Any, list[dict[str, Any]]]:
        r = self.rng
        words = " ".join(r.choice(WORDS) for _ in range(r.randint(2, 14)))
        roll = r.random()
        if roll < 0.75:
            return words, [{"type": "plain", "text": words}]
        uid, name = r.choice(self.members)
        parts: list[dict[str, Any]] = [{"type": "plain", "text": words + " "}]
        if roll < 0.85:
            parts.append({"type": "link", "text": f"https://example.org/p/{r.randint(1, 99999)}"})
        elif roll < 0.92:
            parts.append({"type": "mention_name", "text": name, "user_id": uid})
        elif roll < 0.96:
            parts.append({"type": "bold", "text": r.choice(WORDS)})
            parts.append({"type": "text_link", "text": "here", "href": "https://t.me/c/1/2"})
        else:
            parts.append({"type": "mention", "text": f"@user{uid % 9999}"})
            parts.append({"type": "hashtag", "text": "#news"})
        text = [p["text"] if p["type"] == "plain" else p for p in parts]
        return text, parts

    def message(self) -> dict[str, Any]:
        r = self.rng
        m = self._base("message")
        uid, name = r.choice(self.members)
        m["from"] = name
        m["from_id"] = f"user{uid}"
        if r.random() < 0.1 and self.msg_id > 2:
            m["reply_to_message_id"] = r.randint(max(1, self.msg_id - 50), self.msg_id - 1)
        roll = r.random()
        if roll < 0.05:
            m["photo"] = f"photos/photo_{self.msg_id}@01-03-2021_08-00-00.jpg"
            m["width"], m["height"] = 1280, 960
        elif roll < 0.08:
            m["file"] = "(File not included. Change data exporting settings to download.)"
            m["media_type"] = "sticker"
            m["sticker_emoji"] = r.choice(EMOJI)
            m["width"], m["height"] = 512, 512
        elif roll < 0.09:
            m["file"] = f"voice_messages/audio_{self.msg_id}.ogg"
            m["media_type"] = "voice_message"
            m["mime_type"] = "audio/ogg"
            m["duration_seconds"] = r.randint(1, 60)
        if r.random() < 0.03:
            m["edited"] = m["date"]
            m["edited_unixtime"] = m["date_unixtime"]
        text, entities = ("", []) if "file" in m and roll >= 0.05 else self._text()
        m["text"] = text
        m["text_entities"] = entities
        if r.random() < 0.05:
            ruid, rname = r.choice(self.members)
            m["reactions"] = [
                {
                    "type": "emoji",
                    "count": 1,
                    "emoji": r.choice(EMOJI),
                    "recent": [{"from": rname, "from_id": f"user{ruid}", "date": m["date"]}],
                }
            ]
        return m

    def service(self) -> dict[str, Any]:
        r = self.rng
        m = self._base("service")
        roll = r.random()
        if roll < 0.5:
            uid, name = self._new_user()
            self.members.append((uid, name))
            m.update(
                actor=name, actor_id=f"user{uid}", action="join_group_by_link", inviter="Group"
            )
        elif roll < 0.8:
            inv_uid, inv = r.choice(self.members)
            new = [self._new_user() for _ in range(r.randint(1, 3))]
            self.members.extend(new)
            m.update(
                actor=inv,
                actor_id=f"user{inv_uid}",
                action="invite_members",
                members=[n for _, n in new],
            )
        elif roll < 0.95 and len(self.members) > 10:
            uid, name = self.members.pop(r.randrange(len(self.members)))
            if r.random() < 0.5:  # left by themself
                m.update(actor=name, actor_id=f"user{uid}", action="remove_members", members=[name])
            else:  # removed by an admin
                admin_uid, admin = self.members[0]
                m.update(
                    actor=admin,
                    actor_id=f"user{admin_uid}",
                    action="remove_members",
                    members=[name],
                )
        else:
            uid, name = r.choice(self.members)
            m.update(
                actor=name,
                actor_id=f"user{uid}",
                action="pin_message",
                message_id=max(1, self.msg_id - 1),
            )
        m["text"] = ""
        m["text_entities"] = []
        return m

    def write(self, out: TextIO) -> None:
        out.write('{\n "name": "Bench 社群",\n "type": "private_supergroup",\n')
        out.write(f' "id": {CHAT_ID},\n "messages": [')
        for i in range(self.n):
            rec = self.service() if self.rng.random() < 0.02 else self.message()
            out.write(("\n  " if i == 0 else ",\n  ") + _dumps(rec).replace("\n", "\n  "))
        out.write("\n ]\n}\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", "-n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", "-o", type=Path, required=True)
    args = ap.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8", buffering=1 << 20) as fh:
        Gen(args.seed, args.messages).write(fh)
    print(
        json.dumps(
            {"messages": args.messages, "path": str(args.out), "bytes": args.out.stat().st_size}
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
