"""QQ importer: message-manager .txt exports in their real shapes (BOM, UTF-16, GBK)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from qunyun.errors import ImportFormatError
from qunyun.events import GroupRef, IdentityRef, Kind
from qunyun.importers.base import ImportOptions, collect
from qunyun.importers.qq import IMPORTER
from qunyun.importers.qq_sysmsg import parse_qq_system

SAMPLES = Path(__file__).parent / "samples" / "qq"
MAIN = SAMPLES / "周末骑行群.txt"
OPTS = ImportOptions(tz=ZoneInfo("Asia/Shanghai"))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_group_file_with_two_sections() -> None:
    events, rejected = collect(IMPORTER, MAIN, OPTS)
    assert {e.group.external_id for e in events} == {"周末骑行群", "987654321"}
    assert all(e.source == "qq" for e in events)
    first = events[0]
    assert first.ts == utc(2020, 1, 1, 1, 0)
    assert first.actor and (first.actor.external_id, first.actor.display_name) == ("10001", "张三")
    assert first.payload == {
        "type": "text",
        "text": "大家新年好！\n今天 10 点西湖集合 https://example.com/route",
        "urls": ["https://example.com/route"],
    }
    assert first.source_event_id.startswith("周末骑行群:")
    email = events[1]
    assert email.actor and email.actor.external_id == "lisi@example.com"
    assert email.payload == {"type": "image", "media": "[图片]"}
    spaced = events[2]
    assert spaced.actor and (spaced.actor.external_id, spaced.actor.display_name) == (
        "20002",
        "王 五 (小号)",
    )
    assert spaced.payload["text"] == "第一行\n\n第三行（中间有空行）"

    join = events[3]
    assert join.kind is Kind.JOIN and join.payload["method"] == "unknown"
    assert join.actor == join.target and join.target and join.target.external_id == "30003"
    inv1, inv2 = events[4], events[5]
    assert (inv1.kind, inv2.kind) == (Kind.JOIN, Kind.JOIN)
    assert inv1.payload["method"] == "invited_by"
    assert inv1.actor and inv1.actor.external_id == "10001"
    assert [i.target.external_id for i in (inv1, inv2) if i.target] == ["40004", "孙八"]
    assert inv1.source_event_id.endswith(":1") and inv2.source_event_id.endswith(":2")

    mention = events[6]
    assert mention.actor and mention.actor.display_name == "孙八"  # 【LV5】 title stripped
    assert mention.payload["mentions"] == ["张三"]
    assert events[7].payload == events[8].payload
    assert events[7].source_event_id != events[8].source_event_id

    kick, leave = events[9], events[10]
    assert kick.kind is Kind.KICK and kick.actor is None and kick.target
    assert kick.target.external_id == "钱七"
    assert leave.kind is Kind.LEAVE and leave.actor == leave.target
    assert events[11].payload == {"type": "other", "media": "[QQ红包]"}
    recall = events[12]
    assert recall.kind is Kind.DELETE and recall.payload["text"] == "李四撤回了一条消息"
    other = events[13]
    assert (other.group.external_id, other.group.title) == ("987654321", "第二个群")
    assert other.payload["text"] == "第二个群的第一条"

    assert [(r.line, r.field) for r in rejected] == [(42, "time")]
    assert rejected[0].file.endswith("周末骑行群.txt")


def test_old_utf16_export_with_12_hour_times() -> None:
    events, rejected = collect(IMPORTER, SAMPLES / "old_utf16.txt", OPTS)
    assert not rejected
    assert events[0].ts == utc(2019, 9, 23, 12, 43, 38)
    assert events[1].kind is Kind.JOIN and events[1].target
    assert events[1].target.external_id == "真核生物独幕剧"
    assert events[2].ts == utc(2019, 9, 23, 23, 54, 29)
    assert events[2].payload == {"type": "emoji", "media": "[表情]"}


def test_gbk_export_and_orphan_text() -> None:
    events, rejected = collect(IMPORTER, SAMPLES / "gbk.txt", OPTS)
    assert [e.payload["text"] for e in events] == ["毕业快乐"]
    assert events[0].actor and events[0].actor.display_name == "小明"
    assert [(r.line, r.field) for r in rejected] == [(1, "header")]


def test_reimport_gives_identical_ids() -> None:
    a, _ = collect(IMPORTER, SAMPLES, OPTS)
    b, _ = collect(IMPORTER, SAMPLES, OPTS)
    assert [e.source_event_id for e in a] == [e.source_event_id for e in b]
    assert len({e.source_event_id for e in a}) == len(a)


def test_detect(tmp_path: Path) -> None:
    for f in SAMPLES.iterdir():
        assert IMPORTER.detect(f) >= 90
    whatsapp = tmp_path / "WhatsApp Chat with Bikers.txt"
    whatsapp.write_text(
        "12/01/2024, 09:00 - Ann: hi\n[12/01/2024, 09:01:02] Bob: yo\n", encoding="utf-8"
    )
    irc = tmp_path / "irc.txt"
    irc.write_text(
        "2024-01-01 09:00:00 <ann> hi\n2024-01-01 09:00:05 <bob> yo\n"
        "2024-01-01 09:00:09 * ann waves\n",
        encoding="utf-8",
    )
    wechat = Path(__file__).parent / "samples" / "wechat"
    junk = tmp_path / "junk.txt"
    junk.write_bytes(b"\x00\x01binary\xff")
    for p in (whatsapp, irc, wechat, junk):
        assert IMPORTER.detect(p) == 0
    with pytest.raises(ImportFormatError):
        list(IMPORTER.files(whatsapp, OPTS))


def test_crlf_export_with_mutes_qr_joins_and_member_recalls() -> None:
    events, rejected = collect(IMPORTER, SAMPLES / "羽毛球俱乐部_crlf.txt", OPTS)

    def who(ref: IdentityRef | None) -> str | None:
        return ref.external_id if ref else None

    got = [(e.kind.value, who(e.actor), who(e.target)) for e in events]
    assert got == [
        ("service", None, None),  # 你已经是群成员了，和大家打个招呼吧！
        ("message", "10086", None),  # 【群主】老周(10086)
        ("message", "20088", None),  # a header with the QQ number only
        ("join", "10086", "30011"),  # 阿敏(30011)通过扫描老周(10086)分享的二维码加入本群
        ("join", "小刘", "小刘"),  # 小刘 加入了群聊
        ("mute", None, "小刘"),  # 小刘被管理员禁言10分钟
        ("mute", "10086", "30011"),  # 阿敏(30011)被老周(10086)禁言1天2小时
        ("service", None, "小刘"),  # 小刘被管理员解除禁言
        ("service", None, None),  # 管理员开启了全员禁言
        ("delete", "老周", "阿敏"),  # 老周撤回了成员阿敏的消息
        ("leave", "30011", "30011"),  # 阿敏(30011)已经退出本群。
        ("message", "10086", None),
        ("message", "10086", None),
        ("title_change", "老周", None),
        ("message", "lilei@example.com", None),
    ]
    assert {e.group.external_id for e in events} == {"556677889", "第二个群"}
    assert events[0].ts == utc(2021, 5, 1, 0, 0)
    assert events[1].actor and events[1].actor.display_name == "老周"
    assert events[1].payload["media"] == "[图片]"
    assert events[2].actor and events[2].actor.display_name is None
    assert events[3].payload["method"] == "qr_code"
    assert events[4].payload["method"] == "unknown"
    assert events[5].payload["until"] == "2021-05-01T08:15:00+08:00"
    assert events[5].payload["extra"] == {"by": "管理员"}
    assert events[6].payload["until"] == "2021-05-02T10:06:00+08:00"
    assert events[7].payload["service"] == "unmute"
    assert events[8].payload["service"] == "mute_all"
    assert events[11].payload == {"type": "file", "media": "[文件]"}
    assert events[12].payload == {"type": "image", "media": "[闪照]"}
    assert events[13].payload["title"] == "周六羽毛球"
    assert all("\r" not in str(e.payload) for e in events)  # CRLF stripped
    assert [(r.line, r.field) for r in rejected] == [(48, "time")]
    assert "24:13:00" in rejected[0].message


@pytest.mark.parametrize(
    ("notice", "kind", "actor", "targets"),
    [
        ("张三(10001)邀请李四(20002)加入了群聊", Kind.JOIN, "10001", ["20002"]),
        ("李四已加入本群", Kind.JOIN, "李四", ["李四"]),
        ("王五 退出了群聊", Kind.LEAVE, "王五", ["王五"]),
        ("王五已被移出本群", Kind.KICK, None, ["王五"]),
        ("王五被群主移出本群", Kind.KICK, None, ["王五"]),
        ("赵六被群主禁言30秒", Kind.MUTE, None, ["赵六"]),
        ("老周禁言了赵六 5分钟", Kind.MUTE, "老周", ["赵六"]),
        ("你撤回了一条消息", Kind.DELETE, "你", []),
    ],
)
def test_system_notice_wordings(
    notice: str, kind: Kind, actor: str | None, targets: list[str]
) -> None:
    group = GroupRef("qq", "1", "g")
    events = list(parse_qq_system(notice, "1:x", utc(2021, 1, 1), group))
    assert [e.kind for e in events] == [kind] * max(1, len(targets))
    assert (events[0].actor.external_id if events[0].actor else None) == actor
    assert [e.target.external_id for e in events if e.target] == targets


def test_members_named_by_nickname_only_are_marked() -> None:
    """A notice naming a member without the QQ number says so (crm.links reads it)."""
    events, _ = collect(IMPORTER, MAIN, OPTS)
    flagged = {
        (e.kind.value, e.target.external_id)
        for e in events
        if e.target and e.payload.get("target_by_name")
    }
    assert flagged == {("join", "孙八"), ("kick", "钱七"), ("leave", "赵六")}
    by_number = [e for e in events if e.target and e.target.external_id in ("30003", "40004")]
    assert by_number and not any("target_by_name" in e.payload for e in by_number)


@pytest.mark.parametrize(
    "engine_name", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_import_links_the_newcomer_to_their_messages(
    engine_name: str, request: pytest.FixtureRequest
) -> None:
    """孙八 joins by nickname ("…邀请钱七(40004)、孙八加入了本群") and speaks a minute
    later as 【LV5】孙八(50005): after the import the two are one newcomer who spoke."""
    from sqlalchemy import select

    from qunyun.analytics import report
    from qunyun.analytics.scope import resolve
    from qunyun.importing import run_import
    from qunyun.store.schema import identities, memberships

    engine = request.getfixturevalue(f"{engine_name}_engine")
    rep = run_import(engine, MAIN, tz="Asia/Shanghai")
    assert (rep.links["linked"], rep.links["ambiguous"]) == (1, 0)
    with engine.connect() as conn:
        m, i = memberships.c, identities.c
        q = select(i.external_id, m.join_method, m.invited_by_id).join(
            identities, i.id == m.identity_id
        )
        rows = {r.external_id: r for r in conn.execute(q)}
        assert "孙八" not in rows and rows["50005"].join_method == "invited_by"
        doc = report.build(conn, resolve(conn, "周末骑行群", month="2020-01"), keywords=False)
    assert doc["newcomers"]["joined"] == 3  # 赵六, 钱七, 孙八
    assert doc["newcomers"]["spoke_within_7d"] == 1


@pytest.mark.parametrize(
    ("text", "mtype", "effective"),
    [
        ("大家好[图片]", "text", True),
        ("[图片]", "image", True),
        ("[闪照]请使用新版手机QQ查看闪照。", "image", True),
        ("[语音]", "voice", True),
        ("[表情]", "emoji", False),
        ("[QQ红包]", "other", False),
        ("[转账]", "other", False),
        ("[戳一戳]", "text", False),
        ("+1", "text", False),
        ("", "text", False),
    ],
)
def test_what_counts_as_a_message(text: str, mtype: str, effective: bool, tmp_path: Path) -> None:
    """The table in docs/importers/qq.md: each is one message of this type."""
    from qunyun.analytics.classify import is_effective

    f = tmp_path / "群.txt"
    body = f"{text}\n" if text else ""
    f.write_text(f"消息对象:群\n\n2020-01-01 9:00:00 张三(10001)\n{body}", encoding="utf-8")
    events, _ = collect(IMPORTER, f, OPTS)
    (ev,) = events
    assert ev.kind is Kind.MESSAGE and ev.payload["type"] == mtype
    assert is_effective(ev.payload) is effective
