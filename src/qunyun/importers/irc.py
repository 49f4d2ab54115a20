"""IRC channel logs (irssi, WeeChat, ZNC, irclogs.ubuntu.com) → events.

IRC has no message ids and no stable account ids: **the identity is the nick**
(lower-cased, as IRC compares nicks case-insensitively; the display name keeps
the spelling). A nick change becomes a ``Kind.RENAME`` event whose actor is the
old nick and target the new one, so the store can link the two identities.

One log file covers one channel. The group is ``options.group`` if given, else the
channel name from the file name or path (``#chan.log``,
``irc.libera.#chan.weechatlog``, ZNC's ``#chan/2024-01-01.log`` or
``libera_#chan_20240101.log``, Ubuntu's ``…/2024/01/01/#ubuntu.txt``), lower-cased.

Most logs carry only wall-clock times; ``options.tz`` turns them into instants.
The date comes from the line (WeeChat), a ``--- Log opened``/``--- Day changed``
line (irssi) or the file name/path (ZNC, Ubuntu). ``source_event_id`` is
``"<channel>:<stable_id(...)>"`` over the channel, the time, the kind, the nick and
the text, plus an occurrence counter so that two identical lines in the same
minute stay two events — and come out the same on a re-import.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from urllib.parse import unquote

from qunyun.errors import ImportFormatError
from qunyun.events import Event, GroupRef, IdentityRef, JoinMethod, Kind, MsgType
from qunyun.importers.base import (
    CountingReader,
    ImportOptions,
    InputFile,
    LazyPosition,
    Record,
    Rejected,
    SourceFile,
    find_mentions,
    find_urls,
    list_inputs,
    stable_id,
    time_key,
)

PLATFORM = "irc"
_TEXT_EXT = (".log", ".txt", ".weechatlog")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_MODE_CHARS = " @+%~&!"
#: Network services and the Ubuntu channels' logging and factoid bots: their lines are
#: bot messages (counted as messages, never as a member's activity, docs/metrics.md).
_BOTS = frozenset(
    [
        "chanserv",
        "nickserv",
        "operserv",
        "memoserv",
        "botserv",
        "hostserv",
        "saslserv",
        "global",
        "alis",
        "frigg",
        "ubottu",
        "ubotu",
        "ubot2",
        "ubot3",
        "ubot4",
        "ubot5",
        "ubotwo",
        "lubotu1",
        "lubotu2",
        "lubotu3",
        "ubuntulog",
        "meetingology",
        "mootbot",
    ]
)


def is_bot(nick: str) -> bool:
    """A service or a known channel bot; ZNC's ``*status``-style module nicks too
    (``*`` cannot start a real nick)."""
    return nick.startswith("*") or nick.lower() in _BOTS


@dataclass
class _Line:
    """One parsed log line, whatever the client wrote."""

    kind: str  # msg action notice join part quit kick nick topic mode day skip
    hms: tuple[int, int, int] | None = None
    day: date | None = None
    nick: str = ""
    other: str = ""  # new nick, kicked nick
    text: str = ""
    host: str = ""
    nicks: list[str] = field(default_factory=list)  # netsplit quits


Parser = Callable[[str], "_Line | None"]


# --------------------------------------------------------------------------- dialects


def _hms(h: str | None, m: str | None, s: str | None = None) -> tuple[int, int, int]:
    return int(h or 0), int(m or 0), int(s or 0)


def _nick(raw: str) -> str:
    """Drop mode prefixes and the stray spaces some log generators put after ``]``."""
    return raw.replace(" ", "").lstrip(_MODE_CHARS[1:])


_IRSSI_OPEN = re.compile(r"^--- Log opened \w{3} (\w{3}) +(\d{1,2}) [\d:]{8} (\d{4})\s*$")
_IRSSI_DAY = re.compile(r"^--- Day changed \w{3} (\w{3}) +(\d{1,2}) (\d{4})\s*$")
#: irssi's ``log_timestamp``: ``HH:MM`` by default, often ``HH:MM:SS``, sometimes in
#: brackets or after a date (``%Y-%m-%d %H:%M:%S``, ``[%H:%M:%S]``).
_IRSSI_TIME = re.compile(
    r"^(\[)?(?:(\d{4})-(\d\d)-(\d\d)[ T])?(\d\d):(\d\d)(?::(\d\d))?(?(1)\]) (.*)$"
)
#: ``[user@host]`` may itself hold brackets (``~[m0rph]@host``: an ident is any
#: printable text), so a host runs lazily up to the ``] has …`` that follows it.
_IRSSI_SYS = [
    ("join", re.compile(r"^(\S+) \[(.*?)\] has joined (\S+)(?:\s.*)?$")),
    ("part", re.compile(r"^(\S+) \[(.*?)\] has left (\S+)(?: \[(.*)\])?\s*$")),
    ("quit", re.compile(r"^(\S+) \[(.*?)\] has quit(?: \[(.*)\])?\s*$")),
    ("kick", re.compile(r"^(\S+) was kicked from (\S+) by (\S+)(?: \[(.*)\])?\s*$")),
    ("nick", re.compile(r"^(\S+) is now known as (\S+)\s*$")),
    ("topic", re.compile(r"^(\S+) changed the topic of (\S+) to: ?(.*)$")),
    ("mode", re.compile(r"^mode/(\S+) \[(.*)\] by (\S+)\s*$")),
    ("netsplit", re.compile(r"^Netsplit \S+ <-> \S+ quits: (.*)$")),
    ("netjoin", re.compile(r"^Netsplit over, joins: (.*)$")),
]
_MORE_RE = re.compile(r"\s*\(\+\d+ more, use /NETSPLIT to show all of them\)\s*$")


def _irssi(line: str) -> _Line | None:
    if m := _IRSSI_OPEN.match(line) or _IRSSI_DAY.match(line):
        month = _MONTHS.get(m.group(1))
        return _Line("day", day=date(int(m.group(3)), month, int(m.group(2)))) if month else None
    if line.startswith("--- "):
        return _Line("skip")
    m = _IRSSI_TIME.match(line)
    if m is None:
        return None
    g = m.groups()
    hms, rest = _hms(g[4], g[5], g[6]), g[7]
    day = _date(g[1], g[2], g[3]) if g[1] else None
    parsed = _irssi_rest(hms, rest)
    if parsed is not None and day is not None:
        parsed.day = day
    return parsed


def _date(y: str, m: str, d: str) -> date | None:
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        return None


def _irssi_rest(hms: tuple[int, int, int], rest: str) -> _Line | None:
    if mm := re.match(r"^<([ @+%~&!]?)([^>]+)> ?(.*)$", rest):
        return _Line("msg", hms, nick=_nick(mm.group(2)), text=mm.group(3))
    if mm := re.match(r"^\s?\*\s(\S+) ?(.*)$", rest):
        return _Line("action", hms, nick=_nick(mm.group(1)), text=mm.group(2))
    if rest.startswith("-!- "):
        return _irssi_system(hms, rest[4:])
    if rest.startswith("*** "):  # "[HH:MM:SS] <nick>" is ZNC's look too: read its system lines
        return _znc_system(hms, rest[4:])
    if rest.startswith(("Connected to IRC", "Disconnected from IRC", "Broadcast:")):
        return _Line("skip", hms)
    if mm := _NOTICE.match(rest):
        return _Line("notice", hms, nick=_nick(mm.group(1)), text=mm.group(2) or "")
    return None


#: A channel notice as irssi, ZNC and the Ubuntu logger write it: ``-nick- text`` or
#: ``-nick:#chan- text``. Nicks may hold ``-`` themselves (``-foo-bar:#x- hi``).
_NOTICE = re.compile(r"^-([^\s:!][^\s:]*?)(?::[#&!+][^\s]*?)?-(?: (.*))?$")


def _irssi_system(hms: tuple[int, int, int], rest: str) -> _Line | None:
    for kind, rx in _IRSSI_SYS:
        m = rx.match(rest)
        if m is None:
            continue
        g = m.groups()
        if kind == "join":
            return _Line("join", hms, nick=g[0], host=g[1])
        if kind == "part":
            return _Line("part", hms, nick=g[0], host=g[1], text=g[3] or "")
        if kind == "quit":
            return _Line("quit", hms, nick=g[0], host=g[1], text=g[2] or "")
        if kind == "kick":
            return _Line("kick", hms, nick=g[2], other=g[0], text=g[3] or "")
        if kind == "nick":
            return _Line("nick", hms, nick=g[0], other=g[1])
        if kind == "topic":
            return _Line("topic", hms, nick=g[0], text=g[2])
        if kind == "mode":
            return _Line("mode", hms, nick=g[2], text=g[1])
        parsed = _netsplit(kind, g[0])
        parsed.hms = hms
        return parsed
    if _SYSTEM_WORDS.search(rest):
        return None  # a membership line in a shape not read above: reported
    return _Line("skip")  # Irssi: …, ServerMode, your own nick change …


def _netsplit(kind: str, names: str) -> _Line:
    """irssi's netsplit summary: one quit (or, when it is over, one join) per nick."""
    nicks = [n.strip() for n in _MORE_RE.sub("", names).split(",") if n.strip()]
    if kind == "netjoin":
        return _Line("join", text="Netsplit over", nicks=nicks)
    return _Line("quit", text="Netsplit", nicks=nicks)


_WEE = re.compile(r"^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\t([^\t]*)\t(.*)$")
_WEE_JOIN = re.compile(r"^(\S+) (?:\((.*?)\) )?has joined (\S+)")
_WEE_PART = re.compile(r"^(\S+) (?:\((.*?)\) )?has left (\S+)(?: \((.*)\))?\s*$")
_WEE_QUIT = re.compile(r"^(\S+) (?:\((.*?)\) )?has quit(?: \((.*)\))?\s*$")
_WEE_KICK = re.compile(r"^(\S+) has kicked (\S+)(?: \((.*)\))?\s*$")
_WEE_NICK = re.compile(r"^(\S+) is now known as (\S+)\s*$")
#: A translated WeeChat (``weechat -l fr``: "a rejoint", "hat … betreten") still writes
#: the ``-->``/``<--`` prefixes and puts the nick first, the host in parentheses.
_WEE_ANY = re.compile(r"^(\S+)(?: \((.*?)\))?(?: (.*))?$")
_WEE_NOTICE = re.compile(r"^Notice\(([^)\s]+)\)(?: -> \S+)?: ?(.*)$")
_WEE_TOPIC = re.compile(r'^(\S+) has changed topic for (\S+) (?:from ".*" )?to "(.*)"\s*$')
_WEE_UNSET = re.compile(r"^(\S+) has unset topic for (\S+)")
_WEE_MODE = re.compile(r"^Mode (\S+) \[(.*)\] by (\S+)\s*$")


def _weechat(line: str) -> _Line | None:
    m = _WEE.match(line)
    if m is None:
        return None
    g = m.groups()
    day = date(int(g[0]), int(g[1]), int(g[2]))
    hms = _hms(g[3], g[4], g[5])
    prefix, rest = g[6].strip(), g[7]
    parsed = _weechat_prefixed(prefix, rest)
    if parsed is None:
        return None
    parsed.day, parsed.hms = day, hms
    return parsed


def _weechat_prefixed(prefix: str, rest: str) -> _Line | None:
    if prefix == "-->":
        return _weechat_join(rest)
    if prefix == "<--":
        return _weechat_exit(rest)
    if prefix == "--":
        if m := _WEE_NICK.match(rest):
            return _Line("nick", nick=m.group(1), other=m.group(2))
        if m := _WEE_TOPIC.match(rest):
            return _Line("topic", nick=m.group(1), text=m.group(3))
        if m := _WEE_UNSET.match(rest):
            return _Line("topic", nick=m.group(1))
        if m := _WEE_MODE.match(rest):
            return _Line("mode", nick=m.group(3), text=m.group(2))
        if m := _WEE_NOTICE.match(rest):
            return _Line("notice", nick=_nick(m.group(1)), text=m.group(2))
        return _Line("skip")
    if prefix == "*":
        nick, _, text = rest.partition(" ")
        return _Line("action", nick=_nick(nick), text=text)
    if prefix in ("", "=!=", "-", "--"):
        return _Line("skip")
    if prefix.startswith("-") and prefix.endswith("-"):
        return _Line("notice", nick=_nick(prefix.strip("-")), text=rest)
    return _Line("msg", nick=_nick(prefix), text=rest)


def _weechat_join(rest: str) -> _Line | None:
    """``-->`` is always a join, whatever language the words after the nick are in."""
    m = _WEE_JOIN.match(rest) or _WEE_ANY.match(rest)
    return _Line("join", nick=m.group(1), host=m.group(2) or "") if m else None


def _weechat_exit(rest: str) -> _Line | None:
    """``<--``: a part, a quit or a kick. A translated line is a part when it names a
    channel and a quit otherwise, if it shows the member's host (a kick line has none);
    without a host it cannot be told from a kick and is rejected (None)."""
    if m := _WEE_PART.match(rest):
        return _Line("part", nick=m.group(1), host=m.group(2) or "", text=m.group(4) or "")
    if m := _WEE_QUIT.match(rest):
        return _Line("quit", nick=m.group(1), host=m.group(2) or "", text=m.group(3) or "")
    if m := _WEE_KICK.match(rest):
        return _Line("kick", nick=m.group(1), other=m.group(2), text=m.group(3) or "")
    m = _WEE_ANY.match(rest)
    if m is None or m.group(2) is None:
        return None
    words = m.group(3) or ""
    reason = re.search(r"\((.*)\)\s*$", words)
    kind = "part" if re.search(r"(?:^|\s)[#&!+]\S", words) else "quit"
    return _Line(kind, nick=m.group(1), host=m.group(2), text=reason.group(1) if reason else "")


_ZNC = re.compile(r"^\[(?:(\d{4})-(\d\d)-(\d\d)[ T])?(\d\d):(\d\d):(\d\d)\] (.*)$")
_ZNC_SYS = [
    ("join", re.compile(r"^Joins: (\S+)(?: \((.*?)\))?\s*$")),
    ("part", re.compile(r"^Parts: (\S+)(?: \((.*?)\))?(?: \((.*)\))?\s*$")),
    ("quit", re.compile(r"^Quits: (\S+)(?: \((.*?)\))?(?: \((.*)\))?\s*$")),
    ("kick", re.compile(r"^(\S+) was kicked by (\S+)(?: \((.*)\))?\s*$")),
    ("nick", re.compile(r"^(\S+) is now known as (\S+)\s*$")),
    ("topic", re.compile(r"^(\S+) changes topic to '(.*)'\s*$")),
    ("mode", re.compile(r"^(\S+) sets mode: (.*)$")),
]


def _znc(line: str) -> _Line | None:
    m = _ZNC.match(line)
    if m is None:
        return None
    g = m.groups()
    parsed = _znc_rest(_hms(g[3], g[4], g[5]), g[6])
    if parsed is not None and g[0]:
        parsed.day = _date(g[0], g[1], g[2])
    return parsed


def _znc_rest(hms: tuple[int, int, int], rest: str) -> _Line | None:
    if rest.startswith("*** "):
        return _znc_system(hms, rest[4:])
    if mm := re.match(r"^<([^>]+)> ?(.*)$", rest):
        return _Line("msg", hms, nick=_nick(mm.group(1)), text=mm.group(2))
    if mm := re.match(r"^\* (\S+) ?(.*)$", rest):
        return _Line("action", hms, nick=_nick(mm.group(1)), text=mm.group(2))
    if mm := re.match(r"^-(\S+)- ?(.*)$", rest):
        return _Line("notice", hms, nick=_nick(mm.group(1)), text=mm.group(2))
    if rest.startswith(("Connected to IRC", "Disconnected from IRC", "Broadcast:")):
        return _Line("skip", hms)
    return None


def _znc_system(hms: tuple[int, int, int], rest: str) -> _Line | None:
    for kind, rx in _ZNC_SYS:
        m = rx.match(rest)
        if m is None:
            continue
        g = m.groups()
        if kind in ("join", "part", "quit"):
            reason = g[2] if len(g) > 2 else ""
            return _Line(kind, hms, nick=g[0], host=g[1] or "", text=reason or "")
        if kind == "kick":
            return _Line("kick", hms, nick=g[1], other=g[0], text=g[2] or "")
        if kind == "nick":
            return _Line("nick", hms, nick=g[0], other=g[1])
        if kind == "topic":
            return _Line("topic", hms, nick=g[0], text=g[1])
        return _Line("mode", hms, nick=g[0], text=g[1])
    return None if _SYSTEM_WORDS.search(rest) else _Line("skip", hms)


_UB_TIME = r"\[(\d\d):(\d\d)(?::(\d\d))?\]"
_UB_MSG = re.compile(rf"^{_UB_TIME} <([^>]+)> ?(.*)$")
_UB_ACTION = re.compile(rf"^(?:{_UB_TIME} {{1,2}}| ?)\* (\S+) ?(.*)$")
#: channel notices: ``-nick:#chan- text``, ``-nick- text``, ``(nick/#chan) text``
_UB_NOTICE = re.compile(rf"^{_UB_TIME} (?:\(([^/\s)]+)/[#&!+][^)\s]*\) ?(.*)|(-.*))$")
_UB_STAMPED = re.compile(rf"^{_UB_TIME} (?==== )")
#: After ``=== ``. The Ubuntu logger pads with extra spaces (``nick  [host]  has
#: joined``), leaves ``[host]`` out in some years, and an ident may hold brackets
#: (``[~[m0rph]@host]``): the host runs lazily up to the ``] has …`` after it.
_UB_WHO = r"(\S+)(?:\s+\[(.*?)\])?\s+"
_UB_SYS = [
    ("join", re.compile(rf"^{_UB_WHO}has joined\s+([#&!+]\S*)(?:\s.*)?$")),
    ("part", re.compile(rf"^{_UB_WHO}has left\s+([#&!+]\S*)(?:\s+(.*?))?\s*$")),
    ("quit", re.compile(rf"^{_UB_WHO}has quit(?:\s+(.*?))?\s*$")),
    ("kick", re.compile(r"^(\S+)\s+was kicked (?:from|off) (\S+) by (\S+)(?:\s+(.*?))?\s*$")),
    ("nick", re.compile(r"^(\S+)\s+is now known as\s+(\S+)\s*$")),
    ("topic", re.compile(r"^(\S+) changed the topic of (\S+) to: ?(.*)$")),
    # 2006-era logger: "=== ..[topic/#ubuntu-meeting:robitaille] : new topic"
    ("topic", re.compile(r"^\.\.\[topic/[^:\]]*:([^\]]+)\]\s*:?\s?(.*)$")),
    ("mode", re.compile(r"^mode/\S+ \[(.*)\] by (\S+)\s*$")),
    ("mode", re.compile(r"^\.\.\[mode/[^:\]]*:([^\]]+)\]\s*:?\s?(.*)$")),
    ("mode", re.compile(r"^(\S+) sets mode:? (.*)$")),
    ("netsplit", re.compile(r"^Netsplit \S+ <-> \S+ quits: (.*)$")),
    ("netjoin", re.compile(r"^Netsplit over, joins: (.*)$")),
]
#: ``=== `` lines that are the logger's own bookkeeping, not anyone's doing.
_UB_NOISE = re.compile(
    r"^(?:Log(?:ging)? (?:started|ended|stopped|opened|closed)\b|Topic (?:for|set by|\()"
    r"|Day changed\b|Users? (?:on|in)\b|Channel \S+ created\b|You\b)",
    re.IGNORECASE,
)
#: Words of a membership line: a ``=== `` line with them that no pattern above reads
#: is rejected (reported) rather than taken for an early-format ``/me`` action.
_SYSTEM_WORDS = re.compile(
    r"\b(?:has (?:joined|left|quit)|is now known as|was kicked|has kicked|sets mode)\b"
    r"|^(?:Joins|Parts|Quits|mode/\S+|\.\.\[)"
)


def _ubuntu(line: str) -> _Line | None:
    if m := _UB_MSG.match(line):
        return _Line("msg", _hms(*m.group(1, 2, 3)), nick=_nick(m.group(4)), text=m.group(5))
    if m := _UB_ACTION.match(line):
        hms = _hms(*m.group(1, 2, 3)) if m.group(1) else None
        return _Line("action", hms, nick=_nick(m.group(4)), text=m.group(5))
    if m := _UB_NOTICE.match(line):
        hms = _hms(*m.group(1, 2, 3))
        if m.group(4):
            return _Line("notice", hms, nick=_nick(m.group(4)), text=m.group(5))
        if mm := _NOTICE.match(m.group(6)):
            return _Line("notice", hms, nick=_nick(mm.group(1)), text=mm.group(2) or "")
        return None
    stamped = _UB_STAMPED.match(line)
    hms = _hms(*stamped.group(1, 2, 3)) if stamped else None
    if stamped:
        line = line[stamped.end() :]
    if not line.startswith("=== "):
        return None
    parsed = _ubuntu_system(line[4:].strip())
    if parsed is not None:
        parsed.hms = hms
    return parsed


def _ubuntu_system(rest: str) -> _Line | None:
    for kind, rx in _UB_SYS:
        m = rx.match(rest)
        if m is None:
            continue
        g = m.groups()
        if kind in ("join", "part", "quit"):
            reason = _reason(g[3] if kind == "part" else g[2] if kind == "quit" else "")
            return _Line(kind, nick=_nick(g[0]), host=g[1] or "", text=reason)
        if kind == "kick":
            return _Line("kick", nick=g[2], other=g[0], text=_reason(g[3]))
        if kind == "nick":
            return _Line("nick", nick=_nick(g[0]), other=_nick(g[1]))
        if kind == "topic":
            return _Line("topic", nick=g[0], text=g[-1])
        if kind == "mode":
            who, modes = (g[1], g[0]) if rest.startswith("mode/") else (g[0], g[1])
            return _Line("mode", nick=who, text=modes)
        return _netsplit(kind, g[0])
    if _UB_NOISE.match(rest):
        return _Line("skip")
    if _SYSTEM_WORDS.search(rest):
        return None
    # early Ubuntu logs wrote /me actions as "=== nick does something"
    nick, _, text = rest.partition(" ")
    return _Line("action", nick=_nick(nick), text=text.strip())


def _reason(raw: str | None) -> str:
    """A part/quit/kick reason without the ``[…]``/``(…)`` and quotes around it."""
    text = (raw or "").strip()
    if len(text) >= 2 and (text[0], text[-1]) in (("[", "]"), ("(", ")")):
        text = text[1:-1].strip()
    return text.strip('"')


def _irssi_or_ubuntu(line: str) -> _Line | None:
    """irssi with a ``[%H:%M]`` timestamp and irclogs.ubuntu.com write messages alike,
    so a day that opens with messages only is sniffed as either: each reads the
    other's system lines too (irssi's start ``-!-``, Ubuntu's ``===``; they never meet)."""
    return _irssi(line) or _ubuntu(line)


def _ubuntu_or_irssi(line: str) -> _Line | None:
    return _ubuntu(line) or _irssi(line)


_DIALECTS: dict[str, tuple[Parser, re.Pattern[str]]] = {
    "weechat": (_weechat, re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\t")),
    "irssi": (
        _irssi_or_ubuntu,
        re.compile(
            r"^(--- (Log opened|Day changed|Log closed) "
            r"|(\[)?(\d{4}-\d\d-\d\d )?\d\d:\d\d(:\d\d)?(?(3)\]) (<.|-!- | \* ))"
        ),
    ),
    "znc": (
        _znc,
        re.compile(r"^\[(\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d\] (<|\* |\*\*\* |-(?!!- ))"),
    ),
    "ubuntu": (_ubuntu_or_irssi, re.compile(r"^(\[\d\d:\d\d\] (<| ?\* |=== )|=== )")),
}


def sniff(head: str) -> tuple[str | None, float]:
    """The dialect most of the first lines are written in, and that share (0..1)."""
    lines = [ln for ln in head.splitlines()[:40] if ln.strip()]
    if len(lines) > 1:
        lines = lines[:-1]  # the last line of a head may be cut
    if not lines:
        return None, 0.0
    best, share = None, 0.0
    for name, (_, sig) in _DIALECTS.items():
        hits = sum(1 for ln in lines if sig.match(ln))
        if hits / len(lines) > share:
            best, share = name, hits / len(lines)
    return best, share


# --------------------------------------------------------------------------- file names


_DATE_IN_PATH = [
    re.compile(r"(?:^|/)(\d{4})/(\d\d)/(\d\d)/[^/]+$"),  # irclogs.ubuntu.com 2024/01/01/#x.txt
    re.compile(r"(\d{4})-(\d\d)-(\d\d)[^/]*$"),
    re.compile(r"(?:^|[_.\-])(\d{4})(\d\d)(\d\d)(?:\.\w+)?$"),
]


def date_from_name(name: str) -> date | None:
    """The day a per-day log file covers, from its path (ZNC, Ubuntu, dated irssi logs)."""
    for rx in _DATE_IN_PATH:
        m = rx.search(name)
        if m:
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                continue
    return None


def channel_from_name(name: str) -> str:
    """The channel a log file is about, from its path; see the module docstring."""
    parts = [unquote(p) for p in name.split("/")]
    stem = parts[-1]
    for ext in _TEXT_EXT:
        stem = stem.removesuffix(ext)
    stem = re.sub(r"[._\-]?\d{4}-?\d\d-?\d\d$", "", stem)
    parent = parts[-2] if len(parts) > 1 else ""
    for candidate in (stem, parent):
        for mark in ("#", "&"):
            if mark in candidate:
                return candidate[candidate.index(mark) :]
    return stem or parent or "irc"


# --------------------------------------------------------------------------- importer


class IrcImporter:
    name = "irc"
    platform = PLATFORM
    description = "IRC logs: irssi, WeeChat, ZNC, irclogs.ubuntu.com (.log/.txt, folder or zip)"

    def detect(self, path: Path) -> int:
        best = 0
        for inp in _candidates(path)[:10]:
            dialect, share = sniff(_head_text(inp))
            if dialect is None or share < 0.5:
                continue
            score = 85 if share >= 0.8 else 60
            if inp.name.endswith(".weechatlog") or "#" in unquote(inp.name):
                score += 5
            best = max(best, score)
        return best

    def files(self, path: Path, options: ImportOptions) -> Iterator[SourceFile]:
        chosen = []
        for inp in _candidates(path):
            dialect, share = sniff(_head_text(inp))
            if dialect is not None and share >= 0.5:
                chosen.append((inp, dialect))
        if not chosen:
            raise ImportFormatError(
                f"{path}: no IRC log found (irssi, WeeChat, ZNC or irclogs.ubuntu.com format)",
                zh=f"{path}：未找到 IRC 日志（支持 irssi、WeeChat、ZNC、irclogs.ubuntu.com 格式）",
                code="import_format",
            )
        for inp, dialect in chosen:
            pos = LazyPosition()
            yield SourceFile(
                inp.label, _records(inp, dialect, options, pos), size=inp.size, position=pos
            )


def _candidates(path: Path) -> list[InputFile]:
    inputs = list_inputs(path)
    if path.is_file() and len(inputs) == 1:
        return inputs  # a single file given by hand: sniff it whatever its name
    return [i for i in inputs if i.name.lower().endswith(_TEXT_EXT)]


def _head_text(inp: InputFile) -> str:
    try:
        return inp.head(8192).decode("utf-8", errors="replace").lstrip("\ufeff")
    except OSError:
        return ""


# --------------------------------------------------------------------------- records


class _Reader:
    """Turns one file's parsed lines into events; holds the little per-file state."""

    def __init__(self, inp: InputFile, dialect: str, options: ImportOptions) -> None:
        self.label = inp.label
        self.parse = _DIALECTS[dialect][0]
        self.tz: tzinfo = options.tz
        title = options.group or channel_from_name(inp.name)
        self.group = GroupRef(PLATFORM, title.lower(), title)
        self.day = date_from_name(inp.name)
        self.last_hms = (0, 0, 0)
        self.last_ts: datetime | None = None
        self.seen: dict[str, int] = {}  # occurrence counters for the current instant only
        self.nicks: set[str] = set()

    def line(self, number: int, raw: str) -> Iterator[Record]:
        text = strip_formatting(raw.rstrip("\r\n"))
        if not text.strip():
            return
        parsed = self.parse(text)
        if parsed is None:
            yield Rejected(
                self.label,
                "line not in the log's format",
                line=number,
                field="line",
                record=text[:80],
            )
            return
        if parsed.day is not None and parsed.kind == "day":
            self.day = parsed.day
            return
        if parsed.kind == "skip":
            return
        if parsed.day is not None:
            self.day = parsed.day
        if self.day is None:
            yield Rejected(
                self.label,
                "no date known yet (no 'Log opened'/'Day changed' line and none in the file name)",
                line=number,
                field="date",
            )
            return
        ts = self._instant(parsed.hms or self.last_hms)
        yield from self._events(parsed, ts)

    def _instant(self, hms: tuple[int, int, int]) -> datetime:
        assert self.day is not None
        self.last_hms = hms
        local = datetime(self.day.year, self.day.month, self.day.day, *hms, tzinfo=self.tz)
        ts = local.astimezone(UTC)
        if ts != self.last_ts:
            self.seen.clear()
            self.last_ts = ts
        return ts

    def _sid(self, ts: datetime, kind: str, *parts: str) -> str:
        key = stable_id(self.group.external_id, ts.isoformat(), kind, *parts)
        n = self.seen.get(key, 0)
        self.seen[key] = n + 1
        return f"{self.group.external_id}:{time_key(ts)}:{stable_id(key, n)}"

    def _who(self, nick: str) -> IdentityRef:
        return IdentityRef(PLATFORM, nick.lower(), nick, is_bot(nick))

    def _events(self, p: _Line, ts: datetime) -> Iterator[Event]:
        kind = p.kind
        if kind == "msg" and (ctcp := _CTCP.match(p.text)):
            command, text = ctcp.group(1).upper(), ctcp.group(2)
            if command == "ACTION":
                p.kind, p.text = "action", text
            else:
                p.kind, p.text = "ctcp", f"{command} {text}".strip()
            kind = p.kind
        if kind in ("msg", "action", "notice"):
            yield self._message(p, ts)
        elif kind == "join":
            for nick in p.nicks or [p.nick]:
                who = self._who(nick)
                self.nicks.add(nick.lower())
                yield Event(
                    PLATFORM,
                    self._sid(ts, kind, nick),
                    Kind.JOIN,
                    ts,
                    self.group,
                    who,
                    who,
                    _clean(
                        {
                            "method": JoinMethod.UNKNOWN.value,
                            "service": "netsplit_over" if p.nicks else None,
                            "extra": {"host": p.host},
                        }
                    ),
                )
        elif kind in ("part", "quit"):
            for nick in p.nicks or [p.nick]:
                who = self._who(nick)
                yield Event(
                    PLATFORM,
                    self._sid(ts, kind, nick, p.text),
                    Kind.LEAVE,
                    ts,
                    self.group,
                    who,
                    who,
                    _clean({"reason": p.text, "service": kind, "extra": {"host": p.host}}),
                )
        elif kind == "kick":
            yield Event(
                PLATFORM,
                self._sid(ts, kind, p.nick, p.other, p.text),
                Kind.KICK,
                ts,
                self.group,
                self._who(p.nick),
                self._who(p.other),
                _clean({"reason": p.text}),
            )
        elif kind == "nick":
            self.nicks.add(p.other.lower())
            yield Event(
                PLATFORM,
                self._sid(ts, kind, p.nick, p.other),
                Kind.RENAME,
                ts,
                self.group,
                self._who(p.nick),
                self._who(p.other),
                {"old_name": p.nick, "new_name": p.other},
            )
        elif kind == "mode":
            yield from self._mode(p, ts)
        else:  # topic, ctcp
            yield Event(
                PLATFORM,
                self._sid(ts, kind, p.nick, p.text),
                Kind.SERVICE,
                ts,
                self.group,
                self._who(p.nick),
                None,
                _clean({"service": kind, "text": p.text}),
            )

    def _mode(self, p: _Line, ts: datetime) -> Iterator[Event]:
        """A mode line: BAN/UNBAN for each ``+b``/``-b`` whose mask names one nick
        (``nick!*@*``, ``nick``); everything else (ops, voices, host-mask bans) SERVICE."""
        bans, rest = _bans(p.text)
        for sign, mask, nick in bans:
            if nick is None:
                rest = True
                continue
            yield Event(
                PLATFORM,
                self._sid(ts, "ban" if sign == "+" else "unban", p.nick, mask),
                Kind.BAN if sign == "+" else Kind.UNBAN,
                ts,
                self.group,
                self._who(p.nick),
                self._who(nick),
                {"service": "mode", "extra": {"mask": mask}},
            )
        if rest:
            yield Event(
                PLATFORM,
                self._sid(ts, "mode", p.nick, p.text),
                Kind.SERVICE,
                ts,
                self.group,
                self._who(p.nick),
                None,
                _clean({"service": "mode", "text": p.text}),
            )

    def _message(self, p: _Line, ts: datetime) -> Event:
        self.nicks.add(p.nick.lower())
        payload = {
            "text": p.text,
            "type": MsgType.TEXT.value,
            "mentions": self._mentions(p.text),
            "urls": find_urls(p.text),
            "extra": {"action": True}
            if p.kind == "action"
            else ({"notice": True} if p.kind == "notice" else None),
        }
        sid = self._sid(ts, p.kind, p.nick, p.text)
        return Event(
            PLATFORM, sid, Kind.MESSAGE, ts, self.group, self._who(p.nick), None, _clean(payload)
        )

    def _mentions(self, text: str) -> list[str]:
        """IRC addresses people as ``nick: …``/``nick, …``; counted when the nick is known."""
        found = find_mentions(text)
        m = re.match(r"^([^\s:,]+)[:,](?:\s|$)", text)
        if m and m.group(1).lower() in self.nicks:
            found.insert(0, m.group(1))
        return list(dict.fromkeys(found))


def _records(
    inp: InputFile, dialect: str, options: ImportOptions, pos: LazyPosition
) -> Iterator[Record]:
    reader = _Reader(inp, dialect, options)
    with inp.open() as raw:
        counting = CountingReader(raw)
        pos.reader = counting
        for number, line in enumerate(io.BufferedReader(counting, 1 << 16), 1):
            if number == 1:
                line = line.removeprefix(b"\xef\xbb\xbf")
            yield from reader.line(number, decode_line(line))


def decode_line(raw: bytes) -> str:
    """One line's text: UTF-8, or else Windows-1252/Latin-1, as old IRC clients sent it.

    IRC has no encoding: one log mixes UTF-8 lines with Latin-1 ones from older
    clients, so each line is decoded on its own.
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


#: mIRC formatting: bold, colour (with its digits), hex colour, italics, strike,
#: monospace, reverse, underline, reset.
_FORMATTING = re.compile(
    r"\x03(?:\d{1,2}(?:,\d{1,2})?)?|\x04(?:[0-9a-fA-F]{6}(?:,[0-9a-fA-F]{6})?)?"
    r"|[\x02\x0f\x11\x16\x1d\x1e\x1f]"
)
_CTCP = re.compile(r"^\x01(\w+) ?([^\x01]*)\x01?$")


def strip_formatting(text: str) -> str:
    """Drop mIRC colour and style codes (ZNC and some clients log them raw)."""
    return _FORMATTING.sub("", text)


#: Channel modes that take an argument (so the n-th argument belongs to them).
_ARG_MODES = frozenset("beIkfjloqvhaJ")
_WILD = frozenset("*?")


def _bans(modes: str) -> tuple[list[tuple[str, str, str | None]], bool]:
    """(sign, mask, nick or None) for each ``b`` in a mode change like ``+ob-v a m!*@* c``,
    and whether the change has anything else in it."""
    words = modes.split()
    if not words:
        return [], True
    args = iter(words[1:])
    sign, bans, other = "+", [], False
    for ch in words[0]:
        if ch in "+-":
            sign = ch
            continue
        arg = next(args, "") if ch in _ARG_MODES and (ch != "l" or sign == "+") else ""
        if ch == "b" and arg:
            nick = arg.split("!", 1)[0]
            concrete = nick and not (_WILD & set(nick)) and "@" not in nick and ":" not in nick
            bans.append((sign, arg, nick if concrete else None))
        else:
            other = True
    return bans, other


def _clean(payload: Mapping[str, object]) -> dict[str, object]:
    """Drop empty values (and extras whose values are all empty)."""
    return {
        k: v
        for k, v in payload.items()
        if v not in (None, "", [], {}) and not (isinstance(v, dict) and not any(v.values()))
    }


IMPORTER = IrcImporter()
