"""Operator Markdown → Telegram HTML (``parse_mode="HTML"``).

HTML, not MarkdownV2: MarkdownV2 makes 18 characters reserved anywhere in the
text (``.`` and ``!`` included), so any sentence an operator writes would have to
be escaped character by character; in HTML only ``<``, ``>`` and ``&`` are. The
supported subset is what messages use: ``**bold**``, ``*italic*`` / ``_italic_``,
``~~strike~~``, ```` `code` ````, fenced code blocks and ``[label](https://…)``.
Everything else is sent as literal, escaped text.
"""

from __future__ import annotations

import html
import re

_FENCE = re.compile(r"```(?:[\w+-]*\n)?(.*?)```", re.S)
_CODE = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"\[([^\]\n]+)\]\(((?:https?|tg)://[^\s)]+)\)")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__", re.S)
_ITALIC = re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])|(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~", re.S)


def escape(text: str) -> str:
    """Plain text made safe for ``parse_mode="HTML"``."""
    return html.escape(text, quote=False)


def markdown_to_html(text: str) -> str:
    """Telegram HTML for ``text``; code is kept verbatim (escaped), never formatted."""
    held: list[str] = []

    def hold(fragment: str) -> str:
        held.append(fragment)
        return f"\x00{len(held) - 1}\x00"

    text = _FENCE.sub(lambda m: hold(f"<pre>{escape(m.group(1))}</pre>"), text)
    text = _CODE.sub(lambda m: hold(f"<code>{escape(m.group(1))}</code>"), text)
    text = _LINK.sub(
        lambda m: hold(f'<a href="{html.escape(m.group(2), quote=True)}">')
        + m.group(1) + hold("</a>"),
        text,
    )
    text = escape(text)
    text = _BOLD.sub(lambda m: f"<b>{m.group(1) or m.group(2)}</b>", text)
    text = _STRIKE.sub(lambda m: f"<s>{m.group(1)}</s>", text)
    text = _ITALIC.sub(lambda m: f"<i>{m.group(1) or m.group(2)}</i>", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: held[int(m.group(1))], text)
