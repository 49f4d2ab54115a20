"""IRC log importer: irssi, WeeChat, ZNC (both layouts) and irclogs.ubuntu.com samples."""

from __future__ import annotations

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
