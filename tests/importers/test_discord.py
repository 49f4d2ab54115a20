"""DiscordChatExporter JSON importer: samples in DCE's real shape (see samples/discord)."""

from __future__ import annotations

import json
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from qunyun.errors import ImportFormatError
from qunyun.events import Event, GroupRef, IdentityRef, Kind
from qunyun.importers.base import ImportOptions, collect
from qunyun.importers.discord import IMPORTER

SAMPLES = Path(__file__).parent / "samples" / "discord"
OPTS = ImportOptions(tz=ZoneInfo("Asia/Shanghai"))
GUILD = GroupRef("discord", "881000000000000001", "Qunyun Lab")
LIN = IdentityRef("discord", "300000000000000001", "林梅")
WANG = IdentityRef("discord", "300000000000000002", "Wang (ops)")
KAI = IdentityRef("discord", "300000000000000003", "kai")
GENERAL = {
    "channel_id": "881000000000000010",
    "channel": "general",
    "category": "Text Channels",
    "channel_type": "GuildTextChat",
}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def by_id(events: list[Event]) -> dict[str, Event]:
    return {e.source_event_id: e for e in events}


def test_guild_is_the_group_and_channels_are_threads() -> None:
    events, _ = collect(IMPORTER, SAMPLES / "server", OPTS)
    assert {e.group for e in events} == {GUILD}
    threads = {e.payload["thread"] for e in events}
    assert threads == {"881000000000000010", "881000000000000020"}


def test_member_join_is_a_self_join() -> None:
    events, _ = collect(IMPORTER, SAMPLES / "server", OPTS)
    join = by_id(events)["881000000000000001:1210000000000000001"]
    assert join == Event(
        "discord",
        "881000000000000001:1210000000000000001",
        Kind.JOIN,
        utc(2024, 3, 1, 1, 0, 0, 123000),
        GUILD,
        actor=LIN,
        target=LIN,
        payload={
            "thread": "881000000000000010",
            "extra": GENERAL,
            "method": "unknown",
            "service": "GuildMemberJoin",
        },
    )


def test_message_with_image_mentions_edit_and_reactions() -> None:
    events, _ = collect(IMPORTER, SAMPLES / "server", OPTS)
    ev = by_id(events)
    sid = "881000000000000001:1210000000000000002"
    msg = ev[sid]
    assert msg.kind is Kind.MESSAGE
    assert msg.ts == utc(2024, 3, 1, 1, 5, 10, 500000)  # +08:00 offset in the file
    assert msg.actor == WANG
    assert msg.payload == {
        "thread": "881000000000000010",
        "extra": {**GENERAL, "pinned": True},
        "text": "Welcome @林梅! Screenshot of the setup, docs at https://example.org/docs",
        "type": "image",
        "mentions": ["300000000000000001"],
        "urls": ["https://example.org/docs"],
        "media": "setup.PNG",
        "edited_at": "2024-03-01T01:06:00+00:00",
    }
    edit = ev[f"{sid}:edit:2024-03-01T01:06:00+00:00"]
    assert (edit.kind, edit.ts, edit.actor, edit.payload["message_id"]) == (
        Kind.EDIT,
        utc(2024, 3, 1, 1, 6),
        WANG,
        sid,
    )
    reactions = [e for e in events if e.kind is Kind.REACTION]
    assert [(e.source_event_id, e.actor, e.payload.get("count")) for e in reactions] == [
        (f"{sid}:reaction:👍:300000000000000001", LIN, None),
        (f"{sid}:reaction:👍:300000000000000003", KAI, None),
        (f"{sid}:reaction:👍", None, 1),  # counted 3, listed 2
        (f"{sid}:reaction:881000000000000500", None, 1),  # no users list at all
    ]
    assert all(e.target == WANG and e.payload["message_id"] == sid for e in reactions)
    assert reactions[3].payload["emoji"] == "qunyun_party"


def test_reply_pin_thread_sticker_bot_command() -> None:
    events, _ = collect(IMPORTER, SAMPLES / "server", OPTS)
    ev = by_id(events)
    target = "881000000000000001:1210000000000000002"
    reply = ev["881000000000000001:1210000000000000003"]
    assert (reply.payload["type"], reply.payload["reply_to"]) == ("reply", target)
    pin = ev["881000000000000001:1210000000000000004"]
    assert (pin.kind, pin.actor, pin.payload["message_id"]) == (Kind.PIN, WANG, target)
    bot = ev["881000000000000001:1210000000000000007"]
    assert bot.kind is Kind.MESSAGE and bot.actor is not None and bot.actor.is_bot
    assert bot.payload["extra"]["command"] == "stats"
    sticker = ev["881000000000000001:1210000000000000008"]
    assert (sticker.payload["type"], sticker.payload["media"]) == ("sticker", "Wave")
    assert "text" not in sticker.payload  # empty content is omitted
    thread = ev["881000000000000001:1210000000000000009"]
    assert (thread.kind, thread.payload["service"]) == (Kind.SERVICE, "ThreadCreated")
    voice = ev["881000000000000001:1210000000000000101"]
    assert voice.payload["type"] == "voice"
    assert voice.payload["extra"]["attachments"] == ["voice-message.ogg", "notes.pdf"]
    assert voice.payload["extra"]["category"] == "general"  # the thread's parent channel


def test_malformed_records_are_rejected_and_reading_continues() -> None:
    events, rejected = collect(IMPORTER, SAMPLES / "server", OPTS)
    assert [(r.record, r.field) for r in rejected] == [
        ("messages[4] id 1210000000000000005", "timestamp"),
        ("messages[5] id 1210000000000000006", "author"),
    ]
    assert rejected[0].file.endswith("general [881000000000000010].json")
    assert "881000000000000001:1210000000000000007" in by_id(events)


def test_group_dm_recipients_are_joins_leaves_and_kicks() -> None:
    events, rejected = collect(IMPORTER, SAMPLES / "dm", OPTS)
    dm = GroupRef("discord", "990000000000000001", "lin.mei, kai, ops_wang")
    kai = IdentityRef("discord", "300000000000000003", "kai")
    wang = IdentityRef("discord", "300000000000000002", "ops_wang")
    lin = IdentityRef("discord", "300000000000000001", "lin.mei")
    got = [(e.kind, e.source_event_id.split(":")[1], e.actor, e.target) for e in events]
    assert got == [
        (Kind.JOIN, "1220000000000000001", wang, kai),
        (Kind.TITLE_CHANGE, "1220000000000000002", wang, None),
        (Kind.MESSAGE, "1220000000000000003", kai, None),
        (Kind.LEAVE, "1220000000000000004", kai, kai),
        (Kind.KICK, "1220000000000000005", wang, lin),
        (Kind.MESSAGE, "1220000000000000006", wang, None),
    ]
    assert {e.group for e in events} == {dm}
    assert events[0].payload["method"] == "invited_by"
    assert events[1].payload["title"] == "weekend"
    assert events[2].payload["type"] == "call"
    assert events[5].payload["type"] == "forward"
    assert [(r.record, r.message) for r in rejected] == [
        ("messages[5]", "message is not a JSON object")
    ]


def test_truncated_file_keeps_what_was_read() -> None:
    events, rejected = collect(IMPORTER, SAMPLES / "broken", OPTS)
    assert [e.kind for e in events] == [Kind.JOIN]
    assert len(rejected) == 1 and rejected[0].record == "messages[1]"
    assert "invalid JSON" in rejected[0].message


def test_zip_and_reimport_give_identical_ids(tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in (SAMPLES / "server").iterdir():
            zf.write(f, f"server/{f.name}")
    from_dir, _ = collect(IMPORTER, SAMPLES / "server", OPTS)
    from_zip, _ = collect(IMPORTER, archive, OPTS)
    again, _ = collect(IMPORTER, SAMPLES / "server", OPTS)
    ids = [e.source_event_id for e in from_dir]
    assert ids == [e.source_event_id for e in from_zip] == [e.source_event_id for e in again]
    assert len(set(ids)) == len(ids)


def test_progress_position_counts_bytes() -> None:
    single = next((SAMPLES / "server").glob("*general*.json"))
    (sf,) = list(IMPORTER.files(single, OPTS))
    assert sf.position() == 0
    list(sf.records)
    assert sf.position() == sf.size == single.stat().st_size


def test_detect(tmp_path: Path) -> None:
    single = next((SAMPLES / "server").glob("*general*.json"))
    assert IMPORTER.detect(single) >= 90
    assert IMPORTER.detect(SAMPLES / "server") >= 90
    telegram = tmp_path / "result.json"
    telegram.write_text('{"name": "G", "type": "private_supergroup", "id": 1, "messages": []}')
    slack_day = tmp_path / "2024-01-01.json"
    slack_day.write_text('[{"type": "message", "user": "U1", "text": "hi", "ts": "1.2"}]')
    junk = tmp_path / "notes.txt"
    junk.write_text("hello\n")
    for path in (telegram, slack_day, junk, tmp_path):
        assert IMPORTER.detect(path) == 0


def test_not_a_dce_export_raises(tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    other.write_text('{"messages": []}')
    with pytest.raises(ImportFormatError):
        list(IMPORTER.files(other, OPTS))
    shutil.copy(other, tmp_path / "again.json")
    with pytest.raises(ImportFormatError):
        list(IMPORTER.files(tmp_path, OPTS))


def test_older_dce_numeric_kinds_forwards_commands_and_partitions() -> None:
    """An older export (no ``nickname``/``categoryId``, 7-digit fractions, local offsets),
    numeric kinds DCE has no name for, a forward, a slash command, and a ``[part 2]``
    file that was cut off mid-message."""
    events, rejected = collect(IMPORTER, SAMPLES / "mixed-versions", OPTS)
    ev = by_id(events)
    g = "991000000000000001"
    join = ev[f"{g}:1300000000000000001"]
    assert (join.kind, join.actor, join.target) == (
        Kind.JOIN,
        IdentityRef("discord", "400000000000000002", "oldtimer"),
        IdentityRef("discord", "400000000000000002", "oldtimer"),
    )
    assert join.ts == datetime(2021, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)
    boost = ev[f"{g}:1300000000000000002"]  # type 8: a server boost, a system message
    assert (boost.kind, boost.payload["service"]) == (Kind.SERVICE, "8")
    thread = ev[f"{g}:1300000000000000003"]
    assert thread.payload["extra"]["thread_id"] == "991000000000000020"
    command = ev[f"{g}:1300000000000000004"]  # type 20: a slash-command reply is a message
    assert command.kind is Kind.MESSAGE and command.actor is not None and command.actor.is_bot
    assert command.payload["extra"]["command_user"] == {"id": "400000000000000001", "name": "lin"}
    assert command.payload["extra"]["discord_type"] == "20"
    forward = ev[f"{g}:1300000000000000005"]
    assert forward.payload["type"] == "forward"
    assert (forward.payload["text"], forward.payload["media"]) == ("the original post", "plan.png")
    # the second part of a partitioned export feeds the same group; its cut keeps what was read
    assert ev[f"{g}:1300000000000000006"].payload["text"] == "still here"
    assert [(r.file.endswith("[part 2].json"), r.record) for r in rejected] == [
        (True, "messages[1]")
    ]
    assert {e.group.external_id for e in events} == {g}


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("Default", Kind.MESSAGE),
        ("Reply", Kind.MESSAGE),
        ("20", Kind.MESSAGE),  # slash-command reply
        ("23", Kind.MESSAGE),  # context-menu-command reply
        ("8", Kind.SERVICE),  # server boost
        ("21", Kind.SERVICE),  # thread starter: a copy of a message counted elsewhere
        ("24", Kind.SERVICE),  # AutoMod action
        ("46", Kind.SERVICE),  # poll result
    ],
)
def test_what_counts_as_a_message(tmp_path: Path, kind: str, expected: Kind) -> None:
    doc = {
        "guild": {"id": "1", "name": "G"},
        "channel": {"id": "2", "type": "GuildTextChat", "name": "general"},
        "messages": [
            {
                "id": "3",
                "type": kind,
                "timestamp": "2024-01-01T00:00:00+00:00",
                "content": "x",
                "author": {"id": "4", "name": "a", "isBot": False},
            }
        ],
    }
    path = tmp_path / "G - general [2].json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    events, rejected = collect(IMPORTER, path, ImportOptions(tz=ZoneInfo("UTC")))
    assert rejected == []
    assert [e.kind for e in events] == [expected]
