"""IRC log importer: irssi, WeeChat, ZNC (both layouts) and irclogs.ubuntu.com samples."""

from __future__ import annotations

import random
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from qunyun.errors import ImportFormatError
from qunyun.events import Event, GroupRef, IdentityRef, Kind
from qunyun.importers.base import ImportOptions, collect
from qunyun.importers.irc import IMPORTER, channel_from_name, date_from_name, sniff

SAMPLES = Path(__file__).parent / "samples" / "irc"
QUNYUN = GroupRef("irc", "#qunyun", "#qunyun")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def who(nick: str) -> IdentityRef:
    return IdentityRef("irc", nick.lower(), nick)


def kinds(events: list[Event]) -> list[tuple[Kind, str | None, str | None]]:
    return [
        (e.kind, e.actor and e.actor.display_name, e.target and e.target.display_name)
        for e in events
    ]


def test_irssi_days_kinds_and_local_time() -> None:
    opts = ImportOptions(tz=ZoneInfo("Asia/Shanghai"))
    events, rejected = collect(IMPORTER, SAMPLES / "irssi", opts)
    assert kinds(events) == [
        (Kind.JOIN, "lin", "lin"),
        (Kind.MESSAGE, "wang", None),
        (Kind.MESSAGE, "lin", None),
        (Kind.MESSAGE, "lin", None),
        (Kind.MESSAGE, "lin", None),
        (Kind.RENAME, "lin", "lin_away"),
        (Kind.SERVICE, "wang", None),
        (Kind.SERVICE, "wang", None),
        (Kind.JOIN, "spammer", "spammer"),
        (Kind.KICK, "wang", "spammer"),
        (Kind.LEAVE, "kai", "kai"),
        (Kind.LEAVE, "lin_away", "lin_away"),
        (Kind.LEAVE, "bob", "bob"),
        (Kind.LEAVE, "carol", "carol"),
        (Kind.MESSAGE, "wang", None),
    ]
    assert {e.group for e in events} == {QUNYUN}
    assert events[0].ts == utc(2024, 3, 31, 15, 58)  # 23:58 in Shanghai, from "Log opened"
    assert events[4].ts == utc(2024, 3, 31, 16, 1)  # after "Day changed Mon Apr 01 2024"
    assert events[1].payload == {
        "text": "welcome lin! docs at https://example.org/docs",
        "type": "text",
        "urls": ["https://example.org/docs"],
    }
    assert events[2].payload["mentions"] == ["wang"]  # "wang: …" addresses a known nick
    # two identical lines in the same minute stay two events
    assert events[2].source_event_id != events[3].source_event_id
    assert events[4].payload["extra"] == {"action": True}
    assert events[5].payload == {"old_name": "lin", "new_name": "lin_away"}
    assert events[6].payload == {"service": "mode", "text": "+o kai"}
    assert events[9].payload == {"reason": "no spam"}
    assert events[11].payload["reason"] == "Quit: bye"
    assert events[14].payload["extra"] == {"notice": True}
    assert [(r.line, r.field) for r in rejected] == [(16, "line")]


def test_weechat_dates_per_line_and_dst() -> None:
    opts = ImportOptions(tz=ZoneInfo("Europe/Berlin"))
    events, rejected = collect(IMPORTER, SAMPLES / "weechat", opts)
    assert {e.group for e in events} == {QUNYUN}
    assert events[1].ts == utc(2024, 3, 31, 0, 59, 59)  # 01:59:59 CET
    assert events[2].ts == utc(2024, 3, 31, 1, 0, 1)  # 03:00:01 CEST, after the DST jump
    assert kinds(events) == [
        (Kind.JOIN, "lin", "lin"),
        (Kind.MESSAGE, "wang", None),  # "@wang": the op prefix is not part of the nick
        (Kind.MESSAGE, "lin", None),
        (Kind.MESSAGE, "lin", None),
        (Kind.RENAME, "lin", "lin_"),
        (Kind.KICK, "wang", "troll"),
        (Kind.LEAVE, "kai", "kai"),
        (Kind.LEAVE, "lin_", "lin_"),
        (Kind.SERVICE, "wang", None),
    ]
    assert events[3].payload == {"text": "yawns", "type": "text", "extra": {"action": True}}
    assert events[8].payload == {"service": "topic", "text": "Launch week"}
    assert [(r.line, r.field) for r in rejected] == [(12, "line")]


def test_znc_date_and_channel_from_path() -> None:
    events, rejected = collect(IMPORTER, SAMPLES / "znc", ImportOptions(tz=ZoneInfo("UTC")))
    assert {e.group for e in events} == {QUNYUN}
    assert events[0] == Event(
        "irc",
        events[0].source_event_id,
        Kind.JOIN,
        utc(2024, 4, 1, 9),
        QUNYUN,
        actor=who("lin"),
        target=who("lin"),
        payload={"method": "unknown", "extra": {"host": "~lin@198.51.100.7"}},
    )
    assert events[0].source_event_id.startswith("#qunyun:")
    assert [e.kind for e in events] == [
        Kind.JOIN,
        Kind.MESSAGE,
        Kind.MESSAGE,
        Kind.MESSAGE,
        Kind.RENAME,
        Kind.KICK,
        Kind.LEAVE,
        Kind.LEAVE,
        Kind.SERVICE,
        Kind.SERVICE,
    ]
    assert (events[5].actor, events[5].target) == (who("wang"), who("troll"))
    assert [(r.line, r.record) for r in rejected] == [(12, "[9:7] broken")]


def test_same_line_from_two_layouts_gets_the_same_id() -> None:
    new, _ = collect(IMPORTER, SAMPLES / "znc", ImportOptions(tz=ZoneInfo("UTC")))
    old, _ = collect(IMPORTER, SAMPLES / "znc-old", ImportOptions(tz=ZoneInfo("UTC")))
    assert old[0].group == GroupRef("irc", "#qunyun", "#Qunyun")  # channels are case-blind
    assert old[0].source_event_id == new[1].source_event_id  # "[09:00:05] <wang> morning"
    assert old[1].source_event_id != old[0].source_event_id  # the exact duplicate line


def test_ubuntu_irclogs_odd_corners() -> None:
    events, rejected = collect(IMPORTER, SAMPLES / "ubuntu", ImportOptions(tz=ZoneInfo("UTC")))
    assert rejected == []
    assert {e.group for e in events} == {GroupRef("irc", "#ubuntu", "#ubuntu")}
    assert kinds(events) == [
        (Kind.MESSAGE, "balton", None),
        (Kind.MESSAGE, "Nafallo", None),  # an early-format action line
        (Kind.JOIN, "AngryClip", "AngryClip"),
        (Kind.JOIN, "aokaze", "aokaze"),
        (Kind.MESSAGE, "kbrooks__", None),
        (Kind.JOIN, "[m0rph]", "[m0rph]"),
        (Kind.LEAVE, "thundrcleeze_", "thundrcleeze_"),
        (Kind.LEAVE, "fherz", "fherz"),
        (Kind.RENAME, "Psyk[", "Psyk[o]"),
        (Kind.MESSAGE, "Psyk[o]", None),  # "<Psyk[o] >": the stray space is dropped
        (Kind.MESSAGE, "balton", None),
        (Kind.MESSAGE, "Drizzt321", None),
    ]
    # "===" lines carry no time: they take the last time seen
    assert [e.ts for e in events[:4]] == [utc(2005, 2, 24, 12)] * 4
    assert events[5].ts == utc(2005, 2, 24, 12, 2)
    assert events[6].payload["reason"] == "Leaving"
    assert "reason" not in events[7].payload


def test_group_option_and_reimport_and_zip(tmp_path: Path) -> None:
    opts = ImportOptions(tz=ZoneInfo("Asia/Shanghai"), group="libera/#qunyun")
    a, _ = collect(IMPORTER, SAMPLES / "irssi", opts)
    b, _ = collect(IMPORTER, SAMPLES / "irssi", opts)
    assert {e.group.external_id for e in a} == {"libera/#qunyun"}
    assert [e.source_event_id for e in a] == [e.source_event_id for e in b]
    archive = tmp_path / "logs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(SAMPLES / "irssi" / "#qunyun.log", "irclogs/libera/#qunyun.log")
    c, _ = collect(IMPORTER, archive, opts)
    assert [e.source_event_id for e in c] == [e.source_event_id for e in a]


def test_no_date_rejects_lines(tmp_path: Path) -> None:
    log = tmp_path / "#chan.log"
    log.write_text("12:00 <nick> hi\n12:01 <nick> again\n")
    events, rejected = collect(IMPORTER, log, ImportOptions(tz=ZoneInfo("UTC")))
    assert events == []
    assert [(r.line, r.field) for r in rejected] == [(1, "date"), (2, "date")]


def test_helpers() -> None:
    assert channel_from_name("irc.libera.#qunyun.weechatlog") == "#qunyun"
    assert channel_from_name("libera_#Qunyun_20240401.log") == "#Qunyun"
    assert channel_from_name("libera/#qunyun/2024-04-01.log") == "#qunyun"
    assert channel_from_name("2005/02/24/%23ubuntu.txt") == "#ubuntu"
    assert date_from_name("irclogs.ubuntu.com/2005/02/24/#ubuntu.txt") == date(2005, 2, 24)
    assert date_from_name("libera_#qunyun_20240401.log") == date(2024, 4, 1)
    assert date_from_name("#qunyun/2024-04-01.log") == date(2024, 4, 1)
    assert date_from_name("#qunyun.log") is None
    assert sniff("")[0] is None


def test_detect(tmp_path: Path) -> None:
    for sample in ("irssi", "weechat", "znc", "znc-old", "ubuntu"):
        assert IMPORTER.detect(SAMPLES / sample) >= 85, sample
    whatsapp = tmp_path / "WhatsApp Chat with Qunyun.txt"
    whatsapp.write_text("[1/2/24, 12:34:56] Lin: hi\n[1/2/24, 12:35:01] Wang: hello\n")
    android = tmp_path / "android.txt"
    android.write_text("01/02/2024, 12:34 - Lin: hi\n01/02/2024, 12:35 - Wang: hello\n")
    qq = tmp_path / "qq.txt"
    qq.write_text(
        "消息记录\n2024-01-01 12:34:56 林梅(12345)\n你好\n\n2024-01-01 12:35:00 王(678)\nhi\n"
    )
    telegram = tmp_path / "result.json"
    telegram.write_text('{"name": "G", "type": "private_group", "id": 1, "messages": []}')
    for path in (whatsapp, android, qq, telegram):
        assert IMPORTER.detect(path) == 0, path.name
    with pytest.raises(ImportFormatError):
        list(IMPORTER.files(qq, ImportOptions(tz=ZoneInfo("UTC"))))


def test_irssi_dated_brackets_netsplits_bans_colours_and_ctcp() -> None:
    """irssi with ``log_timestamp = "[%Y-%m-%d %H:%M:%S] "``: the date is on each line."""
    events, rejected = collect(IMPORTER, SAMPLES / "irssi-dated", ImportOptions(tz=ZoneInfo("UTC")))
    assert rejected == []
    assert kinds(events) == [
        (Kind.JOIN, "lin", "lin"),
        (Kind.MESSAGE, "wang", None),
        (Kind.MESSAGE, "lin", None),  # CTCP ACTION
        (Kind.SERVICE, "lin", None),  # CTCP VERSION to the channel
        (Kind.LEAVE, "bob", "bob"),  # netsplit, "(+2 more …)" dropped
        (Kind.LEAVE, "carol", "carol"),
        (Kind.LEAVE, "dave", "dave"),
        (Kind.JOIN, "bob", "bob"),  # "Netsplit over, joins:"
        (Kind.JOIN, "carol", "carol"),
        (Kind.BAN, "wang", "spammer"),
        (Kind.KICK, "wang", "spammer"),
        (Kind.SERVICE, "wang", None),  # host-mask ban and +o: kept as a mode line
        (Kind.UNBAN, "wang", "spammer"),
        (Kind.MESSAGE, "kai", None),
    ]
    assert events[0].ts == utc(2024, 5, 1, 10)
    assert events[-1].ts == utc(2024, 5, 2, 9, 0, 1)  # the date comes from the line
    assert events[1].payload["text"] == "bold and red text"  # mIRC codes stripped
    assert events[2].payload == {"text": "waves", "type": "text", "extra": {"action": True}}
    assert events[3].payload == {"service": "ctcp", "text": "VERSION"}
    assert events[7].payload["service"] == "netsplit_over"
    assert events[9].payload == {"service": "mode", "extra": {"mask": "spammer!*@*"}}
    assert events[11].payload == {"service": "mode", "text": "+bo *!*@203.0.113.9 kai"}
    assert IMPORTER.detect(SAMPLES / "irssi-dated") >= 85


def test_mixed_encodings_crlf_and_znc_mode_bans() -> None:
    events, rejected = collect(IMPORTER, SAMPLES / "mixed", ImportOptions(tz=ZoneInfo("UTC")))
    assert rejected == []
    assert [e.payload.get("text") for e in events[:3]] == [
        "café in UTF-8",
        "café in Latin-1",
        "\u201cquoted\u201d in Windows-1252",
    ]
    assert kinds(events[3:]) == [
        (Kind.BAN, "wang", "troll"),
        (Kind.UNBAN, "wang", "old"),
        (Kind.SERVICE, "wang", None),  # the +v
    ]
    assert events[0].ts == utc(2024, 5, 1, 10)


def test_znc_log_of_messages_only_reads_like_irssi_brackets(tmp_path: Path) -> None:
    """Without join/quit lines a ZNC log looks like a bracketed irssi log; either reading
    must give the same events and skip ZNC's connection lines."""
    log = tmp_path / "#qunyun" / "2024-05-01.log"
    log.parent.mkdir()
    log.write_text(
        "[10:00:00] Connected to IRC (irc.libera.chat +6697)\n"
        "[10:00:01] <lin> hi\n[10:00:02] * lin waves\n[10:00:03] -wang- notice\n"
        "[10:00:04] Disconnected from IRC (irc.libera.chat +6697)\n"
    )
    events, rejected = collect(IMPORTER, tmp_path, ImportOptions(tz=ZoneInfo("UTC")))
    assert rejected == []
    assert [e.payload.get("extra") for e in events] == [None, {"action": True}, {"notice": True}]


def test_weechat_mode_and_ubuntu_stamped_system_lines(tmp_path: Path) -> None:
    wee = tmp_path / "irc.libera.#qunyun.weechatlog"
    wee.write_text(
        "2024-05-01 10:00:00\t--\tMode #qunyun [+b troll!*@*] by wang\n"
        "2024-05-01 10:00:01\t--\twang has unset topic for #qunyun\n"
        "2024-05-01 10:00:02\t@wang\tdone\n"
    )
    events, rejected = collect(IMPORTER, wee, ImportOptions(tz=ZoneInfo("UTC")))
    assert rejected == []
    assert kinds(events) == [
        (Kind.BAN, "wang", "troll"),
        (Kind.SERVICE, "wang", None),
        (Kind.MESSAGE, "wang", None),
    ]
    ub = tmp_path / "ubuntu" / "2024" / "05" / "01"
    ub.mkdir(parents=True)
    (ub / "#ubuntu.txt").write_text(
        "[10:00] === lin [~lin@host] has joined #ubuntu\n[10:01] <lin> hi\n"
    )
    events, rejected = collect(IMPORTER, tmp_path / "ubuntu", ImportOptions(tz=ZoneInfo("UTC")))
    assert rejected == []
    assert [(e.kind, e.ts) for e in events] == [
        (Kind.JOIN, utc(2024, 5, 1, 10)),
        (Kind.MESSAGE, utc(2024, 5, 1, 10, 1)),
    ]


# --------------------------------------------------------------------------- line shapes


def _ubuntu_log(tmp_path: Path, text: str) -> Path:
    """An irclogs.ubuntu.com day file: the date is in the path."""
    day = tmp_path / "2020" / "01" / "01"
    day.mkdir(parents=True, exist_ok=True)
    (day / "#ubuntu.txt").write_bytes(text.encode("utf-8"))
    return tmp_path


def _member(e: Event) -> IdentityRef | None:
    """The member an event is about: the target of a membership change, else the actor."""
    member_kinds = (Kind.JOIN, Kind.LEAVE, Kind.KICK, Kind.BAN)
    return e.target if e.kind in member_kinds else e.actor


def _tally(events: list[Event]) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in events:
        out[e.kind.value] = out.get(e.kind.value, 0) + 1
    return out


UBUNTU_SHAPES = [
    # (line, {kind: count}, who: the member concerned)
    ("=== jo_ [~jo@unaffiliated/jo] has joined #ubuntu", {"join": 1}, "jo_"),
    ("=== [m0rph]  [~[m0rph]@p83.example.de]  has joined #ubuntu", {"join": 1}, "[m0rph]"),
    ("=== 7JTAAFAPD [~x@2001:db8::1] has joined #ubuntu", {"join": 1}, "7JTAAFAPD"),
    (
        "=== a\\b`^{}|-_ [uid1@gateway/web/irccloud.com/x-abc] has joined #ubuntu ",
        {"join": 1},
        "a\\b`^{}|-_",
    ),
    ("=== nocloak has joined #ubuntu", {"join": 1}, "nocloak"),
    ("[00:01] === stamped [~s@1.2.3.4] has joined #ubuntu\r", {"join": 1}, "stamped"),
    ("=== tabby\t[~t@h]\thas joined #ubuntu", {"join": 1}, "tabby"),
    ("=== fherz [~d@184.example.net]  has left #ubuntu [] ", {"leave": 1}, "fherz"),
    ('=== Hob [n=Hob@cpe.example.au] has left #ubuntu ["So]', {"leave": 1}, "Hob"),
    ("=== p [~p@h] has left #ubuntu", {"leave": 1}, "p"),
    ("=== nohost has left #ubuntu [bye]", {"leave": 1}, "nohost"),
    ("=== q [~q@h] has quit [Remote host closed the connection]", {"leave": 1}, "q"),
    ("=== q2 [~q@h] has quit [Ping timeout: 240 seconds]", {"leave": 1}, "q2"),
    ("=== q3 [~q@h] has quit [Read error: Connection reset by peer]", {"leave": 1}, "q3"),
    ("=== q4 [~q@h] has quit [*.net *.split]", {"leave": 1}, "q4"),
    ("=== q5 [~q@h] has quit [Client Quit]", {"leave": 1}, "q5"),
    ("=== q6 [~q@h] has quit [Quit: [x] über ☃ ]]", {"leave": 1}, "q6"),
    ("=== q7 [~q@h] has quit (Quit: parens)", {"leave": 1}, "q7"),
    ("=== q8 [~q@h] has quit", {"leave": 1}, "q8"),
    ("=== q9 has quit [bye]", {"leave": 1}, "q9"),
    ("=== Psyk[ is now known as Psyk[o] ", {"rename": 1}, "Psyk["),
    ("=== bad was kicked off #ubuntu by op [spam]", {"kick": 1}, "bad"),
    ("=== mode/#ubuntu [+o ikonia] by ChanServ", {"service": 1}, None),
    ("=== mode/#ubuntu [+b troll!*@*] by ikonia", {"ban": 1}, "troll"),
    ("=== ..[topic/#ubuntu:robitaille] : Calendar | Logs", {"service": 1}, None),
    ("=== ubotu changed the topic of #ubuntu to: Welcome", {"service": 1}, None),
    ("=== Logging started", {}, None),
    ("=== Logging ended", {}, None),
    ("[00:02] <ub[o]> hi [there] <b>", {"message": 1}, "ub[o]"),
    ("[00:02:03] <secs> with seconds", {"message": 1}, "secs"),
    ("[00:02]  * balton looks", {"message": 1}, "balton"),
    ("=== Drizzt321 shrugs", {"message": 1}, "Drizzt321"),
    ("[00:03] -ubottu:#ubuntu- a channel notice", {"message": 1}, "ubottu"),
    ("[00:03] -foo-bar- a notice from a dashed nick", {"message": 1}, "foo-bar"),
    ("[00:03] (spam/#ubuntu) a notice", {"message": 1}, "spam"),
    # an irssi line in a day sniffed as Ubuntu: read as irssi, not as a notice from "!"
    ("[00:04] -!- ir [~ir@h] has joined #ubuntu", {"join": 1}, "ir"),
]


@pytest.mark.parametrize(("line", "expected", "member"), UBUNTU_SHAPES)
def test_ubuntu_line_shapes(
    tmp_path: Path, line: str, expected: dict[str, int], member: str | None
) -> None:
    """Each shape of an irclogs.ubuntu.com line gives exactly its one event."""
    log = _ubuntu_log(tmp_path, f"[00:00] <first> hi\n{line}\n")
    events, rejected = collect(IMPORTER, log, ImportOptions(tz=ZoneInfo("UTC")))
    assert rejected == []
    assert _tally(events[1:]) == expected
    if member is not None:
        concerned = _member(events[1])
        assert concerned is not None and concerned.display_name == member


def test_ubuntu_membership_lines_never_become_messages(tmp_path: Path) -> None:
    """A ``===`` line that speaks of joining/leaving in a shape no pattern reads is
    reported, not taken for an early-format ``/me`` action."""
    log = _ubuntu_log(tmp_path, "=== odd [~o@h] has joined\n=== x was kicked somehow\n")
    events, rejected = collect(IMPORTER, log, ImportOptions(tz=ZoneInfo("UTC")))
    assert events == []
    assert [(r.line, r.field) for r in rejected] == [(1, "line"), (2, "line")]


def test_ubuntu_hosts_and_reasons_are_kept(tmp_path: Path) -> None:
    log = _ubuntu_log(
        tmp_path,
        "=== m [~[m0rph]@p83.example.de]  has joined #ubuntu\n"
        '=== m [~[m0rph]@p83.example.de] has left #ubuntu ["Leaving"]\n'
        "=== q [~q@h] has quit [Quit: [x] bye]\n",
    )
    events, _ = collect(IMPORTER, log, ImportOptions(tz=ZoneInfo("UTC")))
    assert [e.payload.get("extra") for e in events] == [
        {"host": "~[m0rph]@p83.example.de"},
        {"host": "~[m0rph]@p83.example.de"},
        {"host": "~q@h"},
    ]
    assert [e.payload.get("reason") for e in events] == [None, "Leaving", "Quit: [x] bye"]


def test_service_nicks_are_bots(tmp_path: Path) -> None:
    log = _ubuntu_log(tmp_path, "[00:01] <ubottu> factoid\n[00:02] <human> hi\n")
    events, _ = collect(IMPORTER, log, ImportOptions(tz=ZoneInfo("UTC")))
    assert [(e.actor and e.actor.is_bot) for e in events] == [True, False]


OTHER_SHAPES = [
    # irssi
    ("#c.log", "12:00 -!- a [~[a]@h] has joined #c", {"join": 1}),
    ("#c.log", "12:00 -!- a [~a@2001:db8::1] has joined #c ", {"join": 1}),
    ("#c.log", "12:00 -!- a [~a@h] has left #c []", {"leave": 1}),
    ("#c.log", "12:00 -!- a [~a@h] has left #c", {"leave": 1}),
    ("#c.log", "12:00 -!- a [~a@h] has quit [Quit: [x] bye]", {"leave": 1}),
    ("#c.log", "12:00 -!- a [~a@h] has quit []", {"leave": 1}),
    ("#c.log", "12:00 -!- a was kicked from #c by op", {"kick": 1}),
    ("#c.log", "12:00 -!- foo-bar is now known as foo|away", {"rename": 1}),
    ("#c.log", "12:00 -foo-bar:#c- dashed notice", {"message": 1}),
    ("#c.log", "12:00 -!- Irssi: Join to #c was synced in 2 secs", {}),
    ("#c.log", "12:00 -!- ServerMode/#c [+nt] by irc.example.net", {}),
    # WeeChat, English and translated
    ("irc.n.#c.weechatlog", "2020-01-01 12:00:00\t-->\ta (~[a]@h) has joined #c", {"join": 1}),
    ("irc.n.#c.weechatlog", "2020-01-01 12:00:00\t-->\ta has joined #c", {"join": 1}),
    ("irc.n.#c.weechatlog", "2020-01-01 12:00:00\t-->\ta (~a@h) a rejoint #c", {"join": 1}),
    ("irc.n.#c.weechatlog", "2020-01-01 12:00:00\t<--\ta (~a@h) a quitté #c (ciao)", {"leave": 1}),
    ("irc.n.#c.weechatlog", "2020-01-01 12:00:00\t<--\ta (~a@h) hat beendet (Ping)", {"leave": 1}),
    ("irc.n.#c.weechatlog", "2020-01-01 12:00:00\t<--\ta (~a@h) has quit", {"leave": 1}),
    ("irc.n.#c.weechatlog", "2020-01-01 12:00:00\t<--\ta has left #c", {"leave": 1}),
    ("irc.n.#c.weechatlog", "2020-01-01 12:00:00\t--\tNotice(ChanServ) -> #c: hi", {"message": 1}),
    # ZNC
    ("#c_20200101.log", "[12:00:00] *** Joins: a (~[a]@h)", {"join": 1}),
    ("#c_20200101.log", "[12:00:00] *** Joins: a", {"join": 1}),
    ("#c_20200101.log", "[12:00:00] *** Parts: a (~a@h) ()", {"leave": 1}),
    ("#c_20200101.log", "[12:00:00] *** Parts: a (~a@h)", {"leave": 1}),
    ("#c_20200101.log", "[12:00:00] *** Quits: a (~a@h) (Quit: (x) bye)", {"leave": 1}),
    ("#c_20200101.log", "[12:00:00] *** a was kicked by op", {"kick": 1}),
    ("#c_20200101.log", "[12:00:00] *** Joins a (~a@h)", {}),  # rejected, see below
]


@pytest.mark.parametrize(("name", "line", "expected"), OTHER_SHAPES)
def test_irssi_weechat_znc_line_shapes(
    tmp_path: Path, name: str, line: str, expected: dict[str, int]
) -> None:
    head = {
        "#c.log": "--- Log opened Wed Jan 01 11:00:00 2020\n11:00 <first> hi\n",
        "irc.n.#c.weechatlog": "2020-01-01 11:00:00\tfirst\thi\n",
        "#c_20200101.log": "[11:00:00] <first> hi\n",
    }[name]
    log = tmp_path / name
    log.write_text(head + line + "\n", encoding="utf-8")
    events, rejected = collect(IMPORTER, log, ImportOptions(tz=ZoneInfo("UTC")))
    assert _tally(events[1:]) == expected
    assert len(rejected) == (0 if expected or "Joins a" not in line else 1)
    for e in events[1:]:
        concerned = _member(e)
        assert concerned is not None and concerned.display_name in ("a", "foo-bar", "ChanServ")


# --------------------------------------------------------------------------- property


_NICK_FIRST = "abcXYZ[]\\`^{}|_0123456789"
_NICK_REST = _NICK_FIRST + "-"
_HOSTS = [
    "~user@1.2.3.4",
    "n=dholbach@ubuntu/member/dholbach",
    "i=x@unaffiliated/x",
    "~u@gateway/web/irccloud.com/x-abcdefgh",
    "~u@2001:db8::1",
    "~[m0rph]@p83.example.de",
    "uid123@id-123.tooting.irccloud.com",
]
_REASONS = [
    "",
    "Quit: bye",
    "Remote host closed the connection",
    "Ping timeout: 240 seconds",
    "Read error: Connection reset by peer",
    "*.net *.split",
    "Client Quit",
    "Quit: [x] über ☃ (see you)",
    '"Leaving"',
]
_WORDS = ["hi", "[x]", "<b>", "has joined #c", "☃", "über", "(p)", "-d-", "nick:", "a|b", "*"]
_TAILS = ["", "", "", " ", "  ", "\r"]


def _gen_nick(rng: random.Random) -> str:
    return rng.choice(_NICK_FIRST) + "".join(
        rng.choice(_NICK_REST) for _ in range(rng.randint(0, 8))
    )


def _gen_text(rng: random.Random) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 5)))


#: (kind of event or "none"/"reject", line template); {n} nick, {o} other nick,
#: {h} host, {r} reason, {t} text, {p} a /me text that does not read like a system line
_TEMPLATES: dict[str, list[tuple[str, str]]] = {
    "ubuntu": [
        ("message", "[12:00] <{n}> {t}"),
        ("message", "[12:00]  * {n} {t}"),
        ("message", "=== {n} {p}"),
        ("message", "[12:00] -{n}:#c- {t}"),
        ("join", "=== {n} [{h}] has joined #c"),
        ("join", "=== {n} [{h}]  has joined #c"),
        ("join", "=== {n} has joined #c"),
        ("leave", "=== {n} [{h}] has left #c [{r}]"),
        ("leave", "=== {n} [{h}] has quit [{r}]"),
        ("leave", "=== {n} has quit [{r}]"),
        ("rename", "=== {n} is now known as {o}"),
        ("kick", "=== {o} was kicked off #c by {n} [{r}]"),
        ("service", "=== mode/#c [+o {o}] by {n}"),
        ("none", "=== Logging started"),
        ("reject", "this is no log line"),
    ],
    "irssi": [
        ("message", "12:00 <{n}> {t}"),
        ("message", "12:00 <@{n}> {t}"),
        ("message", "12:00  * {n} {t}"),
        ("message", "12:00 -{n}:#c- {t}"),
        ("join", "12:00 -!- {n} [{h}] has joined #c"),
        ("leave", "12:00 -!- {n} [{h}] has left #c [{r}]"),
        ("leave", "12:00 -!- {n} [{h}] has quit [{r}]"),
        ("rename", "12:00 -!- {n} is now known as {o}"),
        ("kick", "12:00 -!- {o} was kicked from #c by {n} [{r}]"),
        ("service", "12:00 -!- mode/#c [+o {o}] by {n}"),
        ("none", "12:00 -!- Irssi: Join to #c was synced in 2 secs"),
        ("reject", "this is no log line"),
    ],
    "weechat": [
        ("message", "2020-01-01 12:00:00\t{n}\t{t}"),
        ("message", "2020-01-01 12:00:00\t@{n}\t{t}"),
        ("message", "2020-01-01 12:00:00\t *\t{n} {t}"),
        ("join", "2020-01-01 12:00:00\t-->\t{n} ({h}) has joined #c"),
        ("leave", "2020-01-01 12:00:00\t<--\t{n} ({h}) has left #c ({r})"),
        ("leave", "2020-01-01 12:00:00\t<--\t{n} ({h}) has quit ({r})"),
        ("rename", "2020-01-01 12:00:00\t--\t{n} is now known as {o}"),
        ("kick", "2020-01-01 12:00:00\t<--\t{n} has kicked {o} ({r})"),
        ("none", "2020-01-01 12:00:00\t--\tChannel #c: 3 nicks (1 op, 0 voices, 2 normals)"),
        ("reject", "this is no log line"),
    ],
    "znc": [
        ("message", "[12:00:00] <{n}> {t}"),
        ("message", "[12:00:00] * {n} {t}"),
        ("message", "[12:00:00] -{n}- {t}"),
        ("join", "[12:00:00] *** Joins: {n} ({h})"),
        ("leave", "[12:00:00] *** Parts: {n} ({h}) ({r})"),
        ("leave", "[12:00:00] *** Quits: {n} ({h}) ({r})"),
        ("rename", "[12:00:00] *** {n} is now known as {o}"),
        ("kick", "[12:00:00] *** {o} was kicked by {n} ({r})"),
        ("service", "[12:00:00] *** {n} sets mode: +o {o}"),
        ("none", "[12:00:00] Connected to IRC (irc.example.net +6697)"),
        ("reject", "this is no log line"),
    ],
}
_HEADS = {
    "ubuntu": ("2020/01/01/#c.txt", "[11:00] <head> hi"),
    "irssi": ("#c.log", "--- Log opened Wed Jan 01 11:00:00 2020"),
    "weechat": ("irc.n.#c.weechatlog", "2020-01-01 11:00:00\thead\thi"),
    "znc": ("#c_20200101.log", "[11:00:00] <head> hi"),
}


def _generate(rng: random.Random, dialect: str, n: int) -> tuple[str, list[tuple[str, ...]]]:
    """A log of ``n`` random lines and, per line, what it must give."""
    lines, expected = [], []
    for _ in range(n):
        kind, template = rng.choice(_TEMPLATES[dialect])
        nick, other = _gen_nick(rng), _gen_nick(rng)
        host = rng.choice(_HOSTS)
        if dialect in ("weechat", "znc"):
            host = host.replace(")", "")
        reason = rng.choice(_REASONS)
        line = template.format(
            n=nick, o=other, h=host, r=reason, t=_gen_text(rng), p=rng.choice(["waves", "sighs"])
        )
        lines.append(line + rng.choice(_TAILS))
        expected.append(_expectation(kind, nick, other))
    return "\n".join(lines) + "\n", expected


def _expectation(kind: str, nick: str, other: str) -> tuple[str, ...]:
    if kind in ("message", "service"):
        return (kind, nick)
    if kind in ("join", "leave"):
        return (kind, nick, nick)
    if kind == "kick":
        return (kind, nick, other)
    if kind == "rename":
        return (kind, nick, other)
    return (kind,)


@pytest.mark.parametrize("dialect", sorted(_TEMPLATES))
@pytest.mark.parametrize("seed", range(5))
def test_every_line_is_one_event_or_a_reported_reject(
    tmp_path: Path, dialect: str, seed: int
) -> None:
    """Property: in a generated log each line gives exactly one event of its kind and
    member, a reported reject, or (a closed set of client noise) nothing — never a
    silent loss, never a double count."""
    rng = random.Random(f"{dialect}-{seed}")
    name, head = _HEADS[dialect]
    body, expected = _generate(rng, dialect, 300)
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((head + "\n" + body).encode("utf-8"))
    events, rejected = collect(IMPORTER, tmp_path, ImportOptions(tz=ZoneInfo("UTC")))
    if dialect != "irssi":
        events = events[1:]  # the head line's own message
    got = [
        (e.kind.value, *(r.display_name or "" for r in (e.actor, e.target) if r is not None))
        for e in events
    ]
    assert got == [x for x in expected if x[0] not in ("none", "reject")]
    rejected_lines = [i + 2 for i, x in enumerate(expected) if x[0] == "reject"]
    assert [r.line for r in rejected] == rejected_lines
