"""The console in real headless Chromium (Debian's ``chromium``, driven by Playwright).

One newcomer's path through the product: sign in, find the empty state, import a
real-shaped export through the page and watch it finish, open the group's charts,
switch language, download the monthly report; then screenshots of every page in
both languages at 1366×768 and on a 390-wide phone, kept in ``QUNYUN_SCREENSHOTS``
(or the test's temp folder) for a person to look at.

Without Chromium these tests are skipped — and fail instead under
``QUNYUN_REQUIRE_BROWSER=1`` (CI), so a skipped browser suite never passes CI.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from qunyun.accounts import users
from qunyun.accounts.roles import CLI
from qunyun.importing import run_import
from qunyun.store.engine import make_engine, migrate
from qunyun.store.schema import groups

SAMPLES = Path(__file__).parents[1] / "importers" / "samples"
TELEGRAM = SAMPLES / "telegram" / "ChatExport_2024-01-03" / "result.json"
PASSWORD = "correct horse battery"


def _chromium() -> str:
    path = os.environ.get("QUNYUN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        msg = "Chromium not found (apt-get install chromium, or set QUNYUN_CHROMIUM)"
        if os.environ.get("QUNYUN_REQUIRE_BROWSER") == "1":
            pytest.fail(msg + " (QUNYUN_REQUIRE_BROWSER=1)")
        pytest.skip(msg)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("browser") / "qunyun.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with engine.begin() as conn:
        users.create(conn, CLI, "owner", "owner", password=PASSWORD, all_groups=True)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def server(store: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app on a loopback port, with its background worker (imports run)."""
    import uvicorn

    from qunyun.web.app import create_app

    home = tmp_path_factory.mktemp("home")
    old_home = os.environ.get("QUNYUN_HOME")
    os.environ["QUNYUN_HOME"] = str(home)  # uploads go here
    port = _free_port()
    config = uvicorn.Config(
        create_app(store, worker=True), host="127.0.0.1", port=port, log_level="warning"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the console did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)
    if old_home is None:
        os.environ.pop("QUNYUN_HOME", None)
    else:
        os.environ["QUNYUN_HOME"] = old_home


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    exe = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    keep = os.environ.get("QUNYUN_SCREENSHOTS")
    folder = Path(keep) if keep else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _has_groups(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.execute(select(func.count()).select_from(groups)).scalar_one())


def _login(page: Any, base: str) -> None:
    page.goto(base + "/")
    assert "/login" in page.url  # pages need a session
    page.fill("input[name=name]", "owner")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def test_newcomer_journey(browser: Any, server: str, shots: Path, tmp_path: Path) -> None:
    ctx = browser.new_context(
        viewport={"width": 1366, "height": 768}, locale="zh-CN", accept_downloads=True
    )
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # a wrong password is refused with a message, in the browser's language
    page.goto(server + "/login")
    page.fill("input[name=name]", "owner")
    page.fill("input[name=password]", "wrong password!")
    page.click("button[type=submit]")
    assert page.locator(".alert").inner_text() == "用户名或密码不正确"

    _login(page, server)
    # an empty store tells a newcomer what to do next
    assert page.locator(".empty h1").inner_text() == "还没有数据"
    assert page.locator("a[href='/imports']").first.is_visible()

    # import an export through the page and watch it finish
    page.goto(server + "/imports")
    page.set_input_files("input[type=file]", str(TELEGRAM))
    page.fill("input[name=tz]", "Asia/Shanghai")
    page.click("[data-testid=import-form] button[type=submit]")
    page.wait_for_url("**/imports/*")
    page.wait_for_selector("[data-testid=job-status].st-done", timeout=30_000)
    new = int(page.locator("[data-testid=total-new]").inner_text().replace(",", ""))
    assert new > 0
    # the sample holds deliberately malformed records: each is listed with where it is
    rejected = int(page.locator("[data-testid=total-rejected]").inner_text())
    problems = page.locator("[data-testid=problems] tbody tr")
    assert problems.count() == rejected > 0
    assert "result.json" in problems.first.inner_text()

    # the group and its charts
    page.click("text=查看群组")
    page.wait_for_selector("[data-testid=groups-table]")
    page.locator("[data-testid=groups-table] tbody a").first.click()
    page.wait_for_selector(".report svg")
    assert page.locator(".report section").count() >= 6
    heat = page.locator("section:has(h2:text('活跃时段（有效消息）')) svg")
    assert heat.count() == 1
    page.wait_for_selector("#keywords h2")  # loaded after the page

    # switch language: the same page, now in English, and it stays so
    page.click("[data-testid=lang-switch]")
    page.wait_for_selector(".report svg")
    assert page.locator(".side nav a.on").inner_text().strip() == "Groups"
    page.goto(server + "/")
    assert page.locator("h1").first.inner_text() == "Community overview"

    # generate and download the monthly report
    page.goto(server + "/reports")
    page.select_option("[data-testid=report-form] select[name=format]", "html")
    page.select_option("[data-testid=report-form] select[name=lang]", "en")
    with page.expect_download() as dl:
        page.click("[data-testid=report-form] button[type=submit]")
    target = tmp_path / "report.html"
    dl.value.save_as(target)
    html = target.read_text(encoding="utf-8")
    assert "<svg" in html and "Community report" in html

    page.screenshot(path=str(shots / "journey-end.png"))
    assert errors == [], errors
    ctx.close()


PAGES = ["/", "/groups", "/groups/1", "/members", "/members/1", "/imports", "/reports", "/settings"]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(("width", "height"), [(1366, 768), (390, 844)])
def test_screenshots(
    browser: Any, server: str, store: Engine, shots: Path, lang: str, width: int, height: int
) -> None:
    """Every page renders without errors or horizontal overflow; pictures kept to look at."""
    ctx = browser.new_context(
        viewport={"width": width, "height": height},
        locale="zh-CN" if lang == "zh" else "en-US",
    )
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    if not _has_groups(store):  # run alone, without the journey test before it
        run_import(store, TELEGRAM, tz="Asia/Shanghai")
    _login(page, server)
    for path in PAGES:
        response = page.goto(server + path)
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("networkidle")
        label = path.strip("/").replace("/", "-") or "overview"
        page.screenshot(path=str(shots / f"{lang}-{width}-{label}.png"), full_page=True)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"{path} scrolls sideways by {overflow}px at {width}px"
        html_lang = page.locator("html").get_attribute("lang")
        assert html_lang == ("zh-CN" if lang == "zh" else "en")
    assert errors == [], errors
    ctx.close()
