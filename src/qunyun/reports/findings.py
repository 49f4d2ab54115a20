"""Plain-language findings from a report document, in Chinese or English.

Each finding states only what the numbers in the document support; a finding
whose data is missing (null, empty) is left out rather than guessed.
"""

from __future__ import annotations

from typing import Any

from qunyun.reports.sources import source_label

WEEKDAYS = {
    "zh": ["周一", "周二", "周三", "周四", "周五", "周六", "周日"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%"


def findings(doc: dict[str, Any], lang: str = "zh") -> list[str]:
    zh = lang == "zh"
    out: list[str] = []
    g, a = doc["growth"], doc["activity"]
    if g["members_start"]:
        change = g["net_growth"] / g["members_start"]
        out.append(
            f"成员从 {g['members_start']:,} 变为 {g['members_end']:,}（{change:+.0%}），"
            f"入群 {g['joins']:,}、退群 {g['leaves']:,}。"
            if zh
            else f"Members went from {g['members_start']:,} to {g['members_end']:,} "
            f"({change:+.0%}): {g['joins']:,} joined, {g['leaves']:,} left."
        )
    heat = a["heatmap"]
    peak = max(((v, d, h) for d, row in enumerate(heat) for h, v in enumerate(row)), default=None)
    if peak and peak[0] > 0:
        day = WEEKDAYS[lang if lang in WEEKDAYS else "en"][peak[1]]
        out.append(
            f"{day} {peak[2]}:00 最活跃。" if zh else f"{day} {peak[2]}:00 is the busiest hour."
        )
    sources = [s for s in g["by_source"] if s["joins"] and s.get("active_4w") is not None]
    if sources:
        top = max(sources, key=lambda s: s["joins"])
        name = source_label(top, lang)
        out.append(
            f"渠道「{name}」带来 {_pct(top['share'])} 的新成员，4 周后仍活跃的占 "
            f"{_pct(top['active_4w'])}。"
            if zh
            else f"Channel “{name}” brought {_pct(top['share'])} of joins; "
            f"{_pct(top['active_4w'])} of them were still active after 4 weeks."
        )
    if a["lurker_share"] is not None:
        out.append(
            f"{_pct(a['lurker_share'])} 的成员从未发言。"
            if zh
            else f"{_pct(a['lurker_share'])} of members have never said anything."
        )
    r = doc["response"]
    if r["median_minutes"] is not None:
        out.append(
            f"提问后首次回复的中位时间为 {r['median_minutes']:.0f} 分钟，"
            f"{_pct(r['answered_share'] or 0)} 的问题得到回复。"
            if zh
            else f"Questions get a first reply in {r['median_minutes']:.0f} minutes (median); "
            f"{_pct(r['answered_share'] or 0)} were answered."
        )
    n = doc["newcomers"]
    if n["joined"] and n["spoke_within_7d_share"] is not None:
        out.append(
            f"新成员中 {_pct(n['spoke_within_7d_share'])} 在入群 7 天内发言。"
            if zh
            else f"{_pct(n['spoke_within_7d_share'])} of newcomers spoke within 7 days."
        )
    top = doc["top_contributors"][:1]
    if top and top[0]["effective"]:
        out.append(
            f"最活跃的成员是 {top[0]['name']}（{top[0]['effective']:,} 条有效消息）。"
            if zh
            else f"The most active member was {top[0]['name']} "
            f"({top[0]['effective']:,} effective messages)."
        )
    dying = doc.get("dying_groups") or []
    if dying:
        names = (
            "、".join(d["title"] for d in dying[:3])
            if zh
            else ", ".join(d["title"] for d in dying[:3])
        )
        out.append(
            f"{len(dying)} 个群活跃度大幅下降：{names}。"
            if zh
            else f"{len(dying)} group(s) are fading fast: {names}."
        )
    return out
