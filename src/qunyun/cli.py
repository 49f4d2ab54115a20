"""``qunyun``: the command line. Commands parse, call a service, and render.

Every reporting command takes ``--json`` and then prints exactly one JSON
document on stdout; progress bars and logs go to stderr so pipes stay clean.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from qunyun import __version__
from qunyun.errors import UserError

app = typer.Typer(
    name="qunyun",
    help="群运 qunyun — run many chat groups as one community. 社群运营平台。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
out = Console()

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL or SQLite file path (default: $QUNYUN_DATABASE_URL, "
        "else $QUNYUN_HOME/qunyun.sqlite3).",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


def _emit_json(doc: Any) -> None:
    sys.stdout.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n")


def _store(db: str | None) -> Any:
    from qunyun.store.engine import open_store

    return open_store(db)


# --------------------------------------------------------------------------- import


class _RichProgress:
    """Import progress on stderr: one bar per file, by bytes read."""

    def __init__(self, progress: Progress) -> None:
        self.p = progress
        self.task: Any = None

    def start_file(self, label: str, size: int | None) -> None:
        name = label if len(label) < 50 else "…" + label[-49:]
        self.task = self.p.add_task(name, total=size or None, events=0)

    def advance(self, position: int, read: int) -> None:
        self.p.update(self.task, completed=position, events=read)

    def end_file(self, report: Any) -> None:
        total = self.p.tasks[self.task].total
        if total:
            self.p.update(self.task, completed=total)


@app.command("import")
def import_cmd(
    path: Annotated[Path, typer.Argument(help="Export file, folder or zip.", show_default=False)],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", "-f", help="Export format (default: detect). See `qunyun formats`."
        ),
    ] = None,
    tz: Annotated[
        str | None,
        typer.Option(
            help="Time zone of local times in the export, e.g. Asia/Shanghai "
            "(default: this machine's)."
        ),
    ] = None,
    group: Annotated[
        str | None,
        typer.Option(help="Group name for formats whose files don't carry one (WhatsApp, IRC)."),
    ] = None,
    strict: Annotated[
        bool, typer.Option(help="Abort on the first bad record and write nothing.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            help="Read the export even if this very file was imported before with the same "
            "settings (otherwise that import's counts are reported, nothing is re-read)."
        ),
    ] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import a chat-history export. Re-importing the same file adds nothing.

    导入聊天记录导出文件；重复导入不会产生重复数据。
    """
    from qunyun.importing import run_import

    engine = _store(db)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[events]:,} events"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns, console=err, disable=not err.is_terminal) as p:
            report = run_import(
                engine,
                path,
                fmt=fmt,
                tz=tz,
                group=group,
                strict=strict,
                progress=_RichProgress(p),
                parallel=True,
                force=force,
            )
    except KeyboardInterrupt:
        err.print(
            "[yellow]interrupted[/]: what was imported so far is saved; run the same command "
            "again to finish. 已中断：已导入的数据已保存，重新运行同一命令即可继续。"
        )
        raise typer.Exit(130) from None
    doc = report.as_dict()
    if as_json:
        _emit_json(doc)
    else:
        table = Table(title=f"{report.path} ({report.format}, tz {report.tz})")
        for col in ("file", "read", "new", "already present", "rejected", "skipped"):
            table.add_column(col, justify="left" if col == "file" else "right")
        for f in report.files:
            table.add_row(
                f.file,
                *(f"{n:,}" for n in (f.read, f.new, f.duplicate, f.rejected, f.skipped)),
            )
        out.print(table)
        if report.unchanged_since is not None:
            err.print(
                f"unchanged since import #{report.unchanged_since}: the same file with the same "
                "settings; nothing was read again (--force reads it). "
                f"与第 {report.unchanged_since} 次导入的文件和设置完全相同，未重新读取。"
            )
        for f in report.files:
            for e in f.errors[:20]:
                where = ", ".join(
                    str(x)
                    for x in (
                        e["file"],
                        e["line"] and f"line {e['line']}",
                        e["record"],
                        e["field"] and f"field {e['field']!r}",
                    )
                    if x
                )
                label = "skipped" if e.get("skipped") else "rejected"
                err.print(f"[yellow]{label}[/] {where}: {e['message']}")
            if f.rejected + f.skipped > 20:
                more = f.rejected + f.skipped - 20
                err.print(f"[yellow]… and {more} more rejected or skipped in {f.file}[/]")
    if report.totals()["rejected"]:
        raise typer.Exit(1)


@app.command("formats")
def formats_cmd(as_json: JsonOpt = False) -> None:
    """List the export formats qunyun can import. 支持的导出格式。"""
    from qunyun import importers

    found = importers.available()
    rows = [
        {"format": n, "platform": i.platform, "description": i.description}
        for n, i in found.items()
    ]
    if as_json:
        _emit_json({"formats": rows})
        return
    table = Table("format", "platform", "description")
    for r in rows:
        table.add_row(r["format"], r["platform"], r["description"])
    out.print(table)


# --------------------------------------------------------------------------- demo


@app.command("demo")
def demo_cmd(
    groups: Annotated[int, typer.Option(help="Number of groups.")] = 20,
    members: Annotated[int, typer.Option(help="Number of distinct members (identities).")] = 3000,
    days: Annotated[int, typer.Option(help="Days of history.")] = 180,
    events: Annotated[
        int | None, typer.Option(help="Target total number of events (default: from size).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Same seed, same community.")] = 0,
    today: Annotated[
        bool,
        typer.Option(help="End the history now instead of on the fixed demo date 2025-07-01."),
    ] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Fill the store with a realistic synthetic community. 生成演示社群数据。

    Deterministic: the same options give the same community, and loading it again
    adds nothing. Use another --seed (or another --db) for a second community.
    """
    from datetime import UTC, datetime

    from qunyun.demo import generate
    from qunyun.demo.source import load

    engine = _store(db)
    err.print(f"planning {groups:,} groups, {members:,} members, {days} days (seed {seed})…")
    plan = generate(
        groups,
        members,
        days,
        seed=seed,
        events=events,
        end=datetime.now(UTC) if today else None,
    )
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("events"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns, console=err, disable=not err.is_terminal) as p:
            report = load(
                engine,
                plan,
                groups=groups,
                members=members,
                days=days,
                seed=seed,
                progress=_RichProgress(p),
                parallel=True,
            )
    except KeyboardInterrupt:
        err.print(
            "[yellow]interrupted[/]: run the same command again to finish. 已中断，可重新运行。"
        )
        raise typer.Exit(130) from None
    doc = {
        "seed": seed,
        "groups": groups,
        "members": members,
        "days": days,
        "events": plan.total,
        **report.totals(),
    }
    if as_json:
        _emit_json(doc)
        return
    out.print(
        f"demo community: [bold]{groups:,}[/] groups, [bold]{members:,}[/] members, "
        f"[bold]{plan.total:,}[/] events — {doc['new']:,} new, {doc['duplicate']:,} already there."
    )
    if doc["new"] == 0:
        out.print("(already loaded: use another --seed or --db for a second community)")
    out.print("Next: [bold]qunyun stats[/]")


# --------------------------------------------------------------------------- stats


@app.command("stats")
def stats_cmd(
    group: Annotated[
        str | None, typer.Option(help="Group id, platform id or part of the title.")
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Groups, members, messages, and joins/leaves per month. 基础统计。"""
    from qunyun.analytics.stats import basic_stats

    engine = _store(db)
    with err.status("counting… 统计中…"), engine.connect() as conn:
        doc = basic_stats(conn, group)
    if as_json:
        _emit_json(doc)
        return
    t = doc["totals"]
    if not t["groups"]:
        out.print(
            "The store is empty. Try [bold]qunyun demo[/] or [bold]qunyun import PATH[/].\n"
            "还没有数据：运行 qunyun demo 生成演示社群，或 qunyun import 导入聊天记录。"
        )
        return
    out.print(
        f"[bold]{t['groups']:,}[/] groups · [bold]{t['members']:,}[/] members "
        f"({t['people']:,} people) · [bold]{t['authors']:,}[/] authors · "
        f"[bold]{t['messages']:,}[/] messages ({t['bot_messages']:,} by bots) · "
        f"{t['joins']:,} joins · {t['leaves']:,} leaves"
    )
    table = Table("id", "platform", "title", "members", "ever", "authors", "messages")
    table.add_column("first", no_wrap=True)
    table.add_column("last", no_wrap=True)
    shown = sorted(doc["groups"], key=lambda g: -g["messages"])[:30]
    for g in shown:
        table.add_row(
            str(g["id"]),
            g["platform"],
            g["title"] or g["external_id"],
            f"{g['members']:,}",
            f"{g['members_ever']:,}",
            f"{g['authors']:,}",
            f"{g['messages']:,}",
            (g["first_event"] or "")[:10],
            (g["last_event"] or "")[:10],
        )
    out.print(table)
    if len(doc["groups"]) > len(shown):
        out.print(f"… {len(doc['groups']) - len(shown)} more groups (use --json for all)")
    months = Table("month", "messages", "joins", "leaves")
    for m in doc["months"]:
        months.add_row(m["month"], f"{m['messages']:,}", f"{m['joins']:,}", f"{m['leaves']:,}")
    out.print(months)


@app.command("report")
def report_cmd(
    group: Annotated[
        str | None, typer.Option(help="Group id, platform id or part of the title (default: all).")
    ] = None,
    month: Annotated[str | None, typer.Option(help="A calendar month, e.g. 2025-06.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day, e.g. 2025-06-01.")] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Last day (default: newest data).")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="table, json, csv (one row a day), html or pdf.")
    ] = "table",
    lang: Annotated[str, typer.Option(help="Language of html/pdf: zh or en.")] = "zh",
    tz: Annotated[
        str | None,
        typer.Option(
            help="Count days and hours in this IANA zone (default: each group's own zone)."
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File for html/pdf (default: report-FROM-TO.EXT)."),
    ] = None,
    db: DbOpt = None,
) -> None:
    """Metrics for groups over a date range. 社群数据报告。

    Days are calendar days in each group's own time zone (set on import with --tz),
    or in --tz for this report only (the stored zone does not change).
    Without --month/--from, the 30 days ending on the newest data.
    """
    from qunyun.analytics import report, rollups
    from qunyun.analytics.rezone import viewed_in
    from qunyun.analytics.scope import resolve
    from qunyun.timezones import zone

    if fmt not in ("table", "json", "csv", "html", "pdf"):
        raise UserError(
            f"--format must be table, json, csv, html or pdf, not {fmt!r}",
            zh="--format 须为 table、json、csv、html 或 pdf",
        )
    if lang not in ("zh", "en"):
        raise UserError(f"--lang must be zh or en, not {lang!r}", zh="--lang 须为 zh 或 en")
    if tz is not None:
        zone(tz)
    engine = _store(db)
    with err.status("computing the report… 正在计算报告…"):
        rollups.catch_up(engine)
        with engine.connect() as conn:
            scope = resolve(conn, group, start, end, month)
            if tz is None:
                doc = report.build(conn, scope)
            else:
                with viewed_in(conn, scope.group_ids, tz):
                    doc = report.build(conn, resolve(conn, group, start, end, month))
    if fmt == "json":
        _emit_json(doc)
        return
    if fmt == "csv":
        from qunyun.reports.csv_export import render_csv

        sys.stdout.write(render_csv(doc))
        return
    if fmt in ("html", "pdf"):
        from qunyun.reports.html import render_html

        page = render_html(doc, lang)
        target = output or Path(f"report-{doc['scope']['from']}-{doc['scope']['to']}.{fmt}")
        if fmt == "html":
            target.write_text(page, encoding="utf-8")
        else:
            from qunyun.reports.pdf import render_pdf

            with err.status("printing the PDF… 正在生成 PDF…"):
                render_pdf(page, target)
        out.print(f"wrote {target}")
        return
    _print_report(doc)


def pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.0%}"


def _print_report(doc: dict[str, Any]) -> None:
    s, g, a = doc["scope"], doc["growth"], doc["activity"]
    names = ", ".join(x["title"] for x in s["groups"][:3])
    more = f" +{len(s['groups']) - 3}" if len(s["groups"]) > 3 else ""
    out.print(f"[bold]{names}{more}[/] · {s['from']} → {s['to']}")
    t = Table("metric 指标", "value 数值")
    rows = [
        ("members (start → end) 成员", f"{g['members_start']:,} → {g['members_end']:,}"),
        ("joins / leaves 入群/退群", f"{g['joins']:,} / {g['leaves']:,}"),
        ("messages (effective) 消息(有效)", f"{a['messages']:,} ({a['effective_messages']:,})"),
        ("active members 活跃成员", f"{a['active_members']:,}"),
        ("DAU / WAU / MAU", f"{a['dau']} / {a['wau']:,} / {a['mau']:,}"),
        ("active share 活跃占比", pct(a["active_share"])),
        ("lurkers 潜水占比", pct(a["lurker_share"])),
        ("questions answered 问题回复率", pct(doc["response"]["answered_share"])),
        (
            "median first response 首次响应中位数",
            "—"
            if doc["response"]["median_minutes"] is None
            else f"{doc['response']['median_minutes']} min",
        ),
        ("newcomers spoke ≤7d 新人7日内发言", pct(doc["newcomers"]["spoke_within_7d_share"])),
        ("health score 健康分", str(doc["health"]["score"])),
    ]
    for k, v in rows:
        t.add_row(k, v)
    out.print(t)
    if doc["dying_groups"]:
        out.print(f"[red]dying groups 衰退预警: {len(doc['dying_groups'])}[/]")
        for d in doc["dying_groups"][:10]:
            out.print(
                f"  {d['title']}: {d['effective_per_week_prior']} → "
                f"{d['effective_per_week_recent']} effective msgs/week"
            )


# --------------------------------------------------------------------------- console


@app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(help="Web worker processes (more than 1 suits PostgreSQL).")
    ] = 1,
    background: Annotated[
        bool,
        typer.Option(
            "--background/--no-background",
            help="Run imports and rollup upkeep in this process (else run `qunyun worker`).",
        ),
    ] = True,
    db: DbOpt = None,
) -> None:
    """Start the web console and REST API. 启动网页控制台。

    On first start, creates the owner account and prints its one-time password.
    """
    import os

    import uvicorn

    from qunyun.accounts import users
    from qunyun.config import database_url

    url = database_url(db)
    engine = _store(url)
    with engine.begin() as conn:
        password = users.ensure_owner(conn)
    where = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}/"
    if password:
        out.print(
            f"\n[bold]qunyun console[/] → {where}\n"
            f"First start: sign in as [bold]owner[/] with the one-time password "
            f"[bold yellow]{password}[/]\n"
            "(shown only now; change it under Settings).\n"
            f"首次启动：请用用户名 owner 和上面的一次性密码登录 {where}，并在“设置”中修改密码。\n"
        )
    else:
        out.print(f"[bold]qunyun console[/] → {where}")
    sys.stdout.flush()  # the server runs until stopped: show this now, even through a pipe
    if workers > 1:
        # several processes import the app themselves; each opens the same store
        os.environ["QUNYUN_DATABASE_URL"] = url
        worker = None
        if background:
            from qunyun.jobs.worker import Worker

            worker = Worker(engine)
            worker.start_thread()
        uvicorn.run(
            "qunyun.web.app:factory",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
        )
        if worker:
            worker.stop.set()
        return
    from qunyun.web.app import create_app

    uvicorn.run(create_app(engine, worker=background), host=host, port=port, log_level="warning")


@app.command("worker")
def worker_cmd(db: DbOpt = None) -> None:
    """Run background jobs (imports, rollup upkeep) without the web server. 后台任务进程。"""
    import logging

    from qunyun.jobs.worker import Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    w = Worker(_store(db))
    err.print(f"worker {w.name} running; Ctrl-C to stop")
    try:
        w.run()
    except KeyboardInterrupt:
        w.stop.set()


user_app = typer.Typer(help="Console users. 控制台用户。", no_args_is_help=True)
token_app = typer.Typer(help="API tokens. API 令牌。", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")


@user_app.command("create")
def user_create_cmd(
    name: Annotated[str, typer.Argument(help="User name.", show_default=False)],
    role: Annotated[str, typer.Option(help="owner, admin, operator or viewer.")] = "viewer",
    groups: Annotated[
        str | None,
        typer.Option(
            help="Groups they see (operators/viewers): comma-separated ids, platform ids or "
            "titles, or 'all'. Default: none."
        ),
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a console user; prints a generated password once. 创建用户。"""
    from qunyun.accounts import users
    from qunyun.accounts.roles import CLI

    engine = _store(db)
    with engine.begin() as conn:
        specs = [g for g in (groups or "").split(",") if g.strip()]
        every = specs == ["all"]
        ids = [] if every else users.resolve_groups(conn, specs)
        user, password = users.create(conn, CLI, name, role, group_ids=ids, all_groups=every)
    doc = {"user": user.as_dict(), "password": password}
    if as_json:
        _emit_json(doc)
        return
    out.print(f"created [bold]{user.name}[/] ({user.role.value})")
    out.print(f"password (shown once 仅显示一次): [bold yellow]{password}[/]")


@user_app.command("list")
def user_list_cmd(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List console users. 用户列表。"""
    from qunyun.accounts import users

    with _store(db).connect() as conn:
        rows = [u.as_dict() for u in users.all_users(conn)]
    if as_json:
        _emit_json({"users": rows})
        return
    table = Table("id", "name", "role", "groups", "disabled")
    for u in rows:
        gs = "all" if u["all_groups"] else ", ".join(map(str, u["group_ids"])) or "—"
        table.add_row(str(u["id"]), u["name"], u["role"], gs, "yes" if u["disabled"] else "")
    out.print(table)


@user_app.command("password")
def user_password_cmd(
    name: Annotated[str, typer.Argument(help="User name.", show_default=False)],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Set a new generated password (e.g. a forgotten one); prints it once. 重置密码。"""
    from qunyun.accounts import passwords, users
    from qunyun.accounts.roles import CLI

    new = passwords.one_time_password()
    with _store(db).begin() as conn:
        user = users.by_name(conn, name)
        users.set_password(conn, CLI, user.id, new)
    if as_json:
        _emit_json({"user": user.name, "password": new})
        return
    out.print(f"new password of [bold]{user.name}[/] (shown once): [bold yellow]{new}[/]")


@token_app.command("create")
def token_create_cmd(
    user: Annotated[str, typer.Option(help="The user the token acts as.", show_default=False)],
    name: Annotated[str, typer.Option(help="A label, e.g. the script using it.")] = "cli",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an API token; prints it once. 创建 API 令牌。"""
    from qunyun.accounts import tokens
    from qunyun.accounts.roles import CLI

    with _store(db).begin() as conn:
        row, secret = tokens.create(conn, CLI, user, name)
    if as_json:
        _emit_json({"token": row, "secret": secret})
        return
    out.print(f"token {row['id']} for [bold]{row['user']}[/] (shown once 仅显示一次):")
    sys.stdout.write(secret + "\n")


@token_app.command("list")
def token_list_cmd(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List API tokens (never their secrets). 令牌列表。"""
    from qunyun.accounts import tokens
    from qunyun.accounts.roles import CLI

    with _store(db).connect() as conn:
        rows = tokens.listing(conn, CLI, everyone=True)
    if as_json:
        _emit_json({"tokens": rows})
        return
    table = Table("id", "user", "name", "created", "last used", "revoked")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["user"],
            r["name"],
            r["created_at"][:16],
            (r["last_used_at"] or "")[:16],
            "yes" if r["revoked"] else "",
        )
    out.print(table)


@token_app.command("revoke")
def token_revoke_cmd(
    token_id: Annotated[int, typer.Argument(help="Token id (see `qunyun token list`).")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Revoke an API token at once. 吊销令牌。"""
    from qunyun.accounts import tokens
    from qunyun.accounts.roles import CLI

    with _store(db).begin() as conn:
        row = tokens.revoke(conn, CLI, token_id)
    if as_json:
        _emit_json({"token": row})
        return
    out.print(f"revoked token {row['id']} ({row['user']}/{row['name']})")


# --------------------------------------------------------------------------- identities

ident_app = typer.Typer(
    help="Identity links: newcomers named by nickname only, linked to their messages. 身份关联。",
    no_args_is_help=True,
)
app.add_typer(ident_app, name="identities")
GroupOpt = Annotated[str | None, typer.Option(help="Group id, platform id or part of the title.")]


def _group_ids(conn: Any, group: str | None) -> list[int] | None:
    from qunyun.store.queries import find_groups

    return None if group is None else [int(g.id) for g in find_groups(conn, group)]


def _print_links(rows: list[dict[str, Any]]) -> None:
    table = Table("id", "status", "group", "name", "alias → identity", "joined")
    table.add_column("reason", overflow="fold")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["status"],
            r["group"]["title"],
            r["name"],
            f"{r['alias']['external_id']} → {r['identity']['external_id']}",
            r["joined_at"][:16],
            r["reason"],
        )
    out.print(table)


@ident_app.command("links")
def identities_links_cmd(
    group: GroupOpt = None, db: DbOpt = None, as_json: JsonOpt = False
) -> None:
    """List identity links, active and undone. 列出身份关联。"""
    from qunyun.accounts.roles import CLI
    from qunyun.crm import links

    with _store(db).connect() as conn:
        rows = links.listing(conn, CLI, group_ids=_group_ids(conn, group))
    if as_json:
        _emit_json({"links": rows})
        return
    if not rows:
        out.print("no identity links 没有身份关联")
        return
    _print_links(rows)


@ident_app.command("unlink")
def identities_unlink_cmd(
    link_id: Annotated[int, typer.Argument(help="Link id (see `qunyun identities links`).")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Undo a link: both members are counted as they were before it. 撤销身份关联。"""
    from qunyun.accounts.roles import CLI
    from qunyun.crm import links

    with _store(db).begin() as conn:
        row = links.do_unlink(conn, CLI, link_id)
    if as_json:
        _emit_json({"link": row})
        return
    out.print(f"undone link {row['id']}: {row['alias']['external_id']} is its own member again")


@ident_app.command("relink")
def identities_relink_cmd(
    group: GroupOpt = None, db: DbOpt = None, as_json: JsonOpt = False
) -> None:
    """Run the linker (it also runs after every import); undone links stay undone.
    重新运行身份关联。"""
    from qunyun.accounts.roles import CLI
    from qunyun.crm import links

    with _store(db).begin() as conn:
        doc = links.do_relink(conn, CLI, _group_ids(conn, group)).as_dict()
    if as_json:
        _emit_json(doc)
        return
    out.print(
        f"linked {doc['linked']}, folded again {doc['refolded']}, "
        f"ambiguous (left alone) {doc['ambiguous']}"
    )
    for a in doc["ambiguous_cases"][:20]:
        err.print(f"[yellow]ambiguous[/] group {a['group_id']} {a['name']!r}: {a['code']}")


@app.command("version")
def version_cmd() -> None:
    """Print qunyun's version."""
    out.print(__version__)


def _terminate(signum: int, frame: Any) -> None:
    # `kill` asks as politely as Ctrl-C: finish cleanly (roll back the open batch,
    # mark the import interrupted) instead of dying mid-write.
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    try:
        app()
    except UserError as exc:
        err.print(f"[red]error:[/] {exc.message}")
        if exc.zh:
            err.print(f"[red]错误：[/]{exc.zh}")
        sys.exit(2)
