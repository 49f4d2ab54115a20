"""Live platforms: one module per platform behind the interface in :mod:`.base`.

``PLATFORMS`` maps a config's ``platform = "…"`` to the class that serves it;
modules are imported only when a configured connector needs them, so a user who
runs only Telegram never loads matrix-nio.
"""

from __future__ import annotations

import importlib

from qunyun.connectors.base import Connector

PLATFORMS: dict[str, str] = {
    "matrix": "qunyun.connectors.matrix:MatrixConnector",
    "telegram": "qunyun.connectors.telegram:TelegramConnector",
    "wecom": "qunyun.connectors.wecom:WeComConnector",
    "webhook": "qunyun.connectors.webhook:WebhookConnector",
}


def connector_class(platform: str) -> type[Connector]:
    module, _, name = PLATFORMS[platform].partition(":")
    cls: type[Connector] = getattr(importlib.import_module(module), name)
    return cls
