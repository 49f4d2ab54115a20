"""The monthly report (社群月报) as one self-contained HTML file.

Charts are inline SVG and styles are inline CSS, so the file opens offline, can be
mailed as is, and prints to PDF from any browser. Jinja2 autoescaping is on: group
titles and member names come from chat exports and may hold markup.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from qunyun.reports import charts
from qunyun.reports.findings import WEEKDAYS, findings
from qunyun.reports.sources import source_label

LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "社群月报",
        "groups_n": "{n} 个群",
        "members": "成员",
        "effective": "有效消息",
        "mau": "月活跃成员",
        "health": "健康分",
        "findings": "要点",
        "growth": "成员增长",
        "joins": "入群",
        "leaves": "退群",
        "sources": "入群渠道",
        "heatmap": "活跃时段（有效消息）",
        "activity": "活跃度",
        "messages": "消息",
        "active_share": "活跃占比",
        "lurkers": "潜水占比",
        "response": "首次响应（中位数 · 回复率）",
        "newcomers": "新人 7 日内发言",
        "top": "核心贡献者",
        "name": "成员",
        "active_days": "活跃天数",
        "funnel": "转化漏斗",
        "lifecycle": "生命周期",
        "new": "新成员",
        "active": "活跃",
        "silent": "沉默",
        "churned": "流失",
        "retention": "留存（按入群周）",
        "cohort": "入群周",
        "joined": "人数",
        "week_n": "第 {n} 周",
        "retention_legend": "每格：仍在群 / 仍活跃",
        "keywords": "热词",
        "rising": "上升",
        "falling": "下降",
        "health_title": "各群健康度",
        "group": "群",
        "per_week": "有效消息/周（前 8 周 → 近 4 周）",
        "dying": "衰退预警",
        "footer": "由 qunyun 群运生成",
        "spoke": "发言",
        "spoke_again": "再次发言",
        "regular": "常驻成员",
    },
    "en": {
        "title": "Community report",
        "groups_n": "{n} group(s)",
        "members": "Members",
        "effective": "Effective messages",
        "mau": "Monthly active",
        "health": "Health",
        "findings": "Highlights",
        "growth": "Growth",
        "joins": "Joins",
        "leaves": "Leaves",
        "sources": "Where members came from",
        "heatmap": "When people talk (effective messages)",
        "activity": "Activity",
        "messages": "Messages",
        "active_share": "Active share",
        "lurkers": "Lurkers",
        "response": "First response (median · answered)",
        "newcomers": "Newcomers who spoke within 7 days",
        "top": "Top contributors",
        "name": "Member",
        "active_days": "Active days",
        "funnel": "Funnel",
        "lifecycle": "Lifecycle",
        "new": "new",
        "active": "active",
        "silent": "silent",
        "churned": "churned",
        "retention": "Retention by join week",
        "cohort": "Join week",
        "joined": "Joined",
        "week_n": "Week {n}",
        "retention_legend": "Each cell: still in / active",
        "keywords": "Keywords",
        "rising": "Rising",
        "falling": "Falling",
        "health_title": "Group health",
        "group": "Group",
        "per_week": "Effective/week (prior 8 → last 4)",
        "dying": "fading",
        "footer": "Made with qunyun",
        "spoke": "Spoke",
        "spoke_again": "Spoke again",
        "regular": "Regulars",
    },
}

_env = Environment(
    loader=PackageLoader("qunyun.reports", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


_SHORT_DAYS = {
    "zh": WEEKDAYS["zh"],
    "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
}


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.0f}%"


def report_context(doc: dict[str, Any], lang: str = "zh") -> dict[str, Any]:
    """What the report's sections need: labels, charts and findings for ``doc``.

    The monthly report file and the console's group page both render
    ``report_sections.html.j2`` with this, so they show the same thing.
    """
    lang = lang if lang in LABELS else "en"
    t = LABELS[lang]
    g, a, f = doc["growth"], doc["activity"], doc["funnel"]
    days = [p["date"] for p in g["by_day"]]
    sources = [
        (source_label(s, lang), s["joins"], f"{s['joins']:,} · {_pct(s['share'])}")
        for s in g["by_source"][:10]
    ]
    steps = [
        (t["joins"], f["joined"]),
        (t["spoke"], f["spoke"]),
        (t["spoke_again"], f["spoke_again_later_week"]),
        (t["regular"], f["regular"]),
    ]
    rendered = {
        "members": charts.line([(p["date"], p["members"]) for p in g["by_day"]]),
        "joins": charts.bars(
            days,
            [
                (t["joins"], [p["joins"] for p in g["by_day"]], charts.ACCENT),
                (t["leaves"], [p["leaves"] for p in g["by_day"]], charts.ACCENT_2),
            ],
        ),
        "sources": charts.hbars(sources),
        "heatmap": charts.heatmap(a["heatmap"], _SHORT_DAYS[lang]),
        "funnel": charts.hbars([(name, n, f"{n:,}") for name, n in steps]),
    }
    return {
        "doc": doc,
        "t": t,
        "lang": lang,
        "charts": rendered,
        "found": findings(doc, lang),
        "pct": _pct,
        "weeks": [1, 2, 4, 8, 12],
    }


def render_html(doc: dict[str, Any], lang: str = "zh") -> str:
    ctx = report_context(doc, lang)
    titles = [x["title"] for x in doc["scope"]["groups"]]
    scope_title = "、".join(titles[:2]) + (f" +{len(titles) - 2}" if len(titles) > 2 else "")
    return _env.get_template("report.html.j2").render(scope_title=scope_title, **ctx)
