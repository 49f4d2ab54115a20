"""Identity links: a newcomer named by nickname in the join notice, linked to their messages.

The QQ sample (tests/importers/samples/qq/新人群.txt) holds one case of each rule:
小鹿, 阿木 (invited by 老周) and 果果 join by nickname and speak as 昵称(QQ号) soon after
(linked); 静静 never speaks; 大白 is the name of two speakers, and 小A/小B are two names
of one speaker (ambiguous); 阿强 spoke before his join; 慢慢 first speaks 43 days on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Connection, Engine, select
from typer.testing import CliRunner

from qunyun.accounts import users
from qunyun.accounts.roles import CLI, Actor, Role
from qunyun.analytics import report
from qunyun.analytics.scope import resolve
from qunyun.cli import app
from qunyun.crm import links, members, membership_rows
from qunyun.errors import Conflict, NotFound, PermissionDenied
from qunyun.importing import run_import
from qunyun.store.schema import audit_log, identities, identity_links, memberships
from tests.conftest import EngineContract

SAMPLES = Path(__file__).parent.parent / "importers" / "samples" / "qq"
SAMPLE = SAMPLES / "新人群.txt"
OWNER = Actor(user_id=None, name="test", role=Role.owner)
HEADER = SAMPLE.read_text(encoding="utf-8").split("2024-03-01 9:00:00")[0]


def _import(engine: Engine, path: Path = SAMPLE) -> Any:
    return run_import(engine, path, tz="Asia/Shanghai")


def _import_unlinked(engine: Engine, monkeypatch: pytest.MonkeyPatch, path: Path = SAMPLE) -> None:
    """Import as the store was before the linker: the baseline undo must return to."""
    with monkeypatch.context() as m:
        m.setattr(links, "after_import", lambda engine, group_ids=None: None)
        _import(engine, path)


def _rows(conn: Connection) -> list[tuple[Any, ...]]:
    """Every membership row, without its row id, keyed by the external ids."""
    m, i = memberships.c, identities.c
    cols = [c for c in memberships.c if c.name != "id"]
    q = select(i.external_id, *cols).join(identities, i.id == m.identity_id)
    return sorted(tuple(r) for r in conn.execute(q))


def _report(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        doc = report.build(conn, resolve(conn, None, month="2024-03"), keywords=False)
    doc.pop("generated_at")
    return doc


def _ident(conn: Connection, external_id: str) -> int:
    q = select(identities.c.id).where(identities.c.external_id == external_id)
    return int(conn.execute(q).scalar_one())


def _row(conn: Connection, external_id: str) -> Any:
    q = select(memberships).where(memberships.c.identity_id == _ident(conn, external_id))
    return conn.execute(q).first()


class LinksContract(EngineContract):
    def test_newcomers_who_spoke_count_as_having_spoken(
        self, engine: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        _import_unlinked(engine, monkeypatch)
        before = _report(engine)["newcomers"]
        with engine.begin() as conn:
            run = links.do_relink(conn, OWNER)
        after = _report(engine)["newcomers"]
        assert len(run.linked) == 3
        assert before["joined"] == after["joined"] == 9  # one join each, counted once
        assert (before["spoke_within_7d"], after["spoke_within_7d"]) == (0, 3)
        with engine.connect() as conn:
            made = {(r["name"], r["identity"]["external_id"]) for r in links.listing(conn, OWNER)}
            assert made == {("小鹿", "20002"), ("阿木", "30003"), ("果果", "80008")}
            for alias in ("小鹿", "阿木", "果果"):
                assert _row(conn, alias) is None  # no longer a member of its own
            assert _row(conn, "静静") is not None
            amu = _row(conn, "30003")
            assert amu.join_method == "invited_by"
            assert amu.invited_by_id == _ident(conn, "10001")
            assert amu.first_joined_at < amu.first_message_at
            reason = links.listing(conn, OWNER)[-1]["reason"]
            assert "'小鹿'" in reason and "新人群" in reason and "3 min" in reason

    def test_import_runs_the_linker_and_members_are_counted_once(self, engine: Engine) -> None:
        rep = _import(engine)
        assert rep.as_dict()["links"]["linked"] == 3
        growth = _report(engine)["growth"]
        # 老周, 阿强, 小鹿, 阿木, 静静, 大白×2 + alias, 阿强's alias, 慢慢 + alias,
        # 小A, 小B, 50005, 果果: 15 memberships, the three linked aliases gone; at the
        # end of March 慢慢(70007), first seen in April, is not a member yet
        with engine.connect() as conn:
            assert len(_rows(conn)) == 15
        assert growth["members_end"] == 14
        assert growth["joins"] == 9

    def test_ambiguous_cases_are_left_alone_and_counted(self, engine: Engine) -> None:
        rep = _import(engine)
        cases = rep.links["ambiguous_cases"]
        assert sorted((c["name"], c["code"]) for c in cases) == [
            ("大白", "several_speakers"),
            ("小A", "speaker_claimed_twice"),
            ("小B", "speaker_claimed_twice"),
        ]
        assert rep.links["ambiguous"] == 3
        with engine.connect() as conn:
            for alias in ("大白", "小A", "小B", "阿强", "慢慢"):
                assert _row(conn, alias) is not None
            for speaker in ("40004", "40005", "50005", "60006", "70007"):
                assert _row(conn, speaker).first_joined_at is None

    def test_reimport_and_relink_change_nothing(self, engine: Engine) -> None:
        _import(engine)
        with engine.connect() as conn:
            rows, made = _rows(conn), list(conn.execute(select(identity_links)))
        again = _import(engine)
        assert again.totals()["new"] == 0 and again.links["linked"] == 0
        with engine.begin() as conn:
            run = links.do_relink(conn, OWNER)
        assert (run.linked, run.refolded) == ([], 0)
        with engine.connect() as conn:
            assert _rows(conn) == rows
            assert list(conn.execute(select(identity_links))) == made

    def test_undo_restores_rows_and_metrics_exactly(
        self, engine: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        _import_unlinked(engine, monkeypatch)
        with engine.connect() as conn:
            rows = _rows(conn)
        doc = _report(engine)
        with engine.begin() as conn:
            ids = links.do_relink(conn, OWNER).linked
        assert _report(engine) != doc
        for lid in ids:
            with engine.begin() as conn:
                undone = links.do_unlink(conn, OWNER, lid)
            assert undone["status"] == "undone"
        with engine.connect() as conn:
            assert _rows(conn) == rows
            actions = [r.action for r in conn.execute(select(audit_log).order_by(audit_log.c.id))]
        assert _report(engine) == doc
        assert actions == ["identity.link"] * 3 + ["identity.unlink"] * 3
        with engine.begin() as conn:  # an undone link is a decision: never made again
            assert links.do_relink(conn, OWNER).linked == []

    def test_a_later_export_folds_into_the_speaker(self, engine: Engine, tmp_path: Path) -> None:
        _import(engine)
        later = tmp_path / "新人群-2.txt"
        later.write_text(
            HEADER + "2024-03-10 9:01:00 果果(80008)\n谢谢邀请\n\n"
            "2024-03-20 9:00:00 系统消息(10000)\n果果加入本群\n\n"
            "2024-03-25 9:00:00 系统消息(10000)\n果果 退出了本群\n",
            encoding="utf-8",
        )
        rep = _import(engine, later)
        assert rep.totals()["new"] == 2 and rep.links["refolded"] == 1
        with engine.connect() as conn:
            assert _row(conn, "果果") is None
            speaker = _row(conn, "80008")
            assert speaker.left_how == "leave" and speaker.last_left_at > speaker.last_joined_at
            assert speaker.first_joined_at < speaker.last_joined_at  # the first join kept
            lid = next(r["id"] for r in links.listing(conn, OWNER) if r["name"] == "果果")
        with engine.begin() as conn:
            links.do_unlink(conn, OWNER, lid)
        with engine.connect() as conn:
            alias, speaker = _row(conn, "果果"), _row(conn, "80008")
        assert alias.left_how == "leave" and alias.first_joined_at < alias.last_joined_at
        assert speaker.first_joined_at is None and speaker.message_count == 1

    def test_rebuilt_rows_equal_the_ingesters(
        self, engine: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        _import_unlinked(engine, monkeypatch)
        _import_unlinked(engine, monkeypatch, SAMPLES / "周末骑行群.txt")
        with engine.begin() as conn:
            rows = _rows(conn)
            pairs = conn.execute(select(memberships.c.group_id, memberships.c.identity_id)).all()
            assert len(pairs) > 20
            for g, i in pairs:
                membership_rows.rebuild_membership(conn, g, i)
            assert _rows(conn) == rows

    def test_who_may_undo(self, engine: Engine) -> None:
        _import(engine)
        with engine.begin() as conn:
            row = links.listing(conn, OWNER)[0]
            lid, gid = row["id"], row["group"]["id"]

            def user(name: str, role: str, gids: list[int]) -> Actor:
                made, _ = users.create(conn, CLI, name, role, group_ids=gids)
                return made.actor(via="session")

            stranger = user("op", "operator", [])
            viewer = user("viewer1", "viewer", [gid])
            operator = user("op2", "operator", [gid])
        with engine.begin() as conn:
            with pytest.raises(NotFound):
                links.do_unlink(conn, stranger, lid)
            with pytest.raises(PermissionDenied):
                links.do_unlink(conn, viewer, lid)
            with pytest.raises(NotFound, match="no identity link 999"):
                links.do_unlink(conn, OWNER, 999)
            assert links.listing(conn, stranger) == []
        with engine.begin() as conn:
            links.do_unlink(conn, operator, lid)
            last = conn.execute(select(audit_log).order_by(audit_log.c.id.desc())).first()
            assert last is not None and (last.user_name, last.action) == ("op2", "identity.unlink")
        with engine.begin() as conn, pytest.raises(Conflict, match="undone already"):
            links.do_unlink(conn, operator, lid)

    def test_an_alias_that_speaks_anywhere_is_no_alias(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        """A nickname-only header (讨论组 style) writes messages under the name's key."""
        f = tmp_path / "两个群.txt"
        f.write_text(
            HEADER.replace("新人群(12345678)", "甲群(111111)")
            + "2024-03-01 9:00:00 系统消息(10000)\n路人甲加入本群\n\n"
            "2024-03-01 9:01:00 路人甲(90009)\n你好\n\n"
            + HEADER.replace("新人群(12345678)", "乙群(222222)")
            + "2024-03-02 9:00:00 路人甲\n我在乙群没有号码\n",
            encoding="utf-8",
        )
        assert _import(engine, f).links["linked"] == 0
        with engine.begin() as conn:  # with its message in 乙群 not counted, it would link
            assert links.do_relink(conn, OWNER).linked == []
            (g,) = conn.execute(
                select(memberships.c.group_id).where(
                    memberships.c.identity_id == _ident(conn, "90009")
                )
            ).scalars()
            conn.execute(
                memberships.update()
                .where(
                    memberships.c.identity_id == _ident(conn, "路人甲"), memberships.c.group_id != g
                )
                .values(message_count=0)
            )
            assert len(links.do_relink(conn, OWNER).linked) == 1

    def test_the_speakers_timeline_shows_the_linked_join(self, engine: Engine) -> None:
        _import(engine)
        with engine.connect() as conn:
            person = _row(conn, "20002").person_id
            kinds = [(e["kind"], e["role"]) for e in members.timeline(conn, OWNER, person)]
        assert kinds == [("message", "actor"), ("join", "target")]

    def test_commands(self, engine: Engine) -> None:
        _import(engine)
        url = engine.url.render_as_string(hide_password=False)
        cli = CliRunner()
        got = cli.invoke(app, ["identities", "links", "--group", "新人群", "--db", url, "--json"])
        assert got.exit_code == 0, got.output
        rows = orjson.loads(got.stdout)["links"]
        assert {r["status"] for r in rows} == {"active"} and len(rows) == 3
        got = cli.invoke(app, ["identities", "unlink", str(rows[0]["id"]), "--db", url, "--json"])
        assert got.exit_code == 0, got.output
        assert orjson.loads(got.stdout)["link"]["status"] == "undone"
        got = cli.invoke(app, ["identities", "relink", "--db", url, "--json"])
        assert got.exit_code == 0, got.output
        assert orjson.loads(got.stdout)["linked"] == 0


class TestLinksSQLite(LinksContract):
    engine_name = "sqlite"


@pytest.mark.postgres
class TestLinksPostgres(LinksContract):
    engine_name = "postgres"
