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
        users.create(conn, CLI, "nobody", "viewer", password=PASSWORD)  # sees no group
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


def _login(page: Any, base: str, name: str = "owner") -> None:
    page.goto(base + "/")
    assert "/login" in page.url  # pages need a session
    page.fill("input[name=name]", name)
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

# What "fits the screen" means, measured in the page itself (CSS pixels):
# sideways overflow of the document, and anything that sticks out of the viewport
# without a scrolling box around it to hold it.
_LAYOUT_JS = """() => {
  const doc = document.documentElement, vw = window.innerWidth;
  const scrolls = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden') return true;
    }
    return false;
  };
  const out = [];
  for (const el of document.querySelectorAll('main *, .side *, .login-card *')) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height) continue;
    if ((r.right > vw + 1 || r.left < -1) && !scrolls(el)) {
      out.push(`${el.tagName.toLowerCase()}.${el.className.baseVal ?? el.className}: ` +
               `${Math.round(r.left)}..${Math.round(r.right)}`);
    }
  }
  return {overflow: doc.scrollWidth - doc.clientWidth, outside: out.slice(0, 5)};
}"""

# Every chart on the page (but the word cloud, a picture of words sized by weight):
# how wide it is, its smallest text as rendered (font size times the chart's scale),
# and any label cut off at a side.
_CHARTS_JS = """() => Array.from(document.querySelectorAll('main svg'))
  .filter((svg) => !svg.parentElement.closest('svg') && !svg.closest('#keywords, .cloud'))
  .map((svg) => {
  const box = svg.getBoundingClientRect();
  let smallest = 99, cut = [];
  for (const t of svg.querySelectorAll('text')) {
    const ctm = t.getScreenCTM();
    const size = parseFloat(getComputedStyle(t).fontSize) * (ctm ? ctm.a : 1);
    smallest = Math.min(smallest, size);
    const r = t.getBoundingClientRect();
    if (r.width && (r.left < box.left - 1 || r.right > box.right + 1)) cut.push(t.textContent);
  }
  return {kind: svg.getAttribute('class'), width: box.width, height: box.height,
          smallest: smallest, cut: cut.slice(0, 3)};
})"""


def _check_layout(page: Any, where: str) -> None:
    got = page.evaluate(_LAYOUT_JS)
    assert got["overflow"] <= 1, f"{where} scrolls sideways by {got['overflow']}px"
    assert got["outside"] == [], f"{where}: outside the screen: {got['outside']}"


def _check_charts(page: Any, where: str, width: int) -> int:
    """Charts fill their card, their text is readable and none is cut off."""
    found = page.evaluate(_CHARTS_JS)
    for c in found:
        # full width of the card: the phone's width less the page and card padding
        assert c["width"] >= (300 if width < 500 else 420), f"{where}: {c} is squeezed"
        assert c["height"] >= 60, f"{where}: {c} is flat"
        assert c["smallest"] >= 10.5, f"{where}: {c} has text smaller than 10.5px"
        assert c["cut"] == [], f"{where}: {c} cuts labels off"
    return len(found)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(("width", "height"), [(1366, 768), (390, 844)])
def test_screenshots(
    browser: Any, server: str, store: Engine, shots: Path, lang: str, width: int, height: int
) -> None:
    """Every page fits the screen, its charts are readable and its navigation usable, in
    both languages, on a laptop and a phone; pictures are kept to look at."""
    ctx = browser.new_context(
        viewport={"width": width, "height": height},
        locale="zh-CN" if lang == "zh" else "en-US",
    )
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    if not _has_groups(store):  # run alone, without the journey test before it
        run_import(store, TELEGRAM, tz="Asia/Shanghai")
    phone = width < 500

    page.goto(server + "/login")
    page.screenshot(path=str(shots / f"{lang}-{width}-login.png"), full_page=True)
    _check_layout(page, "/login")
    assert page.locator("button[type=submit]").bounding_box()["height"] >= 36

    # someone who may see no group gets the empty state, and it fits too
    _login(page, server, "nobody")
    assert page.locator(".empty h1").is_visible()
    page.screenshot(path=str(shots / f"{lang}-{width}-empty.png"), full_page=True)
    _check_layout(page, "empty state")
    page.locator(".side form button.link").click()  # sign out
    page.wait_for_url("**/login**")

    _login(page, server)
    charts = 0
    for path in PAGES:
        response = page.goto(server + path)
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("networkidle")
        label = path.strip("/").replace("/", "-") or "overview"
        page.screenshot(path=str(shots / f"{lang}-{width}-{label}.png"), full_page=True)
        _check_layout(page, f"{path} at {width}px")
        charts += _check_charts(page, f"{path} at {width}px", width)
        html_lang = page.locator("html").get_attribute("lang")
        assert html_lang == ("zh-CN" if lang == "zh" else "en")
        assert page.locator("h1").first.is_visible()
        # every section is one tap away; the current one is on screen, and big enough
        tabs = page.locator(".side nav a")
        assert tabs.count() == 6
        on = page.locator(".side nav a.on")
        if on.count():
            box = on.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1
            assert box["height"] >= (36 if phone else 30), box
    # overview: activity + joins; group: members, joins, sources, heatmap, funnel
    assert charts >= 7, charts

    # the group page's charts at phone size: the heatmap's 24 hours fit without scrolling
    page.goto(server + "/groups/1")
    heat = page.locator("svg.qc-heatmap")
    assert heat.count() == 1
    box = heat.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    # the word cloud, loaded after the page, fits its card
    page.wait_for_selector("#keywords h2")
    cloud = page.locator("#keywords svg")
    if cloud.count():
        cbox = cloud.first.bounding_box()
        assert cbox is not None and cbox["x"] + cbox["width"] <= width

    if phone:
        # list tables turn into one card per row: the name, then labelled numbers; the
        # column names stay as sort buttons, each big enough to tap
        page.goto(server + "/groups")
        row = page.locator("[data-testid=groups-table] tbody tr").first
        sort = page.locator("[data-testid=groups-table] thead th a").first
        assert sort.is_visible()
        sbox = sort.bounding_box()
        assert sbox is not None and sbox["height"] >= 32
        rbox = row.bounding_box()
        assert rbox is not None and rbox["width"] <= width
        cell = row.locator("td[data-label]").first
        label_text = cell.evaluate("e => getComputedStyle(e, '::before').content")
        assert label_text.strip('"') == ("成员" if lang == "zh" else "Members")
        page.goto(server + "/members")
        assert page.locator("[data-testid=members-table] tbody tr").first.is_visible()
    assert errors == [], errors
    ctx.close()
