"""The report as PDF, printed by a headless Chromium from the self-contained HTML.

A browser is the one renderer that lays out Chinese text, SVG and print CSS the
way the reader saw them on screen; qunyun does not ship one, it finds one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from qunyun.errors import UserError

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    explicit = os.environ.get("QUNYUN_CHROMIUM")
    if explicit:
        return explicit
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def render_pdf(html: str, out: Path, *, timeout: float = 120) -> None:
    browser = find_chromium()
    if browser is None:
        raise UserError(
            "PDF needs Chromium: install it (Debian/Ubuntu: apt-get install chromium "
            "fonts-noto-cjk) or set QUNYUN_CHROMIUM to a Chrome/Chromium binary; "
            "--format html works without it",
            zh="生成 PDF 需要 Chromium：请安装（apt-get install chromium fonts-noto-cjk）"
            "或设置 QUNYUN_CHROMIUM；--format html 无需浏览器",
            code="no_chromium",
        )
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        target = Path(tmp) / "report.pdf"
        argv = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp}/profile",
            "--no-pdf-header-footer",
            f"--print-to-pdf={target}",
            page.as_uri(),
        ]
        try:
            proc = subprocess.run(argv, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise UserError(
                f"Chromium did not finish the PDF in {timeout:.0f} s", zh="Chromium 生成 PDF 超时"
            ) from exc
        if not target.exists() or target.stat().st_size == 0:
            tail = proc.stderr.decode(errors="replace").strip().splitlines()[-3:]
            raise UserError(
                f"Chromium could not print the PDF: {' | '.join(tail)}", zh="Chromium 生成 PDF 失败"
            )
        shutil.copyfile(target, out)
