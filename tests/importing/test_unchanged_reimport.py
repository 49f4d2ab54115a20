"""An export imported before, byte for byte and with the same settings, is not read again.

Its earlier counts are reported (everything already present, the same rejections);
any change to the bytes, the time zone or the group name, or ``--force``, reads it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from qunyun.cli import app
from qunyun.importers.whatsapp import IMPORTER
from qunyun.importing import run_import
from qunyun.store.schema import events, imports
from tests.conftest import EngineContract

LINES = [
    "1/5/24, 9:00 PM - Ann: hello all",
    "1/5/24, 9:01 PM - Bob: hi Ann",
    "1/5/24, 9:02 PM - Ann: who is coming on Sunday?",
    "13/45/24, 9:03 PM - Bob: not a date",
]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _events(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


def _no_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: Any, **__: Any) -> Any:
        raise AssertionError("the unchanged export was read again")

    monkeypatch.setattr(IMPORTER, "files", boom)


class UnchangedContract(EngineContract):
    def test_same_file_is_not_read_again(
        self, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        chat = _write(tmp_path / "WhatsApp Chat with Club.txt", LINES)
        first = run_import(engine, chat, fmt="whatsapp", tz="Europe/Berlin")
        assert first.totals()["new"] == 3 and first.totals()["rejected"] == 1
        with engine.connect() as conn:
            first_id = conn.execute(select(func.max(imports.c.id))).scalar_one()
        _no_reading(monkeypatch)
        again = run_import(engine, chat, fmt="whatsapp", tz="Europe/Berlin")
        assert again.unchanged_since == first_id
        assert again.totals() == {**first.totals(), "new": 0, "duplicate": 3}
        assert again.files[0].errors == first.files[0].errors  # the rejection still told
        assert _events(engine) == 3
        with engine.connect() as conn:
            rows = conn.execute(select(imports.c.status, imports.c.result)).all()
        assert [r.status for r in rows] == ["done", "done"]
        assert rows[1].result["unchanged_since"] == first_id

    def test_any_change_reads_it(self, engine: Engine, tmp_path: Path) -> None:
        chat = _write(tmp_path / "WhatsApp Chat with Club.txt", LINES)
        run_import(engine, chat, fmt="whatsapp", tz="Europe/Berlin")
        later = _write(chat, [*LINES, "1/6/24, 8:00 AM - Cid: morning"])  # a later export
        grown = run_import(engine, later, fmt="whatsapp", tz="Europe/Berlin")
        assert grown.unchanged_since is None
        assert (grown.totals()["new"], grown.totals()["duplicate"]) == (1, 3)
        other_zone = run_import(engine, later, fmt="whatsapp", tz="Asia/Tokyo")
        assert other_zone.unchanged_since is None and other_zone.totals()["read"] == 4
        other_group = run_import(engine, later, fmt="whatsapp", tz="Asia/Tokyo", group="Club 2")
        assert other_group.unchanged_since is None and other_group.totals()["new"] == 4
        forced = run_import(engine, later, fmt="whatsapp", tz="Asia/Tokyo", force=True)
        assert forced.unchanged_since is None and forced.totals()["duplicate"] == 4
        # the same bytes under another name: WhatsApp names the group after the file
        renamed = later.rename(tmp_path / "WhatsApp Chat with Club West.txt")
        moved = run_import(engine, renamed, fmt="whatsapp", tz="Asia/Tokyo")
        assert moved.unchanged_since is None and moved.totals()["new"] == 4

    def test_an_interrupted_import_is_no_precedent(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        chat = _write(tmp_path / "WhatsApp Chat with Club.txt", LINES)
        first = run_import(engine, chat, fmt="whatsapp", tz="UTC")
        with engine.begin() as conn:
            conn.execute(imports.update().values(status="interrupted"))
        again = run_import(engine, chat, fmt="whatsapp", tz="UTC")
        assert again.unchanged_since is None
        assert again.totals()["duplicate"] == first.totals()["new"]


class TestUnchangedSqlite(UnchangedContract):
    engine_name = "sqlite"


@pytest.mark.postgres
class TestUnchangedPostgres(UnchangedContract):
    engine_name = "postgres"


def test_cli_says_so(tmp_path: Path) -> None:
    chat = _write(tmp_path / "WhatsApp Chat with Club.txt", LINES)
    db = f"sqlite:///{tmp_path / 'q.sqlite3'}"
    runner = CliRunner()
    args = ["import", str(chat), "--tz", "UTC", "--db", db, "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 1  # one line rejected
    again = runner.invoke(app, args)
    doc = json.loads(again.stdout)
    assert doc["unchanged_since"] == 1 and doc["totals"]["new"] == 0
    assert doc["fingerprint"] == json.loads(first.stdout)["fingerprint"]
    table = runner.invoke(app, ["import", str(chat), "--tz", "UTC", "--db", db])
    assert "unchanged since import #1" in table.stderr
    forced = runner.invoke(app, [*args, "--force"])
    assert json.loads(forced.stdout)["unchanged_since"] is None


def test_folders_and_zips_are_fingerprinted_by_what_importers_read(tmp_path: Path) -> None:
    """A chat's text counts byte for byte; media beside it by size and time only, and a
    zip by its directory's CRC-32s, so a large export costs little to fingerprint."""
    import os
    import zipfile

    from qunyun.importers.fingerprint import fingerprint

    folder = tmp_path / "WhatsApp Chat - Club"
    folder.mkdir()
    chat = _write(folder / "_chat.txt", LINES)
    photo = folder / "IMG-0001.jpg"
    photo.write_bytes(b"\xff\xd8" + b"a" * 100)
    first = fingerprint(folder, "whatsapp", "UTC", None)
    st = photo.stat()
    photo.write_bytes(b"\xff\xd8" + b"b" * 100)  # same size, time put back: not read
    os.utime(photo, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert fingerprint(folder, "whatsapp", "UTC", None) == first
    photo.write_bytes(b"\xff\xd8" + b"b" * 101)
    assert fingerprint(folder, "whatsapp", "UTC", None) != first
    second = fingerprint(folder, "whatsapp", "UTC", None)
    _write(chat, [*LINES[:-1], "1/5/24, 9:03 PM - Bob: changed"])
    assert fingerprint(folder, "whatsapp", "UTC", None) != second

    archive = tmp_path / "WhatsApp Chat - Club.zip"

    def zipped(last: str) -> str:
        with zipfile.ZipFile(archive, "w") as zf:
            zf.writestr("_chat.txt", "\n".join([*LINES, f"1/6/24, 8:00 AM - Cid: {last}"]))
        return fingerprint(archive, "whatsapp", "UTC", None)

    assert zipped("a") == zipped("a") != zipped("b")
