"""WeChat importer: PyWxDump CSV/JSON and WeChatMsg/留痕 CSV samples in their real shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from qunyun.errors import ImportFormatError
from qunyun.events import Event, Kind
from qunyun.importers.base import ImportOptions, collect
from qunyun.importers.wechat import IMPORTER
from qunyun.importers.wechat_sysmsg import parse_system

SAMPLES = Path(__file__).parent / "samples" / "wechat"
PYWX = SAMPLES / "pywxdump" / "43218765@chatroom_0_5000.csv"
ROOM = "43218765@chatroom"
OPTS = ImportOptions(tz=ZoneInfo("Asia/Shanghai"))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def by_id(events: list[Event]) -> dict[str, Event]:
    return {e.source_event_id: e for e in events}


def test_pywxdump_group_members_and_messages() -> None:
    events, rejected = collect(IMPORTER, PYWX, OPTS)
    ev = by_id(events)
    assert all(e.source == "wechat" and e.group.external_id == ROOM for e in events)

    j1, j2 = ev[f"{ROOM}:7437267147299592543:1"], ev[f"{ROOM}:7437267147299592543:2"]
    assert (j1.kind, j1.ts) == (Kind.JOIN, utc(2024, 10, 4, 3, 40))
    assert [j.target.external_id for j in (j1, j2) if j.target] == ["李四", "王五"]
    assert j1.actor is not None and j1.actor.external_id == "张三"
    assert j1.payload["method"] == "invited_by"

    qr = ev[f"{ROOM}:7913656383976388488"]
    assert qr.kind is Kind.JOIN and qr.payload["method"] == "qr_code"
    assert qr.actor and qr.actor.external_id == "张三"
    assert qr.target and qr.target.external_id == "赵六"
    self_qr = ev[f"{ROOM}:8751079973209533492"]
    assert self_qr.actor == self_qr.target
    assert self_qr.target and self_qr.target.external_id == "钱七"

    kick = ev[f"{ROOM}:1964923183359419454"]
    assert kick.kind is Kind.KICK and kick.target and kick.target.external_id == "赵六"
    assert kick.actor and kick.actor.external_id == "我"

    title = ev[f"{ROOM}:2403233409323875303"]
    assert title.kind is Kind.TITLE_CHANGE and title.payload["title"] == "周末骑行群"
    recall = ev[f"{ROOM}:4630229215952295971"]
    assert recall.kind is Kind.DELETE and recall.actor and recall.actor.external_id == "李四"
    pat = ev[f"{ROOM}:6547675850931813364"]
    assert pat.kind is Kind.SERVICE and pat.payload["service"] == "拍一拍"
    notice = ev[f"{ROOM}:7437267147299592544"]
    assert notice.kind is Kind.SERVICE and notice.target and notice.target.external_id == "李四"

    text = ev[f"{ROOM}:637529293739295664"]
    assert text.actor and text.actor.external_id == "wxid_lisi22"
    assert text.payload["type"] == "text"
    assert text.payload["mentions"] == ["张三"]
    assert text.payload["urls"] == ["https://example.com/intro"]
    reply = ev[f"{ROOM}:2122553892045962801"]
    assert reply.payload["type"] == "reply" and reply.payload["text"] == "（我们两个人骑）"
    assert reply.payload["extra"]["quote"].startswith("[引用](2024-10-04 11:42:05)李四:")
    link = ev[f"{ROOM}:5704142615879617852"]
    assert link.payload == {
        "type": "link",
        "text": "周末骑行路线推荐\n环湖 30 公里",
        "urls": ["https://mp.weixin.qq.com/s/AbCdEf"],
    }
    assert ev[f"{ROOM}:1337798072543283708"].payload == {"type": "file", "media": "骑行路线.pdf"}
    assert ev[f"{ROOM}:4073926741244663531"].payload["type"] == "image"
    assert ev[f"{ROOM}:706358374822797422"].payload["type"] == "sticker"

    assert [(r.line, r.field) for r in rejected] == [(24, "CreateTime"), (25, None)]
    assert all(r.file.endswith("43218765@chatroom_0_5000.csv") for r in rejected)
    assert "9 columns" in rejected[1].message


def test_excel_resaved_times_and_self() -> None:
    events, rejected = collect(IMPORTER, SAMPLES / "pywxdump" / "wxid_friend99_0_5.csv", OPTS)
    assert not rejected
    first = events[0]
    assert first.ts == utc(2024, 10, 4, 3, 45) and first.group.external_id == "wxid_friend99"
    recall = events[2]
    assert recall.kind is Kind.DELETE
    assert recall.actor and recall.actor.external_id == "wxid_me0000"  # "你" = the exporter
    pat = events[3]
    assert pat.target and pat.target.external_id == "wxid_me0000"


def test_wechatmsg_memotrace_csv() -> None:
    events, rejected = collect(IMPORTER, SAMPLES / "memotrace", OPTS)
    group = events[0].group
    assert (group.external_id, group.title) == ("20001234567@chatroom", "技术交流群")
    joins = [e for e in events if e.kind is Kind.JOIN]
    pairs = [(j.actor and j.actor.external_id, j.target and j.target.external_id) for j in joins]
    assert pairs == [
        ("陈老师", "周一"),
        ("wxid_chen01", "wxid_new001"),  # sysmsgtemplate carries wxids
        ("wxid_chen01", "wxid_new002"),
        ("wxid_me0000", "钱多多"),  # "你邀请…" after the exporter's own rows showed its wxid
    ]
    assert joins[1].source_event_id.endswith(":1") and joins[2].source_event_id.endswith(":2")
    assert joins[1].target and joins[1].target.display_name == "小(刘)"
    msgs = [e for e in events if e.kind is Kind.MESSAGE]
    assert msgs[0].ts == utc(2024, 10, 4, 3, 41, 2)
    assert msgs[0].payload["text"] == "欢迎周一！\n本群只聊技术，广告勿发。"
    assert msgs[0].actor and msgs[0].actor.display_name == "陈老师"
    dup1, dup2 = msgs[1], msgs[2]
    assert dup1.payload == dup2.payload and dup1.source_event_id != dup2.source_event_id
    assert [m.payload["type"] for m in msgs[3:]] == ["image", "sticker", "reply", "link"]
    assert msgs[-1].payload["urls"] == ["https://mp.weixin.qq.com/s/Xyz123"]
    recall = next(e for e in events if e.kind is Kind.DELETE)
    assert recall.actor and recall.actor.external_id == "陈老师"
    assert [(r.line, r.field) for r in rejected] == [(13, "Type")]


def test_pywxdump_json_with_users() -> None:
    events, rejected = collect(IMPORTER, SAMPLES / "pywxdump-json", OPTS)
    assert [e.source_event_id for e in events] == [
        "55667788@chatroom:9001",
        "55667788@chatroom:9002",
        "55667788@chatroom:9003",
    ]
    assert events[0].actor and events[0].actor.display_name == "阿甲"
    assert [(r.record, r.field) for r in rejected] == [("item[3]", "CreateTime")]


def test_reimport_gives_identical_ids() -> None:
    for path in (SAMPLES / "memotrace", PYWX):
        a, _ = collect(IMPORTER, path, OPTS)
        b, _ = collect(IMPORTER, path, OPTS)
        assert [e.source_event_id for e in a] == [e.source_event_id for e in b]
        assert len({e.source_event_id for e in a}) == len(a)


def test_detect(tmp_path: Path) -> None:
    assert IMPORTER.detect(PYWX) >= 90
    assert IMPORTER.detect(SAMPLES / "memotrace") >= 90
    assert IMPORTER.detect(SAMPLES / "pywxdump-json") >= 90
    whatsapp = tmp_path / "WhatsApp Chat with Bikers.txt"
    whatsapp.write_text("12/01/2024, 09:00 - Ann: hi\n", encoding="utf-8")
    other_csv = tmp_path / "sales.csv"
    other_csv.write_text("id,name,amount\n1,a,2\n", encoding="utf-8")
    irc = tmp_path / "irc.log"
    irc.write_text("[09:00] <ann> hi\n", encoding="utf-8")
    qq = Path(__file__).parent / "samples" / "qq"
    for p in (whatsapp, other_csv, irc, qq):
        assert IMPORTER.detect(p) == 0
    with pytest.raises(ImportFormatError):
        list(IMPORTER.files(other_csv, OPTS))


# ---------------------------------------------------------------- more real shapes


def _pairs(events: list[Event]) -> list[tuple[str, str | None, str | None, str | None]]:
    return [
        (
            e.kind.value,
            e.actor.external_id if e.actor else None,
            e.target.external_id if e.target else None,
            e.payload.get("method"),
        )
        for e in events
    ]


def test_pywxdump_english_ui_notices_and_raw_sender_prefix() -> None:
    path = SAMPLES / "pywxdump-en" / "88990011@chatroom_0_5000.csv"
    events, rejected = collect(IMPORTER, path, OPTS)
    assert _pairs(events) == [
        ("join", "Ann", "Bob", "invited_by"),  # Ann invited Bob、Carol to the group chat
        ("join", "Ann", "Carol", "invited_by"),
        ("join", "Ann", "Dan", "qr_code"),  # … via the QR Code shared by "Ann".
        ("join", "我", "Eve", "qr_code"),  # … via the QR code you shared.
        ("kick", "我", "Bob", None),  # You removed "Bob" from the group chat
        ("kick", "Ann", "Carol", None),
        ("title_change", "Ann", None, None),
        ("delete", "Dan", None, None),  # <revokemsg>"Dan" recalled a message</revokemsg>
        ("message", "wxid_dan004", None, None),  # "wxid_dan004:\n…" with talker 未知
        ("join", "Ann", "我", "invited_by"),  # Ann invited you and Frank to the group chat
        ("join", "Ann", "Frank", "invited_by"),
        ("kick", "Ann", "我", None),  # You were removed from the group chat by "Ann"
        ("message", "wxid_ann001", None, None),
        ("message", "wxid_ann001", None, None),
        ("message", "wxid_ann001", None, None),
    ]
    assert events[0].ts == utc(2024, 3, 1, 1, 0)
    assert events[6].payload["title"] == "Book Club 2024"
    assert events[8].payload["text"] == "Hi all, I'm Dan"
    assert events[12].payload["type"] == "other"  # 转账
    assert events[13].payload["type"] == "link"  # (分享)小程序
    assert events[13].payload["urls"] == ["https://mp.weixin.qq.com/a/xyz"]
    assert events[14].payload["text"] == "Note:\nbring books"  # not a sender prefix
    assert [(r.line, r.field) for r in rejected] == [(20, "CreateTime")]
    assert "25:00:00" in rejected[0].message


def test_wechatmsg_xml_notices_pats_and_prefixes() -> None:
    events, rejected = collect(IMPORTER, SAMPLES / "memotrace-xml", OPTS)
    assert _pairs(events) == [
        # 邀请你加入了群聊，群聊参与人还有：… ("你" is "我" until a sent row shows its wxid)
        ("join", "林老师", "我", "invited_by"),
        ("message", "wxid_lin01", None, None),  # "wxid_lin01:\n欢迎…" with an empty Sender
        ("message", "wxid_me0000", None, None),
        ("service", "wxid_lin01", "wxid_zhao02", None),  # <sysmsg type="pat">
        ("join", "wxid_lin01", "wxid_qian03", "qr_code"),  # template in <plain>, chatroom prefix
        ("join", "wxid_me0000", "wxid_sun04", "invited_by"),  # 你邀请… $revoke$ (hidden link)
        ("join", "wxid_me0000", "wxid_li05", "invited_by"),
        ("service", "wxid_zhao02", "wxid_qian03", None),  # 49/62 pat
        ("message", "wxid_qian03", None, None),
        ("message", "wxid_qian03", None, None),
        ("message", "wxid_lin01", None, None),
        ("message", "wxid_lin01", None, None),
        ("title_change", "钱三", None, None),
        ("kick", "wxid_me0000", "李五", None),
    ]
    assert events[0].ts == utc(2024, 3, 1, 1, 0)
    assert events[1].payload["text"] == "欢迎！本周读《三体》"
    assert events[3].payload["service"] == events[7].payload["service"] == "拍一拍"
    assert events[4].payload["text"] == '"钱三"通过扫描"林老师"分享的二维码加入群聊'
    assert events[5].payload["text"] == '你邀请"孙四、李五"加入了群聊'  # no 撤销 button text
    assert events[5].target and events[5].target.display_name == "孙四"
    assert events[8].ts == utc(2024, 3, 1, 1, 5, 40)  # CreateTime in milliseconds
    assert [e.payload["type"] for e in events[8:12]] == ["voice", "video", "other", "link"]
    assert events[12].payload["title"] == "三体读书会"
    assert [(r.line, r.field) for r in rejected] == [(17, "CreateTime")]
    assert rejected[0].file.endswith("读书会.csv")


def test_wechatmsg_private_chat_rows_without_sender_columns() -> None:
    events, rejected = collect(IMPORTER, SAMPLES / "memotrace-private", OPTS)
    assert not rejected
    assert [(e.actor.external_id if e.actor else None) for e in events] == [
        "wxid_friend01",
        "我",
        "wxid_friend01",
    ]
    assert events[0].actor and events[0].actor.display_name == "阿强"
    assert [e.payload["type"] for e in events] == ["text", "text", "image"]


_WORDINGS: list[tuple[str, str, str | None, str | None, list[str]]] = [
    # (notice, kind, method, actor, targets)
    ('"韩梅"邀请你加入了群聊，群聊参与人还有：甲、乙', "join", "invited_by", "韩梅", ["你"]),
    ("你加入了群聊，群聊参与人还有：甲、乙", "join", "unknown", "你", ["你"]),
    ("你通过扫描二维码加入群聊，群聊参与人还有：甲", "join", "qr_code", "你", ["你"]),
    ('" 苏轼"通过扫描"管理员"分享的二维码加入群聊', "join", "qr_code", "管理员", ["苏轼"]),
    ('"桔子"通过扫描你分享的二维码加入群聊  撤销', "join", "qr_code", "你", ["桔子"]),
    ('你邀请"甲、乙"加入了群聊  ', "join", "invited_by", "你", ["甲", "乙"]),
    ('"甲"邀请你和"乙"加入了群聊', "join", "invited_by", "甲", ["你", "乙"]),
    ('你被"甲"移出群聊', "kick", None, "甲", ["你"]),
    ('"甲"将"乙"移出了群聊', "kick", None, "甲", ["乙"]),
    ("你撤回了一条消息 重新编辑", "delete", None, "你", []),
    ('"甲" 撤回了一則訊息', "delete", None, "甲", []),
    (
        "You invited 李卓桓.PreAngel、Bruce LEE to the group chat.   ",
        "join",
        "invited_by",
        "你",
        ["李卓桓.PreAngel", "Bruce LEE"],
    ),
    (
        "管理员 invited 庆次, 小桔妹 to the group chat",
        "join",
        "invited_by",
        "管理员",
        ["庆次", "小桔妹"],
    ),
    (
        "李卓桓 invited you to a group chat with 李佳芮, Huan",
        "join",
        "invited_by",
        "李卓桓",
        ["你"],
    ),
    (
        '"桔小秘" joined the group chat via your shared QR Code.',
        "join",
        "qr_code",
        "你",
        ["桔小秘"],
    ),
    (
        "You've joined the group chat via QR Code. Group chat members: 甲",
        "join",
        "qr_code",
        "你",
        ["你"],
    ),
    ('You changed the group name to "骑行"', "title_change", None, "你", []),
    ("You recalled a message", "delete", None, "你", []),
]


@pytest.mark.parametrize(("text", "kind", "method", "actor", "targets"), _WORDINGS)
def test_notice_wordings(
    text: str, kind: str, method: str | None, actor: str | None, targets: list[str]
) -> None:
    act = parse_system(text)
    assert act.kind.value == kind
    assert (act.method.value if act.method else None) == method
    assert (act.actor.name if act.actor else None) == actor
    assert [p.name for p in act.targets] == targets


@pytest.mark.parametrize(
    ("text", "service"),
    [
        ("群主已启用“群聊邀请确认”，群成员需群主确认才能邀请朋友进群。", "invite_confirmation"),
        ('"李四"已成为新群主', "owner_changed"),
        ('"李四"与群里其他人都不是微信朋友关系，请注意隐私安全', "not_friends_notice"),
        ('"Ann" patted "Bob"', "拍一拍"),
        ("我拍了拍自己", "拍一拍"),
        ("群公告已更新", None),
    ],
)
def test_service_notices(text: str, service: str | None) -> None:
    act = parse_system(text)
    assert act.kind is Kind.SERVICE and act.service == service


def test_pywxdump_json_numeric_times(tmp_path: Path) -> None:
    items = [
        {
            "MsgSvrID": "1",
            "type_name": "文本",
            "is_sender": 0,
            "talker": "wxid_a",
            "room_name": "9@chatroom",
            "msg": "a",
            "src": "",
            "CreateTime": 1714521600,
        },
        {
            "MsgSvrID": "2",
            "type_name": "文本",
            "is_sender": 0,
            "talker": "wxid_a",
            "room_name": "9@chatroom",
            "msg": "b",
            "src": "",
            "CreateTime": 1714521600000.0,
        },
        {
            "MsgSvrID": "3",
            "type_name": "文本",
            "is_sender": 0,
            "talker": "wxid_a",
            "room_name": "9@chatroom",
            "msg": "c",
            "src": "",
            "CreateTime": None,
        },
    ]
    f = tmp_path / "9@chatroom_0_3.json"
    f.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    events, rejected = collect(IMPORTER, f, OPTS)
    assert [e.ts for e in events] == [utc(2024, 5, 1, 0, 0)] * 2
    assert [(r.record, r.field) for r in rejected] == [("item[2]", "CreateTime")]


def test_members_named_by_name_only_are_marked() -> None:
    events, _ = collect(IMPORTER, SAMPLES / "memotrace", OPTS)
    joins = {e.target.external_id: e for e in events if e.kind is Kind.JOIN and e.target}
    assert joins["周一"].payload["target_by_name"] is True
    assert joins["钱多多"].payload["target_by_name"] is True
    for wxid in ("wxid_new001", "wxid_new002"):  # sysmsgtemplate XML carries the wxids
        assert "target_by_name" not in joins[wxid].payload


@pytest.mark.parametrize(
    "engine_name", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_import_links_the_newcomer_to_their_wxid(
    engine_name: str, request: pytest.FixtureRequest
) -> None:
    """The notice '"陈老师"邀请"周一"加入了群聊' names 周一 only; their messages come from
    wxid_zhou001 (NickName 周一) a minute later: one member, invited, who spoke."""
    from sqlalchemy import select

    from qunyun.crm import links
    from qunyun.importing import run_import
    from qunyun.store.schema import identities, memberships

    engine = request.getfixturevalue(f"{engine_name}_engine")
    rep = run_import(engine, SAMPLES / "memotrace", tz="Asia/Shanghai")
    assert rep.links["linked"] == 1
    with engine.connect() as conn:
        (made,) = links.listing(conn, links.LINKER)
        assert (made["name"], made["identity"]["external_id"]) == ("周一", "wxid_zhou001")
        m, i = memberships.c, identities.c
        q = select(i.external_id, m.join_method, m.first_joined_at, m.first_message_at)
        rows = {r.external_id: r for r in conn.execute(q.join(identities, i.id == m.identity_id))}
    assert "周一" not in rows
    zhou = rows["wxid_zhou001"]
    assert zhou.join_method == "invited_by" and zhou.first_joined_at < zhou.first_message_at
