"""Telegram Desktop JSON export importer: real-shaped samples, odd corners included."""

from __future__ import annotations

import json
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select

from qunyun import importers
from qunyun.errors import ImportFormatError
from qunyun.events import PAYLOAD_KEYS, Event, GroupRef, IdentityRef, Kind
from qunyun.importers import telegram_records
from qunyun.importers.base import ImportOptions, Rejected, collect
from qunyun.importers.telegram import IMPORTER
from qunyun.importing import run_import
from qunyun.store.schema import group_daily, identities, memberships
from tests.conftest import EngineContract

SAMPLES = Path(__file__).parent / "samples" / "telegram"
CHAT_DIR = SAMPLES / "ChatExport_2024-01-03"
CHAT = CHAT_DIR / "result.json"
OLD = SAMPLES / "old_basic_group.json"
ACCOUNT = SAMPLES / "account_export"
SHANGHAI = ImportOptions(tz=ZoneInfo("Asia/Shanghai"))
BERLIN = ImportOptions(tz=ZoneInfo("Europe/Berlin"))

GID = "-1001698765432"
GROUP = GroupRef("telegram", GID, "Qunyun 用户群")
ALICE = IdentityRef("telegram", "111111111", "Alice Wang")
BOB = IdentityRef("telegram", "222222222", "Bob")
DAVE = IdentityRef("telegram", "444444444", "Dave")
EVE = IdentityRef("telegram", "666666666", "Eve")
FRANK = IdentityRef("telegram", "777777777", "Frank")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def ev(sid: str, kind: Kind, ts: datetime, **kw: object) -> Event:
    return Event(
        source="telegram", source_event_id=f"{GID}:{sid}", kind=kind, ts=ts, group=GROUP, **kw
    )  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def chat() -> tuple[dict[str, Event], list[Rejected]]:
    events, rejected = collect(IMPORTER, CHAT_DIR, SHANGHAI)
    by_id = {e.source_event_id: e for e in events}
    assert len(by_id) == len(events), "source_event_ids must be unique"
    return by_id, rejected


# --------------------------------------------------------------------------- messages


def test_entity_text_is_flattened_with_urls_and_mentions(
    chat: tuple[dict[str, Event], list[Rejected]],
) -> None:
    assert chat[0][f"{GID}:2"] == ev(
        "2",
        Kind.MESSAGE,
        utc(2024, 1, 2, 1, 5),
        actor=ALICE,
        payload={
            "type": "text",
            "text": "欢迎来到 qunyun！文档：https://qunyun.example/docs 和 这里，"
            "有问题找 @bob_dev #新人",
            "urls": ["https://qunyun.example/docs", "https://t.me/qunyun_news/12"],
            "mentions": ["bob_dev"],
        },
    )


def test_reply_with_mention_name_and_edit(chat: tuple[dict[str, Event], list[Rejected]]) -> None:
    events = chat[0]
    assert events[f"{GID}:4"] == ev(
        "4",
        Kind.MESSAGE,
        utc(2024, 1, 2, 1, 12),
        actor=BOB,
        payload={
            "type": "reply",
            "text": "谢谢 Alice 👍",
            "mentions": ["111111111"],
            "reply_to": f"{GID}:2",
            "edited_at": "2024-01-02T01:13:30+00:00",
        },
    )
    assert events[f"{GID}:4:edit:1704158010"] == ev(
        "4:edit:1704158010",
        Kind.EDIT,
        utc(2024, 1, 2, 1, 13, 30),
        actor=BOB,
        payload={
            "text": "谢谢 Alice 👍",
            "edited_at": "2024-01-02T01:13:30+00:00",
            "message_id": f"{GID}:4",
        },
    )


def test_media_messages(chat: tuple[dict[str, Event], list[Rejected]]) -> None:
    events = chat[0]
    types = {
        sid: events[f"{GID}:{sid}"].payload["type"]
        for sid in ("8", "9", "10", "11", "14", "15", "16", "25", "26")
    }
    assert types == {
        "8": "image",
        "9": "sticker",
        "10": "voice",
        "11": "forward",
        "14": "poll",
        "15": "location",
        "16": "contact",
        "25": "video",
        "26": "text",
    }
    assert events[f"{GID}:10"].payload == {
        "type": "voice",
        "media": "voice_messages/audio_1@02-01-2024_10-30-00.ogg",
        "extra": {"media_type": "voice_message", "mime_type": "audio/ogg", "duration_seconds": 7},
    }
    assert events[f"{GID}:11"].payload["forwarded_from"] == "Telegram News"
    assert events[f"{GID}:15"].payload["extra"] == {
        "location_information": {"latitude": 31.230416, "longitude": 121.473701}
    }
    assert events[f"{GID}:25"].payload["extra"]["via_bot"] == "@gif"
    assert (
        events[f"{GID}:26"].payload["text"]
        == "结局\n引用一段话 pip install qunyun /start@qunyun_bot"
    )


def test_reactions_by_named_reactors_and_totals(
    chat: tuple[dict[str, Event], list[Rejected]],
) -> None:
    events = chat[0]
    assert events[f"{GID}:8"].payload["extra"] == {
        "reactions": [
            {"emoji": "❤", "count": 3},
            {"emoji": "custom:5368324170671202286", "count": 1},
        ]
    }
    reactions = [e for e in events.values() if e.kind is Kind.REACTION]
    assert reactions == [
        ev(
            "8:reaction:111111111:❤",
            Kind.REACTION,
            utc(2024, 1, 2, 2, 20),
            actor=ALICE,
            payload={"emoji": "❤", "message_id": f"{GID}:8"},
        ),
        ev(
            "8:reaction:222222222:❤",
            Kind.REACTION,
            utc(2024, 1, 2, 2, 21),
            actor=BOB,
            payload={"emoji": "❤", "message_id": f"{GID}:8"},
        ),
    ]


def test_odd_authors(chat: tuple[dict[str, Event], list[Rejected]]) -> None:
    events = chat[0]
    # a deleted account: no name, the id survives
    assert events[f"{GID}:12"].actor == IdentityRef("telegram", "555555555", None)
    # an anonymous admin posts as the group itself: Bot API sender_chat id
    assert events[f"{GID}:13"].actor == IdentityRef("telegram", GID, "Qunyun 用户群")
    # history migrated from the basic group keeps Telegram's shifted (negative) id
    assert events[f"{GID}:-999999990"].ts == utc(2023, 12, 31, 2, 0)
    # a reply to a message of another chat points into that chat
    assert events[f"{GID}:23"].payload["reply_to"] == "-1001122334455:77"


# --------------------------------------------------------------------------- service


def test_invites_one_join_per_member(chat: tuple[dict[str, Event], list[Rejected]]) -> None:
    events = chat[0]
    join = {"method": "invited_by", "service": "invite_members"}
    assert events[f"{GID}:3:0"] == ev(
        "3:0",
        Kind.JOIN,
        utc(2024, 1, 2, 1, 10),
        actor=ALICE,
        target=BOB,  # named only in the list; his id is known from his later messages
        payload=join,
    )
    assert events[f"{GID}:3:1"].target == IdentityRef("telegram", "陈 Carol", "陈 Carol")
    # adding oneself to a public group is a self-join
    assert events[f"{GID}:6:0"] == ev(
        "6:0",
        Kind.JOIN,
        utc(2024, 1, 2, 2, 5),
        actor=EVE,
        target=EVE,
        payload={"method": "unknown", "service": "invite_members"},
    )


def test_link_and_request_joins(chat: tuple[dict[str, Event], list[Rejected]]) -> None:
    events = chat[0]
    assert events[f"{GID}:5"] == ev(
        "5",
        Kind.JOIN,
        utc(2024, 1, 2, 2, 0),
        actor=ALICE,
        target=DAVE,
        payload={"method": "invite_link", "service": "join_group_by_link"},
    )
    assert events[f"{GID}:7"] == ev(
        "7",
        Kind.JOIN,
        utc(2024, 1, 2, 2, 6),
        actor=FRANK,
        target=FRANK,
        payload={"method": "approved", "service": "join_group_by_request"},
    )


def test_removals_are_kicks_or_leaves(chat: tuple[dict[str, Event], list[Rejected]]) -> None:
    events = chat[0]
    # Bob is named only; his id is known from his earlier messages
    assert events[f"{GID}:19"] == ev(
        "19",
        Kind.KICK,
        utc(2024, 1, 2, 5, 0),
        actor=ALICE,
        target=BOB,
        payload={"service": "remove_members"},
    )
    assert events[f"{GID}:20"] == ev(
        "20",
        Kind.LEAVE,
        utc(2024, 1, 2, 5, 5),
        actor=DAVE,
        target=DAVE,
        payload={"service": "remove_members"},
    )


def test_pin_title_and_other_service(chat: tuple[dict[str, Event], list[Rejected]]) -> None:
    events = chat[0]
    assert events[f"{GID}:17"] == ev(
        "17",
        Kind.PIN,
        utc(2024, 1, 2, 4, 30),
        actor=ALICE,
        payload={"service": "pin_message", "message_id": f"{GID}:13"},
    )
    assert events[f"{GID}:18"] == ev(
        "18",
        Kind.TITLE_CHANGE,
        utc(2024, 1, 2, 4, 31),
        actor=ALICE,
        payload={"title": "Qunyun 用户群 🚀", "service": "edit_group_title"},
    )
    assert events[f"{GID}:1"].payload == {"service": "migrate_from_group", "title": "Qunyun 老群"}
    assert events[f"{GID}:24"] == ev(
        "24",
        Kind.SERVICE,
        utc(2024, 1, 2, 12, 0),
        actor=ALICE,
        payload={"service": "group_call", "extra": {"duration": 3600}},
    )


# --------------------------------------------------------------------------- whole file


def test_malformed_records_are_rejected_and_reading_continues(
    chat: tuple[dict[str, Event], list[Rejected]],
) -> None:
    events, rejected = chat
    assert [(r.file, r.record, r.field) for r in rejected] == [
        (str(CHAT), "messages[21] (id 21)", "date_unixtime"),
        (str(CHAT), "messages[22] (id 22)", "type"),
    ]
    assert f"{GID}:23" in events and f"{GID}:26" in events


def test_payloads_are_documented_and_json(chat: tuple[dict[str, Event], list[Rejected]]) -> None:
    for e in chat[0].values():
        assert set(e.payload) <= PAYLOAD_KEYS, e.source_event_id
        json.dumps(e.payload)
        assert e.ts.tzinfo is UTC
        assert e.group == GROUP


def test_rereading_and_zip_give_identical_events(tmp_path: Path) -> None:
    first, _ = collect(IMPORTER, CHAT_DIR, SHANGHAI)
    again, _ = collect(IMPORTER, CHAT, SHANGHAI)
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in sorted(CHAT_DIR.rglob("*")):
            zf.write(p, f"ChatExport_2024-01-03/{p.relative_to(CHAT_DIR).as_posix()}")
    zipped, rejected = collect(IMPORTER, archive, SHANGHAI)
    assert first == again == zipped
    assert rejected[0].file == f"{archive}!ChatExport_2024-01-03/result.json"
    assert IMPORTER.detect(archive) >= 90


def test_old_export_local_dates_numeric_ids_and_dst() -> None:
    events, rejected = collect(IMPORTER, OLD, BERLIN)
    gid = "-345678901"  # a basic group keeps the Bot API "-<id>" form
    li = IdentityRef("telegram", "123456", "Li Lei")
    got = {e.source_event_id: e for e in events}
    # named only in the creation list; her id comes from her messages further on
    assert got[f"{gid}:1:0"].target == IdentityRef("telegram", "234567", "Han Meimei")
    assert got[f"{gid}:1:1"].target == li and got[f"{gid}:1:1"].payload["method"] == "unknown"
    assert got[f"{gid}:1"].ts == utc(2019, 3, 30, 20, 0)  # CET, +01:00
    assert got[f"{gid}:2"].ts == utc(2019, 7, 1, 10, 0)  # CEST, +02:00
    assert got[f"{gid}:3"].ts == utc(2019, 10, 27, 0, 30)  # the ambiguous hour: first one
    assert got[f"{gid}:4"].kind is Kind.KICK
    assert got[f"{gid}:4"].target == IdentityRef("telegram", "234567", "Han Meimei")
    assert got[f"{gid}:5"].payload["edited_at"] == "2019-11-02T08:00:00+00:00"
    assert got[f"{gid}:6"].actor == IdentityRef("telegram", "Nobody", None)
    assert [(r.record, r.field) for r in rejected] == [("messages[6] (id 7)", "date")]


def test_account_export_imports_groups_and_reports_personal_chats() -> None:
    events, rejected = collect(IMPORTER, ACCOUNT, SHANGHAI)
    assert sorted({(e.group.external_id, e.group.title) for e in events}) == [
        ("-1001300000003", "Old meetup"),
        ("-1001500000002", "Qunyun News"),
        ("-4000000001", "Qunyun 运营"),
    ]
    assert [e.source_event_id for e in events] == [
        "-4000000001:1",
        "-4000000001:2",
        "-4000000001:1:0",  # a list of names: resolved once its chat is read
        "-1001500000002:1",
        "-1001500000002:2",
        "-1001300000003:10",
        "-1001300000003:11",
    ]
    channel_post = events[4]
    assert channel_post.actor == IdentityRef("telegram", "-1001500000002", "Qunyun News")
    assert channel_post.payload["extra"] == {"author": "Alice Wang"}
    assert events[-1].kind is Kind.LEAVE
    label = str(ACCOUNT / "result.json")
    assert [(r.file, r.record, r.field) for r in rejected] == [
        (label, "chats.list[0] 'Bob'", "type"),
        (label, "chats.list[1]", "type"),
        (label, "chats.list[3].messages[2] (id 3)", "date_unixtime"),
    ]
    assert "personal_chat skipped" in rejected[0].message


# --------------------------------------------------------------------------- odd files


def test_header_after_messages_is_still_read(tmp_path: Path) -> None:
    raw = json.loads(CHAT.read_text(encoding="utf-8"))
    reordered = {
        "messages": raw["messages"][:3],
        "id": raw["id"],
        "type": raw["type"],
        "name": raw["name"],
    }
    path = tmp_path / "result.json"
    path.write_text(json.dumps(reordered, ensure_ascii=False), encoding="utf-8")
    events, _ = collect(IMPORTER, path, SHANGHAI)
    assert [e.source_event_id for e in events] == [f"{GID}:-999999990", f"{GID}:1", f"{GID}:2"]


def test_chat_without_id_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text('{"name": "x", "type": "private_supergroup", "messages": []}', encoding="utf-8")
    events, rejected = collect(IMPORTER, path, SHANGHAI)
    assert events == [] and [(r.record, r.field) for r in rejected] == [("chat 'x'", "id")]


def test_truncated_file_keeps_what_was_read(tmp_path: Path) -> None:
    data = CHAT.read_bytes()
    path = tmp_path / "result.json"
    path.write_bytes(data[: data.index(b'"id": 10,')])
    events, rejected = collect(IMPORTER, path, SHANGHAI)
    sids = {e.source_event_id for e in events}
    assert f"{GID}:9" in sids and f"{GID}:10" not in sids
    # the invite lists read before the break are kept, resolved with what was read
    assert {f"{GID}:3:0", f"{GID}:3:1", f"{GID}:6:0"} <= sids
    assert rejected[-1].record == "messages[10]"
    assert "invalid JSON" in rejected[-1].message


def test_bom_and_progress(tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    path.write_bytes(b"\xef\xbb\xbf" + CHAT.read_bytes())
    (sf,) = IMPORTER.files(path, SHANGHAI)
    assert sf.size == path.stat().st_size and sf.position() == 0
    records = list(sf.records)
    assert len(records) == len(collect(IMPORTER, CHAT, SHANGHAI)[0]) + 2
    assert sf.position() == sf.size


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize("path", [CHAT_DIR, CHAT, OLD, ACCOUNT, ACCOUNT / "result.json"])
def test_detects_its_own_samples(path: Path) -> None:
    assert IMPORTER.detect(path) >= 90
    assert importers.detect(path) is IMPORTER


def test_rejects_other_formats(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("2024/01/02 10:00 - Alice: hello\n", encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    for path in (junk, empty, SAMPLES / "not_telegram.json"):
        assert IMPORTER.detect(path) == 0, path
    with pytest.raises(ImportFormatError, match="not a Telegram Desktop JSON export"):
        list(IMPORTER.files(SAMPLES / "not_telegram.json", SHANGHAI))
    with pytest.raises(ImportFormatError, match=r"no result\.json"):
        list(IMPORTER.files(empty, SHANGHAI))


def test_html_export_is_recognised_and_explained(tmp_path: Path) -> None:
    html = SAMPLES / "html_export"
    assert 0 < IMPORTER.detect(html) < 50
    with pytest.raises(ImportFormatError, match="HTML export"):
        list(IMPORTER.files(html, SHANGHAI))
    copy = tmp_path / "export"
    shutil.copytree(html, copy)
    assert IMPORTER.detect(copy) == IMPORTER.detect(html)


def test_damaged_zip_is_not_detected(tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.write(CHAT, "ChatExport/result.json")
    data = archive.read_bytes()
    broken = tmp_path / "broken.zip"
    broken.write_bytes(data[:40] + b"\0" * 200 + data[240:])
    assert IMPORTER.detect(broken) == 0


def test_account_chat_with_messages_before_its_type_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text(
        '{"about": "x", "chats": {"about": "y", "list": ['
        '{"messages": [{"id": 1, "type": "message", "date_unixtime": "1"}],'
        ' "type": "public_channel"},'
        '{"name": "G", "type": "public_supergroup", "id": 7, "messages": ['
        '{"id": 2, "type": "message", "date_unixtime": "1704067200", "from": "A",'
        ' "from_id": "user1", "text": "hi", "text_entities": []}]}]}}',
        encoding="utf-8",
    )
    events, rejected = collect(IMPORTER, path, SHANGHAI)
    assert [e.source_event_id for e in events] == ["-1007:2"]
    assert [(r.record, r.field) for r in rejected] == [("chats.list[0]", "type")]


# ------------------------------------------------------------------- forum and rarer actions


FORUM = SAMPLES / "forum_export"
FID = "-1001555000111"


def test_forum_topics_and_rarer_service_actions() -> None:
    """A forum supergroup as tdesktop writes it: a message in a topic "replies" to the
    topic's ``topic_created`` message; rarer actions stay service events."""
    events, rejected = collect(IMPORTER, FORUM, ImportOptions(tz=ZoneInfo("UTC")))
    assert rejected == []
    by = {e.source_event_id.removeprefix(FID + ":"): e for e in events}
    assert by["2"].kind == Kind.SERVICE
    assert by["2"].payload == {
        "service": "topic_created",
        "thread": f"{FID}:2",
        "extra": {"topic_title": "Help desk"},
    }
    assert by["3"].payload == {"type": "text", "text": "where is the manual?", "thread": f"{FID}:2"}
    assert by["4"].payload["reply_to"] == f"{FID}:3" and "thread" not in by["4"].payload
    assert by["5"].payload == {"service": "topic_edit", "extra": {"new_title": "Help"}}
    # an invitation to a voice chat is not a join
    assert by["6"].kind == Kind.SERVICE and by["6"].payload["service"] == "invite_to_group_call"
    link = by["7"]
    assert (link.kind, link.payload["method"]) == (Kind.JOIN, "invite_link")
    assert (link.actor.display_name, link.target.external_id) == ("Alice", "333")  # type: ignore[union-attr]
    assert link.actor.external_id == "111"  # type: ignore[union-attr]  # resolved by name
    # a deleted account (null name) in a members list still joined: its own identity
    assert by["8:0"].kind == Kind.JOIN and by["8:1"].kind == Kind.JOIN
    assert by["8:1"].target == IdentityRef("telegram", f"deleted:{FID}:8:1")
    for mid, action in [
        ("9", "edit_group_photo"),
        ("10", "delete_group_photo"),
        ("11", "set_messages_ttl"),
        ("12", "boost_apply"),
        ("14", "some_future_action"),
    ]:
        assert (by[mid].kind, by[mid].payload["service"]) == (Kind.SERVICE, action)
    assert by["11"].payload["extra"] == {"period": 86400}
    assert by["12"].payload["extra"] == {"boosts": 2}
    assert by["13"].payload == {"service": "custom", "text": "Alice did a custom thing"}
    video = by["15"].payload
    assert (video["type"], video["extra"]["file_name"]) == ("video", "talk.mp4")
    assert video["media"].startswith("(File not included.")
    fwd = by["16"]
    assert fwd.actor == IdentityRef("telegram", "-100999", "News")
    assert fwd.payload["forwarded_from"] == "Qunyun News"
    assert fwd.payload["extra"]["forwarded_from_id"] == "channel555"
    reaction = by["16:reaction:222:👍"]
    assert reaction.ts == utc(2024, 6, 1, 12)  # "recent" has only a local date
    assert by["17"].kind == Kind.KICK and by["17"].target.display_name == "Dan"  # type: ignore[union-attr]
    assert by["18"].payload == {"service": "join_group_by_request", "method": "approved"}
    assert by["19"].kind == Kind.LEAVE


# --------------------------------------------------------------------------- member lists

JOINS = SAMPLES / "joins_export"
JID = "-1777000111"  # a basic group: where create_group lists its first members


def _who(ref: IdentityRef | None) -> str | None:
    return ref.external_id if ref is not None else None


def test_every_listed_member_is_one_join() -> None:
    """tdesktop writes invite/creation lists as display names, ``null`` for a deleted
    account; each entry is one join, with the same rules for every shape."""
    events, rejected = collect(IMPORTER, JOINS, ImportOptions(tz=ZoneInfo("UTC")))
    assert rejected == []
    by = {e.source_event_id.removeprefix(JID + ":"): e for e in events}
    assert len(by) == len(events)
    joins = {
        sid: (_who(e.target), _who(e.actor), e.payload["method"], e.payload["service"])
        for sid, e in by.items()
        if e.kind is Kind.JOIN
    }
    invite, create = "invite_members", "create_group"
    assert joins == {
        # the creator is listed with the first members: a member from the start
        "1:0": ("1001", "1001", "unknown", create),
        "1:1": ("1002", "1001", "invited_by", create),  # Bob speaks later: his id
        "1:2": ("Cid", "1001", "invited_by", create),  # never speaks: the name
        "2:0": ("1004", "1001", "invited_by", invite),
        "2:1": ("Eli", "1001", "invited_by", invite),
        "2:2": ("Fay", "1001", "invited_by", invite),
        "3:0": ("1007", "1001", "invited_by", invite),
        "3:1": (f"deleted:{JID}:3:1", "1001", "invited_by", invite),  # null: still a join
        "4:0": ("1008", "1008", "unknown", invite),  # joined a public group by itself
        # two people called Ivy in one list: neither can be told from the other
        "5:0": ("Ivy", "1001", "invited_by", invite),
        "5:1": ("Ivy#2", "1001", "invited_by", invite),
        # Ann adds a namesake with Jon: nobody adds themself together with others
        "6:0": ("Ann", "1001", "invited_by", invite),
        "6:1": ("1010", "1001", "invited_by", invite),
        # a deleted account (null name, id kept) that added itself
        "7:0": ("1099", "1099", "unknown", invite),
        # a channel-style notice without an actor: the member stands in
        "9:0": ("Kim", "Kim", "invited_by", invite),
        "10": ("1011", "1002", "invite_link", "join_group_by_link"),
    }
    assert by["1:0"].target == IdentityRef("telegram", "1001", "Ann")
    # lists naming others wait for the end of the chat; self-joins and leaves do not
    order = [e.source_event_id.removeprefix(JID + ":") for e in events]
    assert order.index("4:0") < order.index("11") < order.index("18") < order.index("2:0")
    assert order.index("7:0") < order.index("11")
    assert by["3:1"].target == IdentityRef("telegram", f"deleted:{JID}:3:1", None)
    assert by["5:1"].target == IdentityRef("telegram", "Ivy#2", "Ivy")
    # an empty list names nobody; the notice stays a service event
    assert by["8"].kind is Kind.SERVICE and by["8"].payload == {"service": invite}
    assert by["1"].payload == {
        "service": create,
        "title": "Joins lab",
        "extra": {"members": ["Ann", "Bob", "Cid"]},
    }
    # a deleted account removed by an admin is a kick of its own identity
    assert (by["17"].kind, _who(by["17"].target), _who(by["17"].actor)) == (
        Kind.KICK,
        f"deleted:{JID}:17:0",
        "1001",
    )


def test_member_lists_wait_only_within_their_chat(tmp_path: Path) -> None:
    """Held lists are resolved at the end of *their* chat: a name learnt in another
    chat of an account export does not leak in, and every chat's lists come out."""
    chat = json.loads((JOINS / "result.json").read_text(encoding="utf-8"))
    other = {
        "name": "Other",
        "type": "private_group",
        "id": 42,
        "messages": [
            {
                "id": 1,
                "type": "message",
                "date": "2024-07-02T08:00:00",
                "date_unixtime": "1719907200",
                "from": "Cid",
                "from_id": "user5005",
                "text": "x",
            },
        ],
    }
    account = {"about": "", "chats": {"about": "", "list": [chat, other]}}
    path = tmp_path / "result.json"
    path.write_text(json.dumps(account), encoding="utf-8")
    events, rejected = collect(IMPORTER, path, ImportOptions(tz=ZoneInfo("UTC")))
    assert rejected == []
    by = {e.source_event_id: e for e in events}
    assert _who(by[f"{JID}:1:2"].target) == "Cid"
    assert sum(e.kind is Kind.JOIN for e in events) == 16
    assert events[-1].source_event_id == "-42:1"  # the first chat's lists came before


def test_a_list_cut_short_by_a_broken_file_is_kept(tmp_path: Path) -> None:
    data = (JOINS / "result.json").read_bytes()
    path = tmp_path / "result.json"
    path.write_bytes(data[: data.index(b'"id": 12,')])
    events, rejected = collect(IMPORTER, path, ImportOptions(tz=ZoneInfo("UTC")))
    assert "invalid JSON" in rejected[-1].message
    joins = {e.source_event_id: _who(e.target) for e in events if e.kind is Kind.JOIN}
    assert len(joins) == 16
    assert joins[f"{JID}:1:1"] == "1002" and joins[f"{JID}:2:0"] == "Dee"  # Dee not seen yet


def test_an_invite_without_a_members_list_is_rejected(tmp_path: Path) -> None:
    chat = json.loads((JOINS / "result.json").read_text(encoding="utf-8"))
    del chat["messages"][1]["members"]
    path = tmp_path / "result.json"
    path.write_text(json.dumps(chat), encoding="utf-8")
    events, rejected = collect(IMPORTER, path, ImportOptions(tz=ZoneInfo("UTC")))
    assert [(r.record, r.field) for r in rejected] == [("messages[1] (id 2)", "members")]
    assert f"{JID}:2:0" not in {e.source_event_id for e in events}
    assert sum(e.kind is Kind.JOIN for e in events) == 13


class JoinsStoreContract(EngineContract):
    def test_joins_reach_the_store_once(self, engine: Engine) -> None:
        first = run_import(engine, JOINS, tz="UTC")
        t = first.totals()
        assert (t["new"], t["rejected"]) == (t["read"], 0)
        with engine.connect() as conn:
            daily = conn.execute(select(func.sum(group_daily.c.joins))).scalar()
            bob = conn.execute(
                select(memberships.c.join_method, memberships.c.message_count)
                .join(identities, identities.c.id == memberships.c.identity_id)
                .where(identities.c.external_id == "1002")
            ).one()
        assert daily == 16
        # the invitee's join and his own messages are one membership
        assert tuple(bob) == ("invited_by", 1)
        again = run_import(engine, JOINS, tz="UTC").totals()
        assert (again["new"], again["duplicate"]) == (0, t["read"])


class TestJoinsStoreSqlite(JoinsStoreContract):
    engine_name = "sqlite"


@pytest.mark.postgres
class TestJoinsStorePostgres(JoinsStoreContract):
    engine_name = "postgres"


def test_a_full_hold_is_resolved_early_and_loses_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the cap the held lists are resolved at once (flat memory), with the names
    seen so far: the same joins, only less often linked to ids."""
    monkeypatch.setattr(telegram_records, "_MAX_PENDING", 1)
    events, _ = collect(IMPORTER, JOINS, ImportOptions(tz=ZoneInfo("UTC")))
    joins = {e.source_event_id: _who(e.target) for e in events if e.kind is Kind.JOIN}
    assert len(joins) == 16
    assert joins[f"{JID}:1:1"] == "Bob"  # resolved before Bob's first message
    assert [e.source_event_id for e in events][:4] == [
        f"{JID}:1",
        f"{JID}:1:0",
        f"{JID}:1:1",
        f"{JID}:1:2",
    ]
