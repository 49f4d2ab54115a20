"""Console-wide settings an admin can change: default time zone and language."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select

from qunyun.accounts import audit
from qunyun.accounts.roles import Actor, Role
from qunyun.errors import UserError
from qunyun.store.schema import settings
from qunyun.timezones import zone

DEFAULTS = {"tz": "Asia/Shanghai", "lang": "auto"}
#: the user still signing in with the password `qunyun serve` printed at first start
ONE_TIME_PASSWORD_USER = "one_time_password_user"
LANGS = ("auto", "zh", "en")


def read(conn: Connection) -> dict[str, str]:
    out = dict(DEFAULTS)
    out.update({r.key: r.value for r in conn.execute(select(settings.c.key, settings.c.value))})
    return out


def write(conn: Connection, actor: Actor, **values: str | None) -> dict[str, str]:
    actor.require(Role.admin)
    changed = {}
    for key, value in values.items():
        if value is None:
            continue
        if key == "tz":
            zone(value)  # raises a UserError naming the bad zone
        elif key == "lang" and value not in LANGS:
            raise UserError(
                f"language must be auto, zh or en, not {value!r}", zh="语言须为 auto、zh 或 en"
            )
        elif key not in DEFAULTS:
            raise UserError(f"unknown setting {key!r}", zh=f"未知设置 {key!r}")
        conn.execute(delete(settings).where(settings.c.key == key))
        conn.execute(insert(settings).values(key=key, value=value))
        changed[key] = value
    if changed:
        audit.record(conn, actor, "settings.change", None, changed)
    return read(conn)


def set_marker(conn: Connection, key: str, value: str | None) -> None:
    """Internal markers beside the settings (not user-editable); None removes one."""
    conn.execute(delete(settings).where(settings.c.key == key))
    if value is not None:
        conn.execute(insert(settings).values(key=key, value=value))
