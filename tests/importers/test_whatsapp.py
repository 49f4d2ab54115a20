"""WhatsApp export importer: real layouts (Android 12 h/24 h, iOS, de, zh), zips, ids."""

from __future__ import annotations

import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import aliased

from qunyun.errors import ImportFormatError
from qunyun.events import Event, Kind
from qunyun.importers.base import ImportOptions, Rejected, collect, stable_id
from qunyun.importers.whatsapp import IMPORTER, group_name_from, group_ref
from qunyun.importers.whatsapp_members import split_members
from qunyun.importers.whatsapp_system import classify_body, classify_system
from qunyun.importing import run_import
from qunyun.store.schema import events, identities, memberships
from tests.conftest import EngineContract

SAMPLES = Path(__file__).parent / "samples" / "whatsapp"
US = SAMPLES / "WhatsApp Chat with Hiking Club.txt"
EU = SAMPLES / "WhatsApp Chat with Book Club (1).txt"
DE = SAMPLES / "WhatsApp Chat mit Stammtisch.txt"
ZH = SAMPLES / "与深圳跑团的 WhatsApp 聊天.txt"
IOS = SAMPLES / "WhatsApp Chat - Family"

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def read(path: Path, tz: ZoneInfo, group: str | None = None) -> tuple[list[Event], list[Rejected]]:
    return collect(IMPORTER, path, ImportOptions(tz=tz, group=group))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def summary(events: list[Event]) -> list[tuple[str, str | None, str | None]]:
    return [
        (
            e.kind.value,
            e.actor.external_id if e.actor else None,
            e.target.external_id if e.target else None,
        )
        for e in events
    ]


# --------------------------------------------------------------------------- Android, US 12 h


def test_android_us_12h_events() -> None:
    events, rejected = read(US, NY)
    gid = group_ref("Hiking Club").external_id
    assert {e.group.title for e in events} == {"Hiking Club"}
    assert all(e.source == "whatsapp" and e.source_event_id.startswith(gid + ":") for e in events)
    assert summary(events) == [
        ("service", None, None),  # end-to-end notice
        ("service", "Ann Lee", None),  # created group
        ("join", "Ann Lee", "Bob Stone"),
        ("join", "Ann Lee", "Carla Diaz"),
        ("join", "Ann Lee", "+15550102030"),
        ("join", "Dan Wu", "Dan Wu"),
        ("message", "Ann Lee", None),
        ("message", "Bob Stone", None),
        ("message", "Bob Stone", None),
        ("message", "Bob Stone", None),
        ("delete", "Carla Diaz", None),
        ("delete", "Ann Lee", None),
        ("message", "+15550102030", None),
        ("message", "Dan Wu", None),
        ("join", "Ann Lee", "Dr: Who"),
        ("message", "Dr: Who", None),
        ("title_change", "Ann Lee", None),
        ("service", "Ann Lee", None),
        ("message", "Bob Stone", None),
        ("message", "Carla Diaz", None),
        ("leave", "Bob Stone", "Bob Stone"),
        ("kick", "Ann Lee", "Carla Diaz"),
        ("rename", "+15550102030", "+15550109999"),
        ("join", "Erin Moss", "Erin Moss"),
        ("message", "Dan Wu", None),
    ]
    by = {e.source_event_id: e for e in events}
    # times: local New York wall clock (U+202F before PM), month-first
    assert events[0].ts == utc(2020, 12, 29, 2, 0)
    assert events[-1].ts == utc(2021, 1, 2, 15, 1)
    added = [e for e in events if e.kind is Kind.JOIN][:3]
    base = added[0].source_event_id.rsplit(":", 1)[0]
    assert [e.source_event_id for e in added] == [f"{base}:0", f"{base}:1", f"{base}:2"]
    assert all(e.payload == {"service": "added", "method": "invited_by"} for e in added)
    assert events[5].payload == {"service": "joined_by_link", "method": "invite_link"}
    assert events[23].payload == {"service": "joined_from_community", "method": "community"}
    welcome = "Welcome all! Trail plan:\n1. Meet at 7\n2. Bring water"
    assert events[6].payload == {"type": "text", "text": welcome}
    assert events[6].source_event_id == f"{gid}:20201228210600:" + stable_id(
        "2020-12-28T21:06:00", "Ann Lee", welcome, 0
    )
    assert events[7].payload == {"type": "other", "media": "<Media omitted>"}
    # identical lines in the same minute get distinct, stable ids
    assert events[8].payload == events[9].payload == {"type": "text", "text": "👍"}
    assert events[9].source_event_id == f"{gid}:20201228210700:" + stable_id(
        "2020-12-28T21:07:00", "Bob Stone", "👍", 1
    )
    assert events[10].payload == {"service": "message_deleted"}
    assert events[12].actor is not None and events[12].actor.display_name == "+1 (555) 010-2030"
    assert events[12].payload == {
        "type": "text",
        "text": "see https://example.org/trail @Dan",
        "mentions": ["Dan"],
        "urls": ["https://example.org/trail"],
        "extra": {"edited": True},
    }
    assert events[13].payload == {"type": "other", "extra": {"view_once": True}}
    assert events[15].payload == {"type": "text", "text": "hello: from a name with a colon"}
    assert events[16].payload == {
        "service": "subject_changed",
        "text": 'Ann Lee changed the subject from "Hiking Club" to "Hiking Club: 2021"',
        "title": "Hiking Club: 2021",
        "extra": {"old_title": "Hiking Club"},
    }
    assert events[18].payload == {
        "type": "image",
        "text": "Summit!",
        "media": "IMG-20201230-WA0001.jpg",
    }
    assert events[19].payload["type"] == "poll"
    assert events[22].payload["old_name"] == "+1 (555) 010-2030"
    assert events[22].payload["new_name"] == "+1 (555) 010-9999"
    assert events[24].payload["type"] == "location"
    assert len(by) == len(events)
    assert rejected == [
        Rejected(
            file=str(US),
            line=25,
            field="date",
            message="impossible date '13/01/21, 9:00\\u202fAM -' (read as mdy)",
        ),
        Rejected(
            file=str(US),
            line=27,
            field="time",
            message="impossible time '12/31/20, 13:10\\u202fPM -'",
        ),
    ]


def test_reimport_gives_identical_ids() -> None:
    first, _ = read(US, NY)
    second, _ = read(US, NY)
    assert [e.source_event_id for e in first] == [e.source_event_id for e in second]
    assert first == second


def test_overlapping_later_export_shares_ids(tmp_path: Path) -> None:
    lines = US.read_text(encoding="utf-8").splitlines(keepends=True)
    later = tmp_path / "WhatsApp Chat with Hiking Club.txt"
    later.write_text(
        "".join(lines[8:]) + "1/3/21, 8:00\u202fAM - Dan Wu: new one\n", encoding="utf-8"
    )
    old_ids = {e.source_event_id for e in read(US, NY)[0]}
    new = read(later, NY)[0]
    assert [e.source_event_id in old_ids for e in new] == [True] * (len(new) - 1) + [False]


# --------------------------------------------------------------------------- other layouts


def test_android_eu_24h_and_copy_suffix_in_name() -> None:
    events, rejected = read(EU, BERLIN)
    assert rejected == []
    assert events[0].group.title == "Book Club"
    assert summary(events) == [
        ("service", None, None),
        ("service", "Priya", None),
        ("join", None, "~you"),
        ("message", "Priya", None),
        ("message", "Priya", None),
        ("message", "Kofi", None),
        ("message", "Kofi", None),
        ("message", "Kofi", None),
        ("service", "Kofi", None),
    ]
    assert events[2].payload == {"service": "added", "method": "invited_by"}
    assert events[3].payload == {"type": "text", "text": "First book: Dune"}
    assert events[4].ts == utc(2021, 1, 24, 19, 15)  # day-first: 24/01
    assert events[6].payload == {"type": "text"}  # an empty message
    assert events[7].payload == {"type": "voice", "media": "PTT-20210124-WA0007.opus"}
    assert events[8].payload["service"] == "number_changed"


def test_german_android() -> None:
    events, rejected = read(DE, BERLIN)
    assert rejected == []
    assert events[0].group.title == "Stammtisch"
    assert summary(events) == [
        ("service", None, None),
        ("service", "Jonas", None),
        ("join", "Jonas", "Lena"),
        ("join", "Jonas", "Max"),
        ("message", "Lena", None),
        ("message", "Max", None),
        ("delete", "Max", None),
        ("leave", "Max", "Max"),
        ("kick", "Jonas", "Lena"),
    ]
    assert events[1].payload["title"] == "Stammtisch"
    assert events[4].ts == utc(2020, 12, 31, 23, 1)
    assert events[5].payload == {"type": "other", "media": "<Medien ausgeschlossen>"}


def test_chinese_android_periods_and_system_lines() -> None:
    events, rejected = read(ZH, SHANGHAI)
    assert rejected == []
    assert events[0].group.title == "深圳跑团"
    assert summary(events) == [
        ("service", None, None),
        ("service", "李雷", None),
        ("join", "李雷", "韩梅梅"),
        ("join", "李雷", "王和平"),
        ("join", "张伟", "张伟"),
        ("message", "韩梅梅", None),
        ("message", "王和平", None),
        ("delete", "张伟", None),
        ("title_change", "李雷", None),
        ("leave", "韩梅梅", "韩梅梅"),
        ("kick", "李雷", "张伟"),
        ("message", "李雷", None),
    ]
    assert events[4].payload == {"service": "joined_by_link", "method": "invite_link"}
    assert events[5].ts == utc(2020, 12, 31, 13, 50)  # 下午9:50 Shanghai
    assert events[5].payload == {"type": "text", "text": "明早6点深圳湾集合\n带好水"}
    assert events[7].ts == utc(2020, 12, 31, 22, 5)  # 上午6:05
    assert events[8].ts == utc(2021, 1, 1, 4, 30)  # 中午12:30
    assert events[8].payload["title"] == "深圳跑团2021"
    assert events[10].ts == utc(2021, 1, 1, 12, 0)  # 晚上8:00
    assert events[11].payload == {"type": "image", "media": "IMG-20210101-WA0003.jpg"}


def test_ios_folder_brackets_marks_and_group_attributed_system_lines() -> None:
    events, rejected = read(IOS, BERLIN)
    assert rejected == []
    assert events[0].group.title == "Family"
    assert summary(events) == [
        ("service", None, None),
        ("service", "Mum", None),
        ("join", "Mum", "Dad"),
        ("join", "Mum", "Sam"),
        ("message", "Mum", None),
        ("message", "Dad", None),
        ("message", "Sam", None),
        ("message", "Sam", None),
        ("delete", "Dad", None),
        ("leave", "Sam", "Sam"),
        ("title_change", "Mum", None),
        ("message", "Mum", None),
    ]
    assert events[1].payload["title"] == "Family"
    assert events[5].ts == utc(2020, 12, 31, 20, 42, 10)
    assert events[5].payload == {"type": "image", "media": "00000012-PHOTO-2020-12-31-21-41-05.jpg"}
    assert events[6].payload == {"type": "image", "media": "image omitted"}
    assert events[7].payload == {
        "type": "text",
        "text": "Love you all\nsee you tomorrow",
        "extra": {"edited": True},
    }
    assert events[10].payload["title"] == "Family 2021"
    assert events[11].payload["type"] == "location"


def test_ios_zip_equals_folder(tmp_path: Path) -> None:
    archive = tmp_path / "WhatsApp Chat - Family.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in sorted(IOS.iterdir()):
            zf.write(f, f.name)
    from_zip, _ = read(archive, BERLIN)
    from_dir, _ = read(IOS, BERLIN)
    assert from_zip == from_dir
    sources = list(IMPORTER.files(archive, ImportOptions(tz=BERLIN)))
    assert [s.label for s in sources] == [f"{archive}!_chat.txt"]
    assert sources[0].size == (IOS / "_chat.txt").stat().st_size
    assert sum(1 for _ in sources[0].records) == len(from_zip)
    assert sources[0].position() == sources[0].size


def test_group_option_overrides_names() -> None:
    events, _ = read(US, NY, group="Trail Friends")
    assert {e.group for e in events} == {group_ref("Trail Friends")}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("WhatsApp Chat with Hiking Club.txt", "Hiking Club"),
        ("WhatsApp Chat with Hiking Club (2).txt", "Hiking Club"),
        ("WhatsApp Chat - Family.zip", "Family"),
        ("与+224 623 21 70 09的 WhatsApp 聊天.txt", "+224 623 21 70 09"),
        ("與跑團的WhatsApp對話.txt", "跑團"),
        ("WhatsApp-Chat mit Stammtisch.txt", "Stammtisch"),
        ("_chat.txt", None),
    ],
)
def test_group_name_from_file_names(name: str, expected: str | None) -> None:
    assert group_name_from(name) == expected


def test_ambiguous_dates_follow_locale_hint() -> None:
    path = SAMPLES / "ambiguous.txt"
    eu, _ = read(path, BERLIN)
    us, _ = read(path, NY)
    assert [e.ts.date().isoformat() for e in eu] == ["2021-04-03", "2021-06-05"]
    assert [e.ts.date().isoformat() for e in us] == ["2021-03-04", "2021-05-06"]
    assert eu[0].group.title == "ambiguous"


def test_order_decided_by_whole_file_evidence(tmp_path: Path) -> None:
    path = tmp_path / "late.txt"
    rows = [f"0{m}/0{d}/21, 10:00 - Ann: x{m}{d}" for m in range(1, 4) for d in range(1, 9)]
    path.write_text(
        "\n".join([*rows, "04/25/21, 10:00 - Ann: late evidence"]) + "\n", encoding="utf-8"
    )
    events, rejected = read(path, BERLIN)
    assert rejected == []
    assert events[1].ts.date().isoformat() == "2021-01-02"  # month-first, decided by 04/25


def test_text_before_first_message_is_rejected_and_reading_continues(tmp_path: Path) -> None:
    path = tmp_path / "WhatsApp Chat with X.txt"
    path.write_text("garbage line\n31/12/2020, 21:41 - Ann: hi\n", encoding="utf-8")
    events, rejected = read(path, BERLIN)
    assert [e.payload["text"] for e in events] == ["hi"]
    assert rejected == [
        Rejected(
            file=str(path),
            line=1,
            field="timestamp",
            message="text before the first message has no timestamp",
        )
    ]


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize("path", [US, EU, DE, ZH, IOS])
def test_detects_own_samples(path: Path) -> None:
    assert IMPORTER.detect(path) >= 80


def test_detects_zip_high_and_junk_low(tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(IOS / "_chat.txt", "_chat.txt")
    assert IMPORTER.detect(archive) >= 90
    junk = SAMPLES / "junk.txt"
    assert IMPORTER.detect(junk) == 0
    json_file = tmp_path / "result.json"
    json_file.write_text('{"name": "x", "messages": []}', encoding="utf-8")
    assert IMPORTER.detect(json_file) == 0
    qq = tmp_path / "qq.txt"
    qq.write_text("2020-12-31 21:41:05 Alice(12345)\nhello\n", encoding="utf-8")
    assert IMPORTER.detect(qq) == 0
    with pytest.raises(ImportFormatError):
        read(junk, BERLIN)


def test_folder_with_several_chats(tmp_path: Path) -> None:
    shutil.copy(US, tmp_path / US.name)
    shutil.copy(DE, tmp_path / DE.name)
    (tmp_path / "IMG-20201230-WA0001.jpg").write_bytes(b"\xff\xd8")
    sources = list(IMPORTER.files(tmp_path, ImportOptions(tz=BERLIN)))
    assert sorted(Path(s.label).name for s in sources) == sorted([US.name, DE.name])
    titles = {next(iter(s.records)).group.title for s in sources}  # type: ignore[union-attr]
    assert titles == {"Hiking Club", "Stammtisch"}


def test_ios_one_to_one_notice_attributed_to_a_person(tmp_path: Path) -> None:
    path = tmp_path / "_chat.txt"
    path.write_text(
        "[07.03.26, 21:22:39] Anna: Messages and calls are end-to-end encrypted. Only people "
        "in this chat can read, listen to, or share them.\n"
        "[07.03.26, 21:22:40] Chris: are messages end-to-end encrypted here?\n",
        encoding="utf-8",
    )
    events, rejected = read(path, BERLIN)
    assert rejected == []
    assert [e.kind for e in events] == [Kind.SERVICE, Kind.MESSAGE]
    assert events[0].payload["service"] == "encryption_notice"
    assert events[1].ts == utc(2026, 3, 7, 20, 22, 40)


# --------------------------------------------------------------------------- more locales
# Wordings checked against WhatsApp's own Android string resources (added/removed/left/
# subject/number lines) and public parsers' test data (invite-link lines of newer apps).

UTC_ZONE = ZoneInfo("UTC")


@pytest.mark.parametrize(
    ("name", "title", "expected"),
    [
        (
            "Chat de WhatsApp con Fútbol.txt",
            "Fútbol",
            [
                ("service", None, None),
                ("service", "Ana", None),
                ("join", "Ana", "Luis"),
                ("join", "Ana", "Marta"),
                ("join", "Pedro", "Pedro"),
                ("message", "Luis", None),
                ("message", "Marta", None),
                ("delete", "Pedro", None),
                ("title_change", "Ana", None),
                ("leave", "Luis", "Luis"),
                ("kick", "Ana", "Pedro"),
                ("message", "Marta", None),
            ],
        ),
        (
            "Conversa do WhatsApp com Família.txt",
            "Família",
            [
                ("service", None, None),
                ("service", "Maria", None),
                ("join", "Maria", "João"),
                ("join", "Maria", "Pedro"),
                ("join", "Ana", "Ana"),
                ("message", "João", None),
                ("delete", "Pedro", None),
                ("title_change", "Maria", None),
                ("leave", "João", "João"),
                ("kick", "Maria", "Pedro"),
                ("message", "Ana", None),
            ],
        ),
        (
            "Discussion WhatsApp avec Club.txt",
            "Club",
            [
                ("service", None, None),
                ("join", "Marie", "Paul"),
                ("join", "Marie", "Luc"),
                ("join", "Zoé", "Zoé"),
                ("delete", "Paul", None),
                ("title_change", "Marie", None),
                ("leave", "Paul", "Paul"),
                ("kick", "Marie", "Luc"),
            ],
        ),
        (
            "Чат WhatsApp с Друзья.txt",
            "Друзья",
            [
                ("service", None, None),
                ("join", "Иван", "Петр"),
                ("join", "Иван", "Мария"),
                ("delete", "Петр", None),
                ("title_change", "Иван", None),
                ("leave", "Мария", "Мария"),
                ("kick", "Иван", "Петр"),
                ("join", "~you", "Олег"),
            ],
        ),
        (
            "Chat WhatsApp dengan Arisan.txt",
            "Arisan",
            [
                ("service", None, None),
                ("join", "Budi", "Sari"),
                ("join", "Budi", "Andi"),
                ("join", "Dewi", "Dewi"),
                ("delete", "Sari", None),
                ("title_change", "Budi", None),
                ("leave", "Andi", "Andi"),
                ("kick", "Budi", "Sari"),
            ],
        ),
        (
            "與跑團的 WhatsApp 對話.txt",
            "跑團",
            [
                ("service", None, None),
                ("service", "李雷", None),
                ("join", "~you", "韓梅梅"),
                ("join", "李雷", "~you"),
                ("message", "韓梅梅", None),
                ("title_change", "李雷", None),
                ("leave", "韓梅梅", "韓梅梅"),
                ("kick", None, "王五"),
                ("rename", "李雷", "+85251239999"),
                ("service", "李雷", None),
            ],
        ),
    ],
)
def test_other_locales(
    name: str, title: str, expected: list[tuple[str, str | None, str | None]]
) -> None:
    path = SAMPLES / name
    events, rejected = read(path, UTC_ZONE)
    assert rejected == []
    assert {e.group.title for e in events} == {title}
    assert summary(events) == expected
    assert IMPORTER.detect(path) >= 80
    assert events[0].payload["service"] == "encryption_notice"
    links = [e for e in events if e.payload.get("method") == "invite_link"]
    assert all(e.payload["service"] == "joined_by_link" for e in links)


def test_spanish_times_bodies_and_title() -> None:
    events, _ = read(SAMPLES / "Chat de WhatsApp con Fútbol.txt", UTC_ZONE)
    assert events[0].ts == utc(2020, 12, 31, 21, 41)  # "9:41 p. m." with U+202F, day-first
    assert events[4].payload == {"service": "joined_by_link", "method": "invite_link"}
    assert events[5].payload == {"type": "text", "text": "¿Jugamos el sábado?\nA las 10"}
    assert events[6].payload == {"type": "other", "media": "<Multimedia omitido>"}
    assert events[8].payload["title"] == "Fútbol 2021"
    assert events[8].payload["extra"] == {"old_title": "Fútbol"}
    assert events[11].ts == utc(2021, 1, 13, 10, 7)
    assert events[11].payload == {"type": "text", "text": "listo", "extra": {"edited": True}}


def test_portuguese_media_and_attachment() -> None:
    events, _ = read(SAMPLES / "Conversa do WhatsApp com Família.txt", UTC_ZONE)
    assert events[5].payload == {"type": "other", "media": "<Mídia oculta>"}
    assert events[-1].payload == {
        "type": "image",
        "text": "Feliz ano novo",
        "media": "IMG-20210101-WA0001.jpg",
    }


def test_traditional_chinese_number_change_and_periods() -> None:
    events, _ = read(SAMPLES / "與跑團的 WhatsApp 對話.txt", SHANGHAI)
    assert events[0].ts == utc(2020, 12, 31, 13, 41)  # 下午9:41 Shanghai
    assert events[5].payload["title"] == "跑團2021"
    rename = events[8]
    assert rename.payload["old_name"] == "李雷"
    assert rename.payload["new_name"] == "+852 5123 9999"
    assert events[9].payload["service"] == "security_code_changed"


def test_ios_chinese_you_added_and_group_attributed_lines() -> None:
    events, rejected = read(SAMPLES / "ios_zh.txt", SHANGHAI)
    assert rejected == []
    assert summary(events) == [
        ("service", None, None),
        ("join", "~you", "韩梅梅"),
        ("join", "~you", "王和平"),
        ("message", "韩梅梅", None),
        ("message", "王和平", None),
        ("leave", "王和平", "王和平"),
        ("kick", None, "韩梅梅"),
    ]
    assert events[1].ts == utc(2021, 1, 1, 13, 41, 6)
    assert events[3].payload == {"type": "image", "media": "00000012-PHOTO-2021-01-01-21-42-00.jpg"}
    assert events[4].payload == {"type": "text", "text": "好的\n第二行"}


@pytest.mark.parametrize(
    ("text", "kind", "service", "actor", "targets"),
    [
        # zh-CN / zh-TW (WhatsApp strings: "%s 退出了", "%s 被移除了", "您已被移除")
        ("韩梅梅 退出了", Kind.LEAVE, "left", "韩梅梅", ("韩梅梅",)),
        ("您已退出群组", Kind.LEAVE, "left", "您", ("您",)),
        ("张伟 被移除了", Kind.KICK, "removed", None, ("张伟",)),
        ("您已被移除", Kind.KICK, "removed", None, ("您",)),
        ("李雷 移除了您", Kind.KICK, "removed", "李雷", ("您",)),
        ("你被加到群組", Kind.JOIN, "added", None, ("你",)),
        ("李雷更改群组主题为“跑团”", Kind.TITLE_CHANGE, "subject_changed", "李雷", ()),
        ("您将群组主题更改为“跑团”", Kind.TITLE_CHANGE, "subject_changed", "您", ()),
        ("张伟通过此群组的邀请链接加入", Kind.JOIN, "joined_by_link", "张伟", ("张伟",)),
        # de (WhatsApp strings)
        ("Lena wurde hinzugefügt", Kind.JOIN, "added", None, ("Lena",)),
        ("Max wurde entfernt", Kind.KICK, "removed", None, ("Max",)),
        ("Du wurdest entfernt", Kind.KICK, "removed", None, ("Du",)),
        ("Jonas hat dich hinzugefügt", Kind.JOIN, "added", "Jonas", ("dich",)),
        ("Du hast Lena und Max hinzugefügt", Kind.JOIN, "added", "Du", ("Lena", "Max")),
        ("Du hast die Gruppe verlassen", Kind.LEAVE, "left", "Du", ("Du",)),
        (
            "Jonas hat den Betreff zu „Neu“ geändert",
            Kind.TITLE_CHANGE,
            "subject_changed",
            "Jonas",
            (),
        ),
        (
            "Anna ist dieser Gruppe über den Einladungslink beigetreten",
            Kind.JOIN,
            "joined_by_link",
            "Anna",
            ("Anna",),
        ),
        (
            "Jonas hat von +49 1 zu +49 170 1234567 gewechselt",
            Kind.RENAME,
            "number_changed",
            "Jonas",
            (),
        ),
        # es
        ("Se añadió a Luis", Kind.JOIN, "added", None, ("Luis",)),
        ("Ana te añadió", Kind.JOIN, "added", "Ana", ("You",)),
        ("Añadiste a Luis y Marta", Kind.JOIN, "added", "You", ("Luis", "Marta")),
        ("Ana agregó a Luis", Kind.JOIN, "added", "Ana", ("Luis",)),
        ("Se eliminó a Luis", Kind.KICK, "removed", None, ("Luis",)),
        ("Eliminaste a Luis", Kind.KICK, "removed", "You", ("Luis",)),
        ("Saliste", Kind.LEAVE, "left", "You", ("You",)),
        (
            "Te uniste usando el enlace de invitación de este grupo",
            Kind.JOIN,
            "joined_by_link",
            "You",
            ("You",),
        ),
        ("Cambiaste el asunto a “B”", Kind.TITLE_CHANGE, "subject_changed", "You", ()),
        # pt
        ("João foi adicionado", Kind.JOIN, "added", None, ("João",)),
        ("Maria adicionou você", Kind.JOIN, "added", "Maria", ("você",)),
        ("Você removeu João", Kind.KICK, "removed", "Você", ("João",)),
        ("Você saiu", Kind.LEAVE, "left", "Você", ("Você",)),
        (
            "Maria alterou o nome do grupo para “B”",
            Kind.TITLE_CHANGE,
            "subject_changed",
            "Maria",
            (),
        ),
        # fr
        ("Paul a été ajouté(e)", Kind.JOIN, "added", None, ("Paul",)),
        ("Marie vous a ajouté", Kind.JOIN, "added", "Marie", ("You",)),
        ("Vous avez retiré Paul", Kind.KICK, "removed", "Vous", ("Paul",)),
        ("Paul a été retiré(e)", Kind.KICK, "removed", None, ("Paul",)),
        # ru
        ("Вы покинули группу", Kind.LEAVE, "left", "Вы", ("Вы",)),
        ("Петр был(-а) удален(-а)", Kind.KICK, "removed", None, ("Петр",)),
        ("Иван добавил(-а) вас", Kind.JOIN, "added", "Иван", ("вас",)),
        # id
        ("Anda ditambahkan", Kind.JOIN, "added", None, ("Anda",)),
        ("Sari telah dikeluarkan", Kind.KICK, "removed", None, ("Sari",)),
        ("Budi menambahkan Anda", Kind.JOIN, "added", "Budi", ("Anda",)),
        # en: You-forms and newer notices
        ("You added Bob and Carl", Kind.JOIN, "added", "You", ("Bob", "Carl")),
        ("Ann removed you", Kind.KICK, "removed", "Ann", ("you",)),
        ("You left", Kind.LEAVE, "left", "You", ("You",)),
        ("You joined using this group's invite link", Kind.JOIN, "joined_by_link", "You", ("You",)),
        ("Ann joined using a group link", Kind.JOIN, "joined_by_link", "Ann", ("Ann",)),
        (
            "Ann's security code changed. Tap to learn more.",
            Kind.SERVICE,
            "security_code_changed",
            "Ann",
            (),
        ),
        ("Ann requested to join", Kind.SERVICE, "join_requested", "Ann", ()),
    ],
)
def test_system_wordings(
    text: str, kind: Kind, service: str, actor: str | None, targets: tuple[str, ...]
) -> None:
    action = classify_system(text)
    assert (action.kind, action.service, action.actor, action.targets) == (
        kind,
        service,
        actor,
        targets,
    )


@pytest.mark.parametrize(
    ("body", "deleted", "msg_type"),
    [
        ("Se eliminó este mensaje.", True, "other"),
        ("Eliminaste este mensaje.", True, "other"),
        ("Você apagou esta mensagem", True, "other"),
        ("Vous avez supprimé ce message", True, "other"),
        ("Pesan ini telah dihapus", True, "other"),
        ("此訊息已刪除", True, "other"),
        ("<Medien ausgeschlossen>", False, "other"),
        ("‎video omitted", False, "video"),
        ("ENCUESTA:\n¿Cuándo?\nOPCIÓN: sábado (2 votos)", False, "poll"),
    ],
)
def test_more_body_placeholders(body: str, deleted: bool, msg_type: str) -> None:
    parsed = classify_body(body)
    assert parsed.deleted is deleted
    assert parsed.type.value == msg_type


def test_you_forms_map_to_the_exporting_user(tmp_path: Path) -> None:
    path = tmp_path / "Chat de WhatsApp con Casa.txt"
    path.write_text(
        "31/12/20 21:41 - Ana te añadió\n"
        "31/12/20 21:42 - Añadiste a Luis\n"
        "31/12/20 21:43 - Saliste\n",
        encoding="utf-8",
    )
    events, rejected = read(path, UTC_ZONE)
    assert rejected == []
    assert summary(events) == [
        ("join", "Ana", "~you"),
        ("join", "~you", "Luis"),
        ("leave", "~you", "~you"),
    ]


def test_unknown_and_impossible_lines_keep_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "Chat de WhatsApp con Casa.txt"
    path.write_text(
        "basura antes del chat\n"
        "31/12/20 21:41 - Ana fijó un mensaje nuevo raro\n"
        "32/12/20 21:42 - Luis: fecha imposible\n"
        "seguida de otra línea\n"
        "31/12/20 21:43 - Luis salió\n",
        encoding="utf-8",
    )
    events, rejected = read(path, UTC_ZONE)
    assert summary(events) == [("service", None, None), ("leave", "Luis", "Luis")]
    assert events[0].payload == {"service": "other", "text": "Ana fijó un mensaje nuevo raro"}
    assert [(r.file, r.line, r.field) for r in rejected] == [
        (str(path), 1, "timestamp"),
        (str(path), 3, "date"),
    ]


# --------------------------------------------------------------------------- member lists, joins

MULTI = SAMPLES / "multi_add"
BY, LINK, COMM = "invited_by", "invite_link", "community"


def _trio(by: str, method: str, *members: str) -> list[tuple[str, str, str]]:
    return [(m, by, method) for m in members]


#: Every join each multi-add fixture holds: (target, actor, method), in file order.
MULTI_JOINS: dict[str, list[tuple[str, str, str]]] = {
    "WhatsApp Chat with Trail Crew.txt": [
        *_trio("Ann Lee", BY, "Bob Stone", "Carla Diaz", "Dan Wu"),
        *_trio("Ann Lee", BY, "Erin Moss", "+919876543210"),  # bidi-wrapped phone number
        *_trio("Ann Lee", BY, "Finn", "Gus", "Hana", "Ivy 🌸"),  # Oxford comma
        ("Jo Park", "Jo Park", COMM),  # "~ " of a non-contact dropped
        ("Kim Roe", "Kim Roe", LINK),
        *_trio("~you", BY, "Lou", "+447700900123"),
        *_trio("Bob Stone", BY, "~you", "Max Fry"),
        ("Nia Cole", "Nia Cole", LINK),  # the request before it is no join
        *_trio("Ann Lee", BY, "Smith, John", "Pia"),  # a known name with a comma stays whole
        ("Oli Bird", "Oli Bird", COMM),
    ],
    "WhatsApp Chat - Trail Crew iOS": [
        *_trio("Ann Lee", BY, "Bob Stone", "Carla Diaz", "Dan Wu"),
        *_trio("Ann Lee", BY, "Erin Moss", "+919876543210"),
        ("~you", "~you", COMM),
    ],
    "与深圳跑团的 WhatsApp 聊天.txt": [
        *_trio("李雷", BY, "韩梅梅", "王五", "赵六"),  # 和 without spaces before the last
        *_trio("李雷", BY, "韩小梅", "王和平"),  # a name holding 和 stays whole
        ("周杰", "李雷", BY),
        *_trio("~you", BY, "陈一", "陈二", "陈三"),
        ("孙七", "孙七", COMM),
        ("刘八", "刘八", LINK),
    ],
    "WhatsApp Chat mit Stammtisch.txt": [
        *_trio("Jonas", BY, "Lena", "Max", "Mia"),
        *_trio("Jonas", BY, "Ole", "Pia"),
        *_trio("~you", BY, "Uwe", "Vera"),
        *_trio("Jonas", BY, "~you", "Wim"),
        ("Xaver", "Xaver", COMM),
    ],
    "Discussion WhatsApp avec Club.txt": [
        *_trio("Marie", BY, "Paul", "Luc", "Zoé"),
        *_trio("~you", BY, "Théo", "Léa"),
        ("Hugo", "Hugo", COMM),
    ],
    "Chat de WhatsApp con Fútbol.txt": [
        *_trio("Ana", BY, "Luis", "Marta", "Pablo"),
        *_trio("~you", BY, "Sara", "Tomás"),
        *_trio("Ana", BY, "Bea", "Inés"),  # "e" before an i-sound
        ("Raúl", "Raúl", COMM),
    ],
    "Conversa do WhatsApp com Família.txt": [
        *_trio("Maria", BY, "João", "Pedro", "Ana"),
        *_trio("~you", BY, "Rui", "Lia"),
        ("Caio", "Caio", COMM),
    ],
    "Чат WhatsApp с Друзья.txt": [
        *_trio("Иван", BY, "Петр", "Мария", "Олег"),
        *_trio("~you", BY, "Анна", "Борис"),
        ("Глеб", "Глеб", COMM),
    ],
    "Chat WhatsApp dengan Arisan.txt": [
        *_trio("Budi", BY, "Sari", "Andi", "Dewi"),
        *_trio("~you", BY, "Eko", "Fajar"),
        ("Gita", "Gita", COMM),
    ],
}


def joins_of(events: list[Event]) -> list[tuple[str, str, str]]:
    return [
        (
            e.target.external_id if e.target else "",
            e.actor.external_id if e.actor else "",
            e.payload["method"],
        )
        for e in events
        if e.kind is Kind.JOIN
    ]


def test_every_multi_add_fixture_is_listed() -> None:
    assert {p.name for p in MULTI.iterdir()} == set(MULTI_JOINS)


@pytest.mark.parametrize("name", sorted(MULTI_JOINS))
def test_multi_member_notices_give_one_join_per_member(name: str) -> None:
    events, rejected = read(MULTI / name, UTC_ZONE)
    assert rejected == []
    assert joins_of(events) == MULTI_JOINS[name]
    joins = [e for e in events if e.kind is Kind.JOIN]
    ids = [e.source_event_id for e in joins]
    assert len(set(ids)) == len(ids)
    # one line's members share its id and are told apart by their place in the list
    for e in joins:
        line_id, n = e.source_event_id.rsplit(":", 1)
        same_line = [x for x in joins if x.source_event_id.rsplit(":", 1)[0] == line_id]
        assert same_line[int(n)] is e
    again, _ = read(MULTI / name, UTC_ZONE)
    assert [e.source_event_id for e in again] == [e.source_event_id for e in events]


def test_community_group_notices_are_not_members() -> None:
    events, _ = read(MULTI / "WhatsApp Chat with Trail Crew.txt", UTC_ZONE)
    notice = [e for e in events if e.payload.get("service") == "community_group_changed"]
    assert [(e.kind, e.actor.external_id if e.actor else None) for e in notice] == [
        (Kind.SERVICE, "Ann Lee")
    ]


@pytest.mark.parametrize(
    ("raw", "known", "names"),
    [
        ("Bob, Cid and Dan", (), ["Bob", "Cid", "Dan"]),
        ("Bob, Cid, and Dan", (), ["Bob", "Cid", "Dan"]),
        ("Bob, Cid, Dan", (), ["Bob", "Cid", "Dan"]),  # old Android: commas only
        ("Bob and Cid", (), ["Bob", "Cid"]),
        ("Andy, Anderson and Dan", (), ["Andy", "Anderson", "Dan"]),  # "and" inside a word
        ("+91 98765 43210, +91 98765 43211", (), ["+91 98765 43210", "+91 98765 43211"]),
        ("Tom and Jerry, Cid", ("Tom and Jerry",), ["Tom and Jerry", "Cid"]),
        ("Smith, John and Pia", ("Smith, John",), ["Smith, John", "Pia"]),
        ("Smith, John", ("Smith, John",), ["Smith, John"]),
        ("韩梅梅、王五和赵六", (), ["韩梅梅", "王五", "赵六"]),
        ("韩梅梅和王和平", (), ["韩梅梅", "王和平"]),
        ("李和平和王五", (), ["李和平", "王五"]),
        ("王和平", (), ["王和平"]),
        ("韩梅梅、王和平", (), ["韩梅梅", "王和平"]),
        ("李四和王五", ("李四和王五",), ["李四和王五"]),  # a known name is never cut
        ("陈一、陈二 和 陈三", (), ["陈一", "陈二", "陈三"]),
        ("張三、李四及王五", (), ["張三", "李四", "王五"]),
        ("Sari, Andi, dan Dewi", (), ["Sari", "Andi", "Dewi"]),
        ("Bea e Inés", (), ["Bea", "Inés"]),
    ],
)
def test_split_members(raw: str, known: tuple[str, ...], names: list[str]) -> None:
    assert split_members(raw, known.__contains__) == names


@pytest.mark.parametrize(
    ("text", "service", "targets", "method"),
    [
        ("Erin joined from the community", "joined_from_community", ("Erin",), "community"),
        ("You joined from the community", "joined_from_community", ("You",), "community"),
        ('Erin joined from the community "Runners"', "joined_from_community", ("Erin",), COMM),
        ("Erin joined via community", "joined_from_community", ("Erin",), "community"),
        ("Erin joined using your invite", "joined_by_invite", ("Erin",), "invited_by"),
        ("Erin joined this group", "joined", ("Erin",), "unknown"),
        ("Ann added Bob. Tap to change member permissions.", "added", ("Bob",), "invited_by"),
        ("Ann将Bob、Cid和Dan加入群聊", "added", ("Bob", "Cid", "Dan"), "invited_by"),
        ("张三通过邀请链接加入", "joined_by_link", ("张三",), "invite_link"),
    ],
)
def test_join_wordings(text: str, service: str, targets: tuple[str, ...], method: str) -> None:
    action = classify_system(text)
    assert (action.kind, action.service, action.targets) == (Kind.JOIN, service, targets)
    assert action.method is not None and action.method.value == method


@pytest.mark.parametrize(
    "text",
    ["Nia requested to join", "Ann approved Nia's request to join", 'Ann added the group "Rides"'],
)
def test_notices_that_are_no_join(text: str) -> None:
    assert classify_system(text).kind is Kind.SERVICE


class MultiAddStore(EngineContract):
    """The joins survive the store: each member is one join row, a re-import adds none."""

    def test_import_then_reimport(self, engine: Engine) -> None:
        first = run_import(engine, MULTI, fmt="whatsapp", tz="UTC").totals()
        assert first["rejected"] == 0 and first["new"] == first["read"] > 0
        expected = sorted(j for joins in MULTI_JOINS.values() for j in joins)
        ident = aliased(identities)
        actor = aliased(identities)
        q = (
            select(ident.c.external_id, actor.c.external_id, events.c.payload)
            .join(ident, ident.c.id == events.c.target_id)
            .join(actor, actor.c.id == events.c.actor_id)
            .where(events.c.kind == "join")
        )
        with engine.connect() as conn:
            rows = conn.execute(q).all()
            methods = dict(
                conn.execute(
                    select(identities.c.external_id, memberships.c.join_method).join(
                        identities, identities.c.id == memberships.c.identity_id
                    )
                ).all()
            )
        got = sorted((t, a, p["method"]) for t, a, p in rows)
        assert got == expected
        assert methods["Jo Park"] == methods["Xaver"] == methods["孙七"] == "community"
        assert methods["王和平"] == "invited_by"
        second = run_import(engine, MULTI, fmt="whatsapp", tz="UTC").totals()
        assert (second["new"], second["duplicate"]) == (0, first["read"])


class TestMultiAddSqlite(MultiAddStore):
    engine_name = "sqlite"


@pytest.mark.postgres
class TestMultiAddPostgres(MultiAddStore):
    engine_name = "postgres"
