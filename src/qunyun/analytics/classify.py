"""What a message *is* for the metrics: effective, a question, a check-in.

One place for these definitions (docs/metrics.md states them in words) so that
rollups, metrics and reports can never disagree about what counted.
"""

from __future__ import annotations

import re
from typing import Any

#: message types that carry no content of their own
NON_CONTENT_TYPES = frozenset({"sticker", "emoji", "call", "other"})

#: words that, alone, make a check-in rather than a conversation
CHECKIN_WORDS = frozenset(
    {
        "打卡",
        "签到",
        "已打卡",
        "已签到",
        "今日打卡",
        "今日签到",
        "打卡打卡",
        "签到签到",
        "打卡了",
        "签到了",
        "来打卡",
        "来签到",
        "check in",
        "check-in",
        "checkin",
        "checked in",
        "present",
        "+1",
        "1",
    }
)

# Bare emoji / platform emoticons / punctuation: nothing a human would call a message.
_BRACKET_EMOTICON = re.compile(r"\[[^\[\]\s]{1,8}\]|/[:：][^\s]{1,6}")
_WORD_CHAR = re.compile(r"[^\W_]")
# Two patterns rather than one alternation: the Chinese words cannot occur in ASCII
# text (most English messages skip that scan), and the English words count only at the
# start, so they are matched there instead of searched for at every position.
_QUESTION_WORDS_ZH = re.compile(
    r"吗|么[?？]?$|怎么|如何|请问|为什么|为啥|是不是|能不能|可不可以|有没有|哪里|哪个|哪位|多少"
)
_QUESTION_WORDS_EN = re.compile(
    r"(?i:how|what|why|where|when|who|which|can|could|does|do|is|are|anyone|any)\b"
)


def _has_words(text: str) -> bool:
    if "[" in text or "/" in text:
        text = _BRACKET_EMOTICON.sub("", text)
    return _WORD_CHAR.search(text) is not None


def is_checkin(text: str) -> bool:
    t = text.strip().lower().rstrip("!！~～。.")
    return t in CHECKIN_WORDS


def is_effective(payload: dict[str, Any]) -> bool:
    """A human contribution: not a sticker, bare emoji, empty text or a check-in.

    (Bots and system messages are excluded by the caller, which knows the actor.)
    """
    return is_effective_text(payload.get("type", "text"), payload.get("text") or "")


def is_effective_text(mtype: str | None, text: str) -> bool:
    """:func:`is_effective` of a payload with this type and text (no type: a text)."""
    if mtype in NON_CONTENT_TYPES:
        return False
    if mtype in ("text", "reply", "forward") or not mtype:
        if not _has_words(text):
            return False
        if len(text) <= 16 and is_checkin(text):
            return False
    return True


def is_question(text: str) -> bool:
    """A question by the CHAOSS-style rule: ends with ?/？ or asks in words (吗, 怎么, how …)."""
    t = text.strip()
    if not t:
        return False
    if t.endswith(("?", "？")):
        return True
    if not t.isascii() and _QUESTION_WORDS_ZH.search(t) is not None:
        return True
    return _QUESTION_WORDS_EN.match(t) is not None
