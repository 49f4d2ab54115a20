"""Slack export importer: a hand-written export in Slack's real layout (samples/slack)."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from qunyun.errors import ImportFormatError
from qunyun.events import Event, GroupRef, IdentityRef, Kind
from qunyun.importers.base import ImportOptions, Rejected, collect
from qunyun.importers.slack import IMPORTER

SAMPLES = Path(__file__).parent / "samples" / "slack"
EXPORT = SAMPLES / "export"
OPTS = ImportOptions(tz=ZoneInfo("Asia/Shanghai"))
GENERAL = GroupRef("slack", "C01GENERAL1", "#general")
LIN = IdentityRef("slack", "U01AAAA1111", "林梅")
WANG = IdentityRef("slack", "U01BBBB2222", "Wang Wei")
WELCOME = "C01GENERAL1:1709280000.000200"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def by_id(events: list[Event]) -> dict[str, Event]:
    return {e.source_event_id: e for e in events}


@pytest.fixture(scope="module")
def result() -> tuple[list[Event], list[Rejected]]:
    events, rejected = collect(IMPORTER, EXPORT, OPTS)
    return events, rejected


def test_groups_are_channels_private_channels_and_dms(
    result: tuple[list[Event], list[Rejected]],
) -> None:
    events, _ = result
    assert {e.group for e in events} == {
        GENERAL,
        GroupRef("slack", "G01OPSPRIV", "#ops-private"),
        GroupRef("slack", "D01DMLINWANG", "DM 林梅, Wang Wei"),
    }


def test_join_with_inviter_and_leave(result: tuple[list[Event], list[Rejected]]) -> None:
    ev = by_id(result[0])
    assert ev["C01GENERAL1:1709280000.000100"] == Event(
        "slack",
        "C01GENERAL1:1709280000.000100",
        Kind.JOIN,
        utc(2024, 3, 1, 8, 0, 0, 100),
        GENERAL,
        actor=WANG,
        target=LIN,
        payload={"method": "invited_by", "service": "channel_join"},
    )
    leave = ev["C01GENERAL1:1709366500.000300"]
    assert (leave.kind, leave.actor, leave.target) == (Kind.LEAVE, LIN, LIN)


def test_markup_thread_edit_and_reactions(result: tuple[list[Event], list[Rejected]]) -> None:
    events, _ = result
    ev = by_id(events)
    msg = ev[WELCOME]
    assert msg.actor == WANG
    assert msg.payload == {
        "text": "Welcome @林梅! See #random & the docs @here",
        "type": "text",
        "mentions": ["U01AAAA1111"],
        "urls": ["https://example.org/docs"],
        "thread": "1709280000.000200",
        "edited_at": "2024-03-01T08:01:00+00:00",
        "extra": {"reply_count": 2},
    }
    edit = ev[f"{WELCOME}:edit:1709280060.000000"]
    assert (edit.kind, edit.ts, edit.actor, edit.payload["message_id"]) == (
        Kind.EDIT,
        utc(2024, 3, 1, 8, 1),
        WANG,
        WELCOME,
    )
    reply = ev["C01GENERAL1:1709280100.000300"]
    assert reply.payload["reply_to"] == WELCOME and reply.payload["thread"] == "1709280000.000200"
    broadcast = ev["C01GENERAL1:1709280120.000400"]
    assert broadcast.payload["extra"] == {"subtype": "thread_broadcast"}
    reactions = [
        (
            e.source_event_id.removeprefix(WELCOME),
            e.actor and e.actor.external_id,
            e.payload.get("count"),
        )
        for e in events
        if e.kind is Kind.REACTION
    ]
    assert reactions == [
        (":reaction:tada:U01AAAA1111", "U01AAAA1111", None),
        (":reaction:+1::skin-tone-2:U01AAAA1111", "U01AAAA1111", None),
        (":reaction:+1::skin-tone-2:U01CCCC3333", "U01CCCC3333", None),
        (":reaction:+1::skin-tone-2", None, 3),
    ]


def test_files_bots_links_and_service_lines(result: tuple[list[Event], list[Rejected]]) -> None:
    ev = by_id(result[0])
    upload = ev["C01GENERAL1:1709280200.000500"]
    assert upload.payload == {"type": "image", "media": "screenshot.png"}
    bot = ev["C01GENERAL1:1709280300.000600"]
    assert bot.actor == IdentityRef("slack", "B01STANDUP", "Standup", is_bot=True)
    assert bot.payload["text"] == "Daily standup: 3 updates"  # from the attachment fallback
    topic = ev["C01GENERAL1:1709280400.000700"]
    assert (topic.kind, topic.payload["extra"]) == (Kind.SERVICE, {"topic": "Launch week"})
    rename = ev["C01GENERAL1:1709280500.000800"]
    assert (rename.kind, rename.payload["title"]) == (Kind.TITLE_CHANGE, "announcements")
    pin = ev["C01GENERAL1:1709280600.000900"]
    assert (pin.kind, pin.payload["message_id"]) == (Kind.PIN, WELCOME)
    link = ev["C01GENERAL1:1709280700.001000"]
    assert (link.payload["type"], link.payload["urls"]) == ("link", ["https://qunyun.example/blog"])


def test_tombstone_and_unknown_user_profile(result: tuple[list[Event], list[Rejected]]) -> None:
    ev = by_id(result[0])
    tomb = ev["C01GENERAL1:1709366400.000100:tombstone"]
    assert (tomb.kind, tomb.payload["message_id"]) == (Kind.DELETE, "C01GENERAL1:1709366400.000100")
    guest = ev["C01GENERAL1:1709366460.000200"]
    assert guest.actor == IdentityRef("slack", "U01ZZZZ9999", "zhao")  # not in users.json


def test_rejections_name_file_record_and_field(result: tuple[list[Event], list[Rejected]]) -> None:
    rejected = result[1]
    assert [(r.file.rsplit("/", 2)[-2:], r.record, r.field) for r in rejected] == [
        (["general", "2024-03-01.json"], "[9]", "ts"),
        (["general", "2024-03-01.json"], "[10]", None),
    ]


def test_truncated_day_file() -> None:
    events, rejected = collect(IMPORTER, SAMPLES / "broken", OPTS)
    assert [e.source_event_id for e in events] == ["C01GENERAL1:1709280000.000100"]
    assert rejected[0].record == "[1]" and "invalid JSON" in rejected[0].message


def test_zip_with_top_folder_and_reimport_ids(tmp_path: Path) -> None:
    archive = tmp_path / "Qunyun Slack export Mar 1 2024.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in EXPORT.rglob("*.json"):
            zf.write(f, f.relative_to(EXPORT).as_posix())
    a, _ = collect(IMPORTER, EXPORT, OPTS)
    b, _ = collect(IMPORTER, archive, OPTS)
    assert [e.source_event_id for e in a] == [e.source_event_id for e in b]
    assert a == b or [e.payload for e in a] == [e.payload for e in b]
    ids = [e.source_event_id for e in a]
    assert len(ids) == len(set(ids))


def test_group_option_overrides() -> None:
    events, _ = collect(
        IMPORTER, EXPORT / "ops-private", ImportOptions(tz=ZoneInfo("UTC"), group="ops")
    )
    assert [e.source_event_id for e in events] == ["ops:1709280000.000100"]


def test_detect(tmp_path: Path) -> None:
    assert IMPORTER.detect(EXPORT) == 95
    assert IMPORTER.detect(EXPORT / "general") >= 40
    dce = tmp_path / "dce.json"
    dce.write_text('{"guild": {"id": "1"}, "channel": {"id": "2"}, "messages": []}')
    telegram = tmp_path / "result.json"
    telegram.write_text('{"name": "G", "type": "private_group", "id": 1, "messages": []}')
    chat = tmp_path / "chat.txt"
    chat.write_text("[1/2/24, 12:34:56] Lin: hi\n")
    for path in (dce, telegram, chat):
        assert IMPORTER.detect(path) == 0


def test_no_day_files_raises(tmp_path: Path) -> None:
    (tmp_path / "users.json").write_text("[]")
    with pytest.raises(ImportFormatError):
        list(IMPORTER.files(tmp_path, OPTS))


def test_legacy_shapes_webhooks_file_comments_and_blocks_only() -> None:
    """Shapes from older exports and apps: a webhook post with only a ``username``, a
    pre-2019 ``file_comment``, a message whose text lives only in ``blocks``, a file
    hidden by the free plan's limit, and records without what they need."""
    events, rejected = collect(IMPORTER, SAMPLES / "legacy", OPTS)
    ev = {e.source_event_id.removeprefix("C9RANDOM:"): e for e in events}
    join = ev["1500000100.000002"]
    assert (join.kind, join.payload) == (
        Kind.JOIN,
        {"method": "unknown", "service": "channel_join"},
    )
    assert join.target == IdentityRef("slack", "U1LIN", "Lin Mei")
    webhook = ev["1500000200.000003"]
    assert webhook.actor == IdentityRef("slack", "bot:build-bot", "build-bot", True)
    comment = ev["1500000300.000004"]
    assert comment.actor == IdentityRef("slack", "U2WANG", "wang")
    assert comment.payload["extra"] == {"subtype": "file_comment"}
    blocks = ev["1500000400.000005"].payload
    assert blocks["text"] == "@wang see the doc :tada:"
    assert (blocks["mentions"], blocks["urls"]) == (["U2WANG"], ["https://example.org/doc"])
    assert ev["1500000400.000005"].ts == datetime(2017, 7, 14, 2, 46, 40, 5, tzinfo=UTC)
    assert ev["1500000500.000006"].payload == {
        "text": "@wang set the channel topic: Random stuff",
        "service": "channel_topic",
        "extra": {"topic": "Random stuff"},
    }
    assert ev["1500000600.000007"].payload["extra"] == {"purpose": "Chat"}
    assert ev["1500000700.000008"].payload["type"] == "file"  # hidden_by_limit: no name
    assert "media" not in ev["1500000700.000008"].payload
    assert ev["1500000800.000009"].payload["service"] == "channel_archive"
    assert [(r.record, r.field) for r in rejected] == [
        ("[8]", "ts"),
        ("[9] ts 1500000900.000010", "user"),
    ]
    assert all(r.file.endswith("2017-07-14.json") for r in rejected)


@pytest.mark.parametrize(
    ("subtype", "kind", "msg_type"),
    [
        (None, Kind.MESSAGE, "text"),
        ("me_message", Kind.MESSAGE, "text"),
        ("thread_broadcast", Kind.MESSAGE, "text"),
        ("bot_message", Kind.MESSAGE, "text"),
        ("sh_room_created", Kind.MESSAGE, "call"),  # a huddle: a call notice
        ("huddle_thread", Kind.MESSAGE, "call"),
        ("reminder_add", Kind.SERVICE, None),  # Slack's notice, nobody said it
        ("channel_topic", Kind.SERVICE, None),
        ("channel_join", Kind.JOIN, None),
        ("channel_leave", Kind.LEAVE, None),
    ],
)
def test_what_counts_as_a_message(
    tmp_path: Path, subtype: str | None, kind: Kind, msg_type: str | None
) -> None:
    (tmp_path / "users.json").write_text(json.dumps([{"id": "U1", "name": "lin"}]))
    (tmp_path / "channels.json").write_text(json.dumps([{"id": "C1", "name": "general"}]))
    (tmp_path / "general").mkdir()
    msg = {"type": "message", "user": "U1", "text": "x", "ts": "1704067200.000100"}
    if subtype is not None:
        msg["subtype"] = subtype
    if subtype == "bot_message":
        msg.update({"bot_id": "B1", "username": "deploy"})
    (tmp_path / "general" / "2024-01-01.json").write_text(json.dumps([msg]))
    events, rejected = collect(IMPORTER, tmp_path, OPTS)
    assert rejected == []
    assert [(e.kind, e.payload.get("type")) for e in events] == [(kind, msg_type)]
