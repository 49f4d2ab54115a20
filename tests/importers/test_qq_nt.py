"""QQNT exports made with QQChatExporter (QCE): JSON (current and early-V4 shapes),
chunked JSONL and TXT, read as format ``qq``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from qunyun import importers
from qunyun.events import Event, IdentityRef, Kind
from qunyun.importers.base import ImportOptions, collect
from qunyun.importers.qq import IMPORTER
from qunyun.importers.qq_nt_content import group_from_label, message_type
from qunyun.importing import run_import

SAMPLES = Path(__file__).parent / "samples" / "qq" / "qqnt"
V5 = SAMPLES / "group_123456789_20250115_143025.json"
V4 = SAMPLES / "group_987654321_20241220_101010.json"
TXT = SAMPLES / "group_123456789_20250115_143100.txt"
CHUNKED = SAMPLES / "group_555666777_20250201_080000_chunked_jsonl"
OPTS = ImportOptions(tz=ZoneInfo("Asia/Shanghai"))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def who(ref: IdentityRef | None) -> str | None:
    return ref.external_id if ref else None


def by_id(events: list[Event]) -> dict[str, Event]:
    return {e.source_event_id: e for e in events}


def test_current_json_shape() -> None:
    events, rejected = collect(IMPORTER, V5, OPTS)
    ev = by_id(events)
    assert {e.group for e in events} == {events[0].group}
    assert (events[0].group.external_id, events[0].group.title) == ("123456789", "周末骑行群")

    first = ev["123456789:7460000000000000001"]
    assert first.ts == utc(2025, 1, 15, 1, 0)
    assert first.actor == IdentityRef("qq", "10001", "【队长】张三")  # QQ number, group card
    assert first.payload["mentions"] == ["李四"]
    assert first.payload["urls"] == ["https://example.com/route?d=1"]
    assert first.payload["extra"]["uid"] == "u_AAAAAAAAAAAAAAAAAAAAAA"

    reply = ev["123456789:7460000000000000003"]
    assert reply.payload["type"] == "reply"
    assert reply.payload["reply_to"] == first.source_event_id
    assert reply.payload["text"] == "收到，八点半到"  # the quoted original is not repeated

    types = {sid.split(":")[1][-2:]: e.payload.get("type") for sid, e in ev.items()}
    assert types["02"] == "image" and ev["123456789:7460000000000000002"].payload["media"] == (
        "7F3A2C1B.jpg"
    )
    assert (types["04"], types["05"], types["06"], types["07"]) == (
        "emoji",
        "sticker",
        "file",
        "voice",
    )
    assert (types["08"], types["09"], types["10"]) == ("video", "forward", "link")

    graytip = ev["123456789:7460000000000000011"]
    assert graytip.kind is Kind.SERVICE and graytip.payload["extra"]["graytip"] == "4"
    invite = ev["123456789:7460000000000000012"]
    assert (invite.kind, who(invite.actor), who(invite.target)) == (Kind.JOIN, "张三", "赵六")
    assert invite.payload["method"] == "invited_by"
    recall_tip = ev["123456789:7460000000000000013"]
    assert (recall_tip.kind, who(recall_tip.actor)) == (Kind.DELETE, "王五")

    recalled = ev["123456789:7460000000000000014"]
    assert recalled.kind is Kind.MESSAGE and recalled.payload["extra"]["recalled"] is True
    delete = ev["123456789:7460000000000000014:recall"]
    assert delete.kind is Kind.DELETE and delete.payload["message_id"] == recalled.source_event_id
    assert who(delete.actor) == "30003"

    no_uin = ev["123456789:7460000000000000015"]
    assert no_uin.actor == IdentityRef("qq", "u_DDDDDDDDDDDDDDDDDDDDDD", None)
    assert no_uin.payload["mentions"] == ["全体成员"]
    assert ev["123456789:7460000000000000017"].payload["text"] == "第一行\n\n第三行"
    assert ev["123456789:7460000000000000017"].actor == IdentityRef("qq", "40004", None)
    plus = [e for e in events if e.payload.get("text") == "+1"]
    assert len(plus) == 2 and plus[0].source_event_id != plus[1].source_event_id

    assert [(r.record, r.field) for r in rejected] == [("messages[15]", "sender")]
    assert rejected[0].file.endswith(V5.name)
    assert len(events) == 19


def test_early_v4_json_shape() -> None:
    events, rejected = collect(IMPORTER, V4, OPTS)
    got = [(e.kind.value, who(e.actor), e.payload.get("type")) for e in events]
    assert got == [
        ("message", "50005", "text"),
        ("message", "60006", "reply"),
        ("message", "60006", "image"),
        ("service", None, None),
    ]
    assert events[0].ts == utc(2024, 12, 20, 2, 0)
    assert events[0].actor and events[0].actor.display_name == "周老师"  # sendMemberName
    assert events[1].actor and events[1].actor.display_name == "阿敏"  # empty card → nickname
    assert events[1].payload["reply_to"] == "987654321:7440000000000000101"
    assert events[1].payload["mentions"] == ["周老师"]
    assert events[2].payload["media"] == "{A1B2}.png"
    assert (events[0].group.external_id, events[0].group.title) == ("987654321", "读书会")
    assert [(r.record, r.field) for r in rejected] == [("messages[4]", "timestamp")]


def test_chunked_jsonl_export() -> None:
    events, rejected = collect(IMPORTER, CHUNKED, OPTS)
    assert [e.source_event_id for e in events] == [
        "555666777:7465000000000000201",
        "555666777:7465000000000000202",
        "555666777:7465000000000000203",
    ]
    assert {e.group.title for e in events} == {"晨跑团"}  # from manifest.json
    assert events[1].payload["type"] == "image"
    assert [(Path(r.file).name, r.line, r.field) for r in rejected] == [
        ("c000002.jsonl", 2, "json")
    ]


def test_txt_export() -> None:
    events, rejected = collect(IMPORTER, TXT, OPTS)
    got = [(e.kind.value, who(e.actor), e.payload.get("type")) for e in events]
    assert got == [
        ("message", "张三", "text"),
        ("message", "李四", "image"),
        ("message", "李四", "reply"),
        ("message", "王五", "emoji"),
        ("message", "张三", "file"),
        ("message", "李四", "image"),  # "[image消息]": resources only
        ("service", None, None),  # "[4]": a gray tip
        ("message", "王五", "text"),
        ("message", "40004", "text"),
        ("message", "40004", "text"),
        ("message", "张三", "text"),
    ]
    assert {(e.group.external_id, e.group.title) for e in events} == {("123456789", "周末骑行群")}
    assert events[0].ts == utc(2025, 1, 15, 1, 0)  # local time in --tz
    assert events[0].payload["mentions"] == ["李四"]
    assert events[0].payload["urls"] == ["https://example.com/route?d=1"]
    assert events[1].payload["media"] == "7F3A2C1B.jpg"
    assert events[2].payload["text"] == "收到，八点半到"
    assert events[5].payload == {"type": "image", "media": "9A8B.gif"}
    # a blank line, "时间:" and "资源" inside a text do not end the message
    assert events[7].payload["text"] == "第一行\n\n第三行：时间: 不是新消息\n资源不是资源"
    assert events[8].source_event_id != events[9].source_event_id
    assert events[10].payload["mentions"] == ["全体成员"]
    assert [(r.line, r.field) for r in rejected] == [(78, "时间")]


def test_reimport_gives_identical_ids() -> None:
    a, _ = collect(IMPORTER, SAMPLES, OPTS)
    b, _ = collect(IMPORTER, SAMPLES, OPTS)
    assert [e.source_event_id for e in a] == [e.source_event_id for e in b]
    assert len({e.source_event_id for e in a}) == len(a)


def test_run_import_twice_adds_nothing(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    first = run_import(engine, SAMPLES, tz="Asia/Shanghai")
    assert first.format == "qq"
    t = first.totals()
    assert t["read"] > 30 and t["new"] == t["read"]
    second = run_import(engine, SAMPLES, tz="Asia/Shanghai").totals()
    assert (second["new"], second["duplicate"]) == (0, t["read"])


def test_detection_and_no_stealing(tmp_path: Path) -> None:
    for p in (V5, V4, TXT, CHUNKED, SAMPLES):
        assert IMPORTER.detect(p) >= 90, p
        assert importers.detect(p).name == "qq"
    discord = Path(__file__).parent / "samples" / "discord" / "server"
    slack = Path(__file__).parent / "samples" / "slack" / "export"
    telegram = Path(__file__).parent / "samples" / "telegram"
    for p in (discord, slack, telegram):
        assert IMPORTER.detect(p) == 0, p
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"messages": [{"sender": {}, "content": {}}]}), encoding="utf-8")
    notes = tmp_path / "notes.txt"
    notes.write_text("会议记录:\n时间: 下午\n内容: 讨论\n", encoding="utf-8")
    assert IMPORTER.detect(other) == 0 and IMPORTER.detect(notes) == 0


def test_private_chat_is_skipped(tmp_path: Path) -> None:
    doc = json.loads(V4.read_text(encoding="utf-8"))
    doc["chatInfo"] = {"name": "老王", "type": "private"}
    f = tmp_path / "friend_u_xyz_20250101_000000.json"
    f.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    events, rejected = collect(IMPORTER, f, OPTS)
    assert events == [] and [r.skipped for r in rejected] == [True]


def test_group_option_and_file_names(tmp_path: Path) -> None:
    events, _ = collect(IMPORTER, V4, ImportOptions(tz=OPTS.tz, group="读书会2"))
    assert {e.group.external_id for e in events} == {"读书会2"}
    assert events[0].source_event_id.startswith("读书会2:")
    renamed = tmp_path / "读书会.json"
    renamed.write_bytes(V4.read_bytes())
    events, _ = collect(IMPORTER, renamed, OPTS)
    assert {e.group.external_id for e in events} == {"读书会"}  # no number: the title
    assert group_from_label(
        "/x/group_123456_20250101_010101_chunked_jsonl/chunks/c000001.jsonl"
    ) == (
        "123456",
        False,
    )
    assert group_from_label("exports/friend_10001_20250101_010101.txt") == ("10001", True)


@pytest.mark.parametrize(
    ("text", "kinds", "reply", "expected"),
    [
        ("[图片:a.jpg]", [], False, "image"),
        ("[图片: a.jpg][图片: b.jpg]", [], False, "image"),
        ("看这个 [图片: a.jpg]", ["image"], False, "text"),
        ("[语音:5秒]", ["audio"], False, "voice"),
        ("[转发消息: 2条]", [], False, "forward"),
        ("[位置: 西湖]", [], False, "location"),
        ("[表情12]", ["face"], False, "emoji"),
        ("好的", [], True, "reply"),
        ("", [], False, "other"),
    ],
)
def test_message_types(text: str, kinds: list[str], reply: bool, expected: str) -> None:
    assert message_type(kinds, text, reply).value == expected
