"""The report as CSV: one row per local day, for spreadsheets.

Per-day series are what people chart in Excel; scalar metrics (retention, health…)
stay in the JSON/HTML forms, where their structure survives.
"""

from __future__ import annotations

import csv
import io
from typing import Any

COLUMNS = (
    "date",
    "members",
    "joins",
    "leaves",
    "messages",
    "effective",
    "questions",
    "bot_messages",
    "active_members",
)


def render_csv(doc: dict[str, Any]) -> str:
    growth = {p["date"]: p for p in doc["growth"]["by_day"]}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for day in doc["activity"]["by_day"]:
        g = growth.get(day["date"], {})
        w.writerow(
            [
                day["date"],
                g.get("members", ""),
                g.get("joins", ""),
                g.get("leaves", ""),
                day["messages"],
                day["effective"],
                day["questions"],
                day["bot_messages"],
                day["active_members"],
            ]
        )
    return buf.getvalue()
