"""How a join source reads in a report: a channel code or link as it is, else who
brought the member in and how, else the join method — in Chinese or English."""

from __future__ import annotations

from typing import Any

_WORDS = {
    "zh": {
        "invited_by": "{who} 邀请",
        "invite_link": "{who} 的邀请链接",
        "qr_code": "{who} 分享的二维码",
        "approved": "{who} 审批通过",
        "method_unknown": "未知",
        "method_qr_code": "扫码",
        "method_invite_link": "邀请链接",
        "method_invited_by": "成员邀请",
        "method_approved": "审批入群",
        "method_channel_code": "渠道码",
        "method_community": "从社群加入",
    },
    "en": {
        "invited_by": "invited by {who}",
        "invite_link": "invite link of {who}",
        "qr_code": "QR code shared by {who}",
        "approved": "approved by {who}",
        "method_unknown": "unknown",
        "method_qr_code": "QR code",
        "method_invite_link": "invite link",
        "method_invited_by": "invited by a member",
        "method_approved": "join request approved",
        "method_channel_code": "channel code",
        "method_community": "from the community",
    },
}


def source_label(row: dict[str, Any], lang: str) -> str:
    """The name of a ``growth.by_source`` row (a link of X and X adding someone are
    different channels, and read differently)."""
    words = _WORDS.get(lang, _WORDS["en"])
    if row.get("inviter"):
        how = row["method"] if row["method"] in ("invite_link", "qr_code", "approved") else None
        return words[how or "invited_by"].format(who=row["inviter"])
    method = str(row["method"])
    return str(row["source"] or words.get(f"method_{method}", method))
