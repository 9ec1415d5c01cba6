"""The dashboard in a real headless Chromium (Debian's, driven by Playwright) against live runs.

CI installs ``chromium`` (``.ci/run``); ``ADHASH_CHROMIUM`` names another binary. A screenshot of
the dashboard is written to ``test-artifacts/dashboard.png`` at the repository root.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from adhash import SaltedMap
from adhash.metrics.hub import MetricsHub
from adhash.metrics.server import SESSION_COOKIE, MetricsServer
from adhash.replay import ReplayOptions, replay
from adhash.workload.generate import GeneratorSpec, generate
from tests.core.test_metrics_records import colliding_ints, flooded_tick, tick_of

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("ADHASH_CHROMIUM", "/usr/bin/chromium")
TOKEN = "s3cret-token-for-tests"
WAIT_MS = 20_000
_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def workload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("browser") / "w.csv"
    generate(GeneratorSpec.from_params(ops=150_000, key_space=40_000, read_ratio=0.5, seed=5), path)
    return path


def _live_server(workload: Path, token: str | None) -> tuple[MetricsServer, threading.Thread]:
    """A server fed by a real replay running on a thread (paced, so the page sees it live)."""
    hub = MetricsHub()
    server = MetricsServer(hub, port=0, token=token).start()
    options = ReplayOptions(mode="adaptive", tick_interval=0.1, target_rate=100_000)

    def run() -> None:
        summary, _ = replay(workload, options, sinks=[hub])
        hub.write(summary)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
def live(workload: Path) -> Iterator[MetricsServer]:
    server, thread = _live_server(workload, None)
    yield server
    thread.join(timeout=30)
    server.stop()


@pytest.fixture
def live_with_token(workload: Path) -> Iterator[MetricsServer]:
    server, thread = _live_server(workload, TOKEN)
    yield server
    thread.join(timeout=30)
    server.stop()


def _open(browser: Browser, url: str) -> tuple[Page, list[str]]:
    page = browser.new_page(viewport={"width": 1300, "height": 1600}, accept_downloads=True)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.goto(url)
    return page, errors


def _points(page: Page, chart: str) -> int:
    return int(page.locator(f"#{chart}").get_attribute("data-points") or 0)


def test_dashboard_draws_a_live_run_without_errors(browser: Browser, live: MetricsServer) -> None:
    page, errors = _open(browser, live.url)
    expect(page.locator("#status")).to_contain_text("connected", timeout=WAIT_MS)
    page.wait_for_function(
        "document.getElementById('chart-throughput').dataset.points > 4", timeout=WAIT_MS
    )
    for chart in ("chart-throughput", "chart-latency", "chart-load", "chart-probe"):
        assert _points(page, chart) > 0, chart
    for chart in ("chart-latency-hist", "chart-probe-hist", "chart-heatmap"):
        assert _points(page, chart) > 0, chart
    expect(page.locator("#card-ops")).not_to_have_text("\u2013")  # the placeholder dash
    artifacts = REPO_ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)
    page.close()
    assert errors == []


def test_events_list_fills_with_the_run_start_and_a_migration(
    browser: Browser, live: MetricsServer
) -> None:
    page, _ = _open(browser, live.url)
    expect(page.locator("#events li").first).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#events")).to_contain_text("start", timeout=WAIT_MS)
    expect(page.locator("#events")).to_contain_text("migration_started", timeout=WAIT_MS)
    expect(page.locator("#status")).to_contain_text("completed", timeout=WAIT_MS)
    expect(page.locator("#events")).to_contain_text("complete", timeout=WAIT_MS)
    page.close()


def test_timeline_csv_downloads_from_the_page(browser: Browser, live: MetricsServer) -> None:
    page, _ = _open(browser, live.url)
    expect(page.locator("#status")).to_contain_text("connected", timeout=WAIT_MS)
    with page.expect_download(timeout=WAIT_MS) as download:
        page.locator("#csv").click()
    text = Path(download.value.path()).read_text()
    assert text.startswith("run_id,seq,t,")
    assert len(text.splitlines()) > 1
    page.close()


def test_poll_interval_can_be_changed(browser: Browser, live: MetricsServer) -> None:
    page, errors = _open(browser, live.url)
    page.select_option("#poll", "1000")
    expect(page.locator("#status")).to_contain_text("connected", timeout=WAIT_MS)
    page.close()
    assert errors == []


def test_without_the_token_the_page_says_how_to_open_it(
    browser: Browser, live_with_token: MetricsServer
) -> None:
    page, _ = _open(browser, live_with_token.url)
    expect(page.locator("#status")).to_contain_text("token missing or wrong", timeout=WAIT_MS)
    assert TOKEN not in page.content()
    page.close()


def test_a_wrong_token_in_the_address_is_refused(
    browser: Browser, live_with_token: MetricsServer
) -> None:
    page = browser.new_page()
    response = page.goto(live_with_token.url + "?token=wrong")
    assert response is not None
    assert response.status == 401
    page.close()


def test_the_token_in_the_address_becomes_an_httponly_cookie_and_leaves_the_url(
    browser: Browser, live_with_token: MetricsServer
) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(live_with_token.url + "?token=" + TOKEN)
    expect(page.locator("#status")).to_contain_text("connected", timeout=WAIT_MS)
    assert "token" not in page.url
    assert page.url.rstrip("/") == live_with_token.url.rstrip("/")
    (cookie,) = [c for c in context.cookies() if c["name"] == SESSION_COOKIE]
    assert cookie["httpOnly"] is True
    assert cookie["value"] != TOKEN
    page.wait_for_function(
        "document.getElementById('chart-throughput').dataset.points > 0", timeout=WAIT_MS
    )
    assert TOKEN not in page.content()
    context.close()


def test_a_stopped_server_shows_unreachable(browser: Browser, workload: Path) -> None:
    server, thread = _live_server(workload, None)
    page, _ = _open(browser, server.url)
    expect(page.locator("#status")).to_contain_text("connected", timeout=WAIT_MS)
    thread.join(timeout=30)
    server.stop()
    page.select_option("#poll", "1000")
    expect(page.locator("#status")).to_contain_text("server unreachable", timeout=WAIT_MS)
    page.close()


def test_a_flood_shows_its_keys_its_alert_with_the_detail_and_then_salted_hashing(
    browser: Browser,
) -> None:
    hub = MetricsHub()
    hub.write(flooded_tick())
    with MetricsServer(hub, port=0, token=None) as server:
        page, errors = _open(browser, server.url)
        page.select_option("#poll", "1000")
        expect(page.locator("#card-flood")).to_have_text("40", timeout=WAIT_MS)
        expect(page.locator("#card-flood-box")).to_have_class(re.compile("alerting"))
        expect(page.locator("#card-hashing")).to_have_text("plain")
        expect(page.locator("#alerts")).to_contain_text(
            "Hash flooding guardrail exceeded on chaining: 40 >= 8 "
            "(40 keys share one hash() value: no index can separate them)"
        )
        salted: SaltedMap[object, int] = SaltedMap(seed=1)
        salted.update((key, j) for j, key in enumerate(colliding_ints(40)))
        salted.update({object(): 0, object(): 1})
        hub.write(tick_of(salted, seq=1))
        expect(page.locator("#card-hashing")).to_have_text(
            "salted (2 unsalted keys)", timeout=WAIT_MS
        )
        expect(page.locator("#card-flood")).to_have_text("1")
        expect(page.locator("#card-flood-box")).not_to_have_class(re.compile("alerting"))
        page.close()
    assert errors == []
