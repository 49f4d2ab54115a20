"""Chat-export importers: one module per format, found by name.

Each module ``qunyun.importers.<name>`` defines ``IMPORTER``, an object following
:class:`~qunyun.importers.base.Importer`. Plugins could add more later; for now
the list is fixed here so auto-detection has a stable order.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from qunyun.errors import ImportFormatError
from qunyun.importers.base import Importer

FORMATS: tuple[str, ...] = ("telegram", "whatsapp", "wechat", "qq", "discord", "slack", "irc")


def available() -> dict[str, Importer]:
    """Importers that are installed, by format name."""
    out: dict[str, Importer] = {}
    for name in FORMATS:
        try:
            mod = importlib.import_module(f"qunyun.importers.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"qunyun.importers.{name}":
                continue
            raise
        out[name] = mod.IMPORTER
    return out


def get(name: str) -> Importer:
    importers = available()
    if name not in importers:
        raise ImportFormatError(
            f"unknown format {name!r}; known formats: {', '.join(importers)}",
            zh=f"未知格式 {name!r}；支持的格式：{', '.join(importers)}",
            code="unknown_format",
        )
    return importers[name]


def detect(path: Path) -> Importer:
    """The importer most confident it can read ``path``."""
    if not path.exists():
        raise ImportFormatError(f"{path}: no such file or folder", zh=f"{path}：文件或文件夹不存在")
    scored = sorted(
        ((imp.detect(path), name, imp) for name, imp in available().items()),
        key=lambda t: -t[0],
    )
    if not scored or scored[0][0] <= 0:
        raise ImportFormatError(
            f"{path}: cannot tell which chat export this is; name its format "
            f"({', '.join(FORMATS)}) with --format or the console's Format field",
            zh=f"{path}：无法识别导出格式，请用 --format 或网页上的“格式”指定",
            code="format_not_detected",
        )
    return scored[0][2]
