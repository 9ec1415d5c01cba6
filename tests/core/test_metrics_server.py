"""MetricsServer over HTTP: endpoints, Prometheus, errors, auth, and clients that misbehave.

Every server here listens on 127.0.0.1 port 0 in this process; clients are ``http.client`` or raw
sockets, each with a timeout, so a hang fails the test instead of blocking it.
"""

from __future__ import annotations

import contextlib
import csv
import http.client
import io
import itertools
import logging
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from adhash.errors import IOFailureError
from adhash.metrics.histogram import HISTOGRAM_SCHEMA
from adhash.metrics.hub import PAYLOAD_SCHEMAS, MetricsHub
from adhash.metrics.prometheus import CONTENT_TYPE, LATENCY_BUCKETS_SECONDS
from adhash.metrics.records import MetricsTick, RunSummary, parse_record
from adhash.metrics.server import SESSION_COOKIE, MetricsServer, is_loopback
from adhash.metrics.sinks import NDJSONSink
from adhash.replay import ReplayOptions, replay
from adhash.workload.generate import GeneratorSpec, generate
from tests.core.test_metrics_records import make_tick

TOKEN = "t0ken-abc"
TIMEOUT = 5.0

JSON_SCHEMAS = {
    "/api/metrics": "adhash.metrics_summary.v1",
    "/api/metrics/history": "adhash.metrics_history.v1",
    "/api/metrics/histogram/latency": "adhash.tick_latency.v1",
    "/api/metrics/histogram/probe": "adhash.probe_histogram.v1",
    "/api/metrics/heatmap": "adhash.heatmap.v1",
    "/api/events": "adhash.events.v1",
    "/api/compare": "adhash.compare.v1",
    "/healthz": "adhash.health.v1",
    "/readyz": "adhash.health.v1",
}
CONTENT_TYPES = {
    **dict.fromkeys(JSON_SCHEMAS, "application/json"),
    "/api/metrics/history.csv": "text/csv; charset=utf-8",
    "/metrics": CONTENT_TYPE,
    "/": "text/html; charset=utf-8",
    "/index.html": "text/html; charset=utf-8",
    "/static/dashboard.js": "text/javascript; charset=utf-8",
    "/static/dashboard.css": "text/css; charset=utf-8",
}
ALL_PATHS = list(CONTENT_TYPES)
PROTECTED = [path for path in ALL_PATHS if path.startswith("/api/") or path == "/metrics"]
PUBLIC = [path for path in ALL_PATHS if path not in PROTECTED]
STATIC = ["/", "/index.html", "/static/dashboard.js", "/static/dashboard.css"]
ERROR_REQUESTS = [
    ("GET", "/no/such/endpoint"),
    ("POST", "/api/metrics"),
    ("GET", "/api/metrics?bogus=1"),
    ("GET", "/api/events?limit=0"),
]


# -- clients -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """One HTTP response: status, headers (names lower-cased), body."""

    status: int
    headers: dict[str, str]
    header_list: list[tuple[str, str]]
    body: bytes

    def json(self) -> dict[str, Any]:
        document: dict[str, Any] = orjson.loads(self.body)
        return document


def read_reply(response: http.client.HTTPResponse) -> Reply:
    body = response.read()
    pairs = response.getheaders()
    return Reply(response.status, {k.lower(): v for k, v in pairs}, pairs, body)


def fetch(
    server: MetricsServer,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = TIMEOUT,
) -> Reply:
    """One request on a fresh connection."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        return read_reply(conn.getresponse())
    finally:
        conn.close()


def connect(server: MetricsServer, timeout: float = TIMEOUT) -> socket.socket:
    return socket.create_connection((server.host, server.port), timeout=timeout)


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (a reset counts as the end)."""
    chunks: list[bytes] = []
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def raw_exchange(server: MetricsServer, data: bytes, timeout: float = TIMEOUT) -> bytes:
    """Send raw bytes, then read until the server closes; a hang raises TimeoutError."""
    with connect(server, timeout) as sock:
        sock.sendall(data)
        return read_all(sock)


def split_response(raw: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status_line, headers, body


def wait_until(predicate: Callable[[], bool], timeout: float = TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def samples_of(text: str) -> dict[str, list[Sample]]:
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("server") / "w.csv"
    generate(GeneratorSpec(ops=20_000, seed=5), path)
    return path


@pytest.fixture(scope="module")
def hub(workload: Path) -> MetricsHub:
    """Two real runs (so totals span runs), the first run's summary, and a comparison."""
    hub = MetricsHub(history_limit=10_000)
    options = ReplayOptions(tick_interval=0.01, latency_sample_every=4)
    first, _ = replay(workload, options, sinks=[hub])
    hub.write(first)
    replay(workload, options, sinks=[hub])
    hub.set_comparison({"schema": "adhash.compare.v1", "verdict": "no difference"})
    return hub


@contextlib.contextmanager
def serving(hub: MetricsHub, **options: Any) -> Iterator[MetricsServer]:
    """A started server on a free loopback port, stopped on exit."""
    server = MetricsServer(hub, host="127.0.0.1", port=0, **options).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def server(hub: MetricsHub) -> Iterator[MetricsServer]:
    with serving(hub) as started:
        yield started


@pytest.fixture(scope="module")
def token_server(hub: MetricsHub) -> Iterator[MetricsServer]:
    with serving(hub, token=TOKEN) as started:
        yield started


@pytest.fixture
def quick_timeout_server(hub: MetricsHub) -> Iterator[MetricsServer]:
    with serving(hub, request_timeout=1.0) as started:
        yield started


@pytest.fixture
def big_history_server() -> Iterator[MetricsServer]:
    """A hub whose history payload is megabytes, so sending it takes many writes."""
    base = make_tick()
    heatmap = base.heatmap.model_copy(update={"rows": 16, "cols": 64, "cells": [0.5] * 1024})
    big_tick = base.model_copy(update={"heatmap": heatmap})
    hub = MetricsHub(history_limit=2_000)
    for seq in range(2_000):
        hub.write(big_tick.model_copy(update={"seq": seq}))
    assert len(hub.payload("history")) > 4_000_000
    with serving(hub) as started:
        yield started


# -- endpoints -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", list(JSON_SCHEMAS))
def test_each_json_endpoint_answers_200_with_its_schema(server: MetricsServer, path: str) -> None:
    reply = fetch(server, path)
    assert reply.status == 200
    assert reply.json()["schema"] == JSON_SCHEMAS[path]


@pytest.mark.parametrize("path", ALL_PATHS)
def test_each_endpoint_sends_its_content_type(server: MetricsServer, path: str) -> None:
    reply = fetch(server, path)
    assert reply.status == 200
    assert reply.headers["content-type"] == CONTENT_TYPES[path]
    assert reply.headers["content-length"] == str(len(reply.body))


def test_the_summary_endpoint_serves_the_hubs_payload(
    server: MetricsServer, hub: MetricsHub
) -> None:
    assert fetch(server, "/api/metrics").body == hub.payload("summary")


def test_the_history_limit_parameter_keeps_the_newest_ticks(
    server: MetricsServer, hub: MetricsHub
) -> None:
    items = fetch(server, "/api/metrics/history?limit=3").json()["items"]
    assert [item["seq"] for item in items] == [t.seq for t in hub.ticks()[-3:]]


def test_the_events_since_parameter_keeps_later_events(server: MetricsServer) -> None:
    items = fetch(server, "/api/events?since=1").json()["items"]
    assert items
    assert all(item["seq"] > 1 for item in items)


def test_history_csv_is_an_attachment_with_a_header_row(server: MetricsServer) -> None:
    reply = fetch(server, "/api/metrics/history.csv")
    rows = list(csv.reader(io.StringIO(reply.body.decode())))
    assert rows[0][:3] == ["run_id", "seq", "t"]
    assert len(rows) > 2
    assert reply.headers["content-disposition"].startswith("attachment;")


def test_the_health_checks_report_status_and_state(server: MetricsServer) -> None:
    health, ready = fetch(server, "/healthz").json(), fetch(server, "/readyz").json()
    assert (health["status"], ready["status"]) == ("ok", "ready")
    assert health["state"] == "completed"  # the fixture's replay has ended
    assert health["uptime_seconds"] >= 0


def test_the_dashboard_page_has_a_strict_content_security_policy(server: MetricsServer) -> None:
    policy = fetch(server, "/").headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy


def test_compare_is_404_json_when_no_comparison_is_loaded() -> None:
    with serving(MetricsHub()) as server:
        reply = fetch(server, "/api/compare")
        assert reply.status == 404
        assert reply.json()["error"] == "not_found"


def test_the_url_names_localhost_and_the_real_port(server: MetricsServer) -> None:
    assert server.port > 0
    assert server.url == f"http://localhost:{server.port}/"


def test_a_port_in_use_is_an_io_failure(server: MetricsServer, hub: MetricsHub) -> None:
    with pytest.raises(IOFailureError, match="cannot listen"):
        MetricsServer(hub, host="127.0.0.1", port=server.port)


# -- Prometheus ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scrape(server: MetricsServer) -> dict[str, list[Sample]]:
    reply = fetch(server, "/metrics")
    assert reply.status == 200
    return samples_of(reply.body.decode())


def test_metrics_holds_the_documented_families(scrape: dict[str, list[Sample]]) -> None:
    expected = {
        "adhash_operations",
        "adhash_misses",
        "adhash_migrations",
        "adhash_compactions",
        "adhash_alerts_fired",
        "adhash_runs",
        "adhash_backend_info",
        "adhash_map_entries",
        "adhash_map_capacity",
        "adhash_load_factor",
        "adhash_flood_keys",
        "adhash_alert_active",
        "adhash_operation_latency_seconds",
    }
    assert expected <= set(scrape)


def test_metrics_family_types_are_counter_gauge_and_histogram(server: MetricsServer) -> None:
    text = fetch(server, "/metrics").body.decode()
    types = {family.name: family.type for family in text_string_to_metric_families(text)}
    assert types["adhash_operations"] == "counter"
    assert types["adhash_migrations"] == "counter"
    assert types["adhash_load_factor"] == "gauge"
    assert types["adhash_operation_latency_seconds"] == "histogram"


def test_the_operations_counter_has_one_sample_per_op_equal_to_the_hub(
    scrape: dict[str, list[Sample]], hub: MetricsHub
) -> None:
    counters = hub.snapshot()[1]
    values = {s.labels["op"]: s.value for s in scrape["adhash_operations"]}
    assert values == {op: float(n) for op, n in counters.ops_by_type.items()}
    assert {s.name for s in scrape["adhash_operations"]} == {"adhash_operations_total"}


def test_the_misses_counter_equals_the_hub(
    scrape: dict[str, list[Sample]], hub: MetricsHub
) -> None:
    values = {s.labels["op"]: s.value for s in scrape["adhash_misses"]}
    assert values == {op: float(n) for op, n in hub.snapshot()[1].misses.items()}


def test_the_migrations_and_runs_counters_equal_the_hub(
    scrape: dict[str, list[Sample]], hub: MetricsHub
) -> None:
    counters = hub.snapshot()[1]
    assert scrape["adhash_migrations"][0].value == counters.migrations
    assert scrape["adhash_runs"][0].value == counters.runs == 2


def test_the_load_factor_gauge_is_the_latest_ticks(
    scrape: dict[str, list[Sample]], hub: MetricsHub
) -> None:
    latest = hub.ticks()[-1]
    assert scrape["adhash_load_factor"][0].value == pytest.approx(latest.map.load_factor)
    assert scrape["adhash_map_entries"][0].value == latest.map.size


def test_the_backend_info_names_the_latest_backend_and_run(
    scrape: dict[str, list[Sample]], hub: MetricsHub
) -> None:
    latest, _, state, run_id = hub.snapshot()
    assert latest is not None
    (sample,) = scrape["adhash_backend_info"]
    assert sample.value == 1.0
    assert sample.labels["backend"] == latest.backend
    assert sample.labels["hashing"] == latest.map.hashing == "plain"
    assert (sample.labels["run_id"], sample.labels["state"]) == (run_id, state)


def _buckets(scrape: dict[str, list[Sample]]) -> list[tuple[str, float]]:
    return [
        (s.labels["le"], s.value)
        for s in scrape["adhash_operation_latency_seconds"]
        if s.name.endswith("_bucket")
    ]


def test_the_latency_histogram_inf_bucket_equals_the_samples_of_both_runs(
    scrape: dict[str, list[Sample]], hub: MetricsHub
) -> None:
    buckets = _buckets(scrape)
    assert buckets[-1][0] == "+Inf"
    counters = hub.snapshot()[1]
    assert buckets[-1][1] == counters.latency_samples
    count = next(
        s.value for s in scrape["adhash_operation_latency_seconds"] if s.name.endswith("_count")
    )
    assert count == counters.latency_samples


def test_the_latency_histogram_buckets_are_non_decreasing(
    scrape: dict[str, list[Sample]],
) -> None:
    buckets = _buckets(scrape)
    assert [float(le) for le, _ in buckets[:-1]] == list(LATENCY_BUCKETS_SECONDS)
    values = [value for _, value in buckets]
    assert all(a <= b for a, b in itertools.pairwise(values))
    assert values[0] < values[-1]


def test_the_latency_histogram_sum_is_in_seconds(
    scrape: dict[str, list[Sample]], hub: MetricsHub
) -> None:
    total = next(
        s.value for s in scrape["adhash_operation_latency_seconds"] if s.name.endswith("_sum")
    )
    assert total == pytest.approx(hub.snapshot()[1].latency_sum_ns / 1e9)


def test_metrics_of_an_empty_hub_parse_with_zero_counters() -> None:
    with serving(MetricsHub()) as server:
        scrape = samples_of(fetch(server, "/metrics").body.decode())
        assert {s.value for s in scrape["adhash_operations"]} == {0.0}
        assert _buckets(scrape)[-1] == ("+Inf", 0.0)
        assert "adhash_load_factor" not in scrape


# -- HEAD, unknown paths and methods -------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/metrics", "/metrics", "/api/metrics/history.csv", "/"])
def test_head_returns_the_headers_of_get_and_no_body(server: MetricsServer, path: str) -> None:
    raw = raw_exchange(
        server, f"HEAD {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    )
    status_line, headers, body = split_response(raw)
    assert status_line == "HTTP/1.1 200 OK"
    assert body == b""
    get = fetch(server, path)
    assert headers["content-type"] == get.headers["content-type"]
    assert headers["content-length"] == str(len(get.body))


@pytest.mark.parametrize(
    "path", ["/nope", "/api", "/api/metrics/", "/API/METRICS", "/static/other.js", "/metrics/x"]
)
def test_an_unknown_path_is_404_json(server: MetricsServer, path: str) -> None:
    reply = fetch(server, path)
    assert reply.status == 404
    assert reply.headers["content-type"] == "application/json"
    document = reply.json()
    assert (document["schema"], document["error"], document["status"]) == (
        "adhash.error.v1",
        "not_found",
        404,
    )


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"])
def test_other_methods_are_405_json_with_allow(server: MetricsServer, method: str) -> None:
    reply = fetch(server, "/api/metrics", method=method)
    assert reply.status == 405
    assert reply.headers["allow"] == "GET, HEAD"
    assert reply.json()["error"] == "method_not_allowed"


def test_a_post_body_answered_405_does_not_leak_into_the_next_request(
    server: MetricsServer,
) -> None:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=TIMEOUT)
    try:
        conn.request("POST", "/api/metrics", body=b"field=value")
        assert read_reply(conn.getresponse()).status == 405
        # Either the server closed that connection (http.client then opens a new one) or it
        # skipped the body: the next request on it must be answered as itself.
        conn.request("GET", "/healthz")
        reply = read_reply(conn.getresponse())
    finally:
        conn.close()
    assert reply.status == 200, reply.body
    assert reply.json()["schema"] == "adhash.health.v1"


def test_a_get_with_a_body_is_413(server: MetricsServer) -> None:
    reply = fetch(server, "/api/metrics", body=b"unexpected")
    assert reply.status == 413
    assert reply.json()["error"] == "payload_too_large"
    assert reply.headers["connection"] == "close"


def test_a_chunked_get_is_413(server: MetricsServer) -> None:
    raw = raw_exchange(
        server,
        b"GET /api/metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n0\r\n\r\n",
    )
    status_line, _, body = split_response(raw)
    assert status_line.startswith("HTTP/1.1 413 ")
    assert orjson.loads(body)["error"] == "payload_too_large"


@pytest.mark.parametrize("length", ["-5", "abc", "1e3", "٣"])
def test_a_content_length_that_is_not_a_count_is_400(server: MetricsServer, length: str) -> None:
    raw = raw_exchange(
        server,
        f"GET /api/metrics HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode(),
    )
    status_line, headers, body = split_response(raw)
    assert status_line.startswith("HTTP/1.1 400 ")
    assert orjson.loads(body)["error"] == "bad_request"
    assert "Content-Length must be a non-negative integer" in orjson.loads(body)["detail"]
    assert headers["connection"] == "close"


def test_a_token_in_the_address_of_a_server_without_one_is_ignored(server: MetricsServer) -> None:
    reply = fetch(server, "/api/metrics?token=anything")
    assert reply.status == 200, reply.body
    assert "set-cookie" not in reply.headers


def test_responses_are_sent_without_nagle_delay(server: MetricsServer) -> None:
    # Headers and body are two writes; with Nagle on, the second waits for a delayed ACK
    # (~40 ms) on a keep-alive connection. Ten requests stay well under that per request.
    conn = http.client.HTTPConnection(server.host, server.port, timeout=TIMEOUT)
    try:
        conn.request("GET", "/healthz")
        read_reply(conn.getresponse())
        started = time.perf_counter()
        for _ in range(10):
            conn.request("GET", "/healthz")
            assert read_reply(conn.getresponse()).status == 200
        assert (time.perf_counter() - started) / 10 < 0.03
    finally:
        conn.close()


def test_a_target_over_2048_bytes_is_414(server: MetricsServer) -> None:
    reply = fetch(server, "/" + "a" * 2048)
    assert reply.status == 414
    assert reply.json()["error"] == "uri_too_long"


def test_a_target_of_2048_bytes_is_not_414(server: MetricsServer) -> None:
    assert fetch(server, "/" + "a" * 2047).status == 404


@pytest.mark.parametrize(
    "target",
    [
        "/api/metrics?foo=1",
        "/api/metrics?limit=5",
        "/api/metrics/history?since=1",
        "/api/metrics/heatmap?x",
        "/api/events?limit=1&extra=2",
    ],
)
def test_an_unknown_query_parameter_is_400(server: MetricsServer, target: str) -> None:
    reply = fetch(server, target)
    assert reply.status == 400
    assert reply.json()["error"] == "bad_request"
    assert "unknown query parameter" in reply.json()["detail"]


@pytest.mark.parametrize("value", ["0", "-1", "abc", "", "1.5", "1000001", "9" * 30])
@pytest.mark.parametrize(
    "path", ["/api/metrics/history", "/api/metrics/history.csv", "/api/events"]
)
def test_a_bad_limit_is_400(server: MetricsServer, path: str, value: str) -> None:
    reply = fetch(server, f"{path}?limit={value}")
    assert reply.status == 400
    assert reply.json()["error"] == "bad_request"


@pytest.mark.parametrize("value", ["abc", "-2", "9" * 30])
def test_a_bad_since_is_400(server: MetricsServer, value: str) -> None:
    assert fetch(server, f"/api/events?since={value}").status == 400


def test_more_than_8_query_fields_is_400(server: MetricsServer) -> None:
    reply = fetch(server, "/api/events?" + "&".join(["limit=1"] * 9))
    assert reply.status == 400
    assert "more than 8" in reply.json()["detail"]


def test_8_query_fields_are_accepted(server: MetricsServer) -> None:
    assert fetch(server, "/api/events?" + "&".join(["limit=1"] * 8)).status == 200


GARBAGE = [
    b"GARBAGE\r\n\r\n",
    b"GET /api/metrics HTTP/1.1 extra\r\n\r\n",
    b"GET /api/metrics HTTX/1.1\r\n\r\n",
    b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n",
]


@pytest.mark.parametrize("data", GARBAGE, ids=["one-word", "four-words", "bad-version", "tls"])
def test_a_garbage_request_line_gets_a_400_json_response_or_a_closed_connection(
    server: MetricsServer, data: bytes
) -> None:
    raw = raw_exchange(server, data)
    if raw:
        status_line, headers, body = split_response(raw)
        assert status_line.startswith("HTTP/1.1 400 "), raw[:200]
        assert headers["content-type"] == "application/json"
        assert orjson.loads(body)["error"] == "bad_request"


def test_every_payload_schema_name_means_one_shape() -> None:
    # A schema name names one JSON shape: the API's payloads share none with the files.
    schemas = Path(__file__).resolve().parents[2] / "docs" / "schemas"
    published = {path.name.removesuffix(".json") for path in schemas.glob("*.json")}
    names = list(PAYLOAD_SCHEMAS.values())
    assert len(set(names)) == len(names)
    assert set(names).isdisjoint(published | {HISTOGRAM_SCHEMA})


def test_an_unsupported_http_version_gets_a_505_json_response(server: MetricsServer) -> None:
    status_line, headers, body = split_response(
        raw_exchange(server, b"GET /api/metrics HTTP/2.0\r\nHost: x\r\n\r\n")
    )
    assert status_line.startswith("HTTP/1.1 505 ")
    assert headers["content-type"] == "application/json"
    assert orjson.loads(body)["error"] == "http_version_not_supported"


def test_garbage_requests_print_no_traceback(
    server: MetricsServer, capfd: pytest.CaptureFixture[str]
) -> None:
    for data in GARBAGE:
        raw_exchange(server, data)
    assert fetch(server, "/healthz").status == 200
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize(("method", "path"), [*(("GET", p) for p in ALL_PATHS), *ERROR_REQUESTS])
def test_no_response_has_cors_headers(server: MetricsServer, method: str, path: str) -> None:
    reply = fetch(server, path, method=method, headers={"Origin": "http://evil.example"})
    assert not [name for name in reply.headers if name.startswith("access-control-")]


@pytest.mark.parametrize(("method", "path"), [*(("GET", p) for p in ALL_PATHS), *ERROR_REQUESTS])
def test_every_response_is_cache_control_no_store(
    server: MetricsServer, method: str, path: str
) -> None:
    assert fetch(server, path, method=method).headers["cache-control"] == "no-store"


# -- auth ----------------------------------------------------------------------------------------


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def session_cookie(server: MetricsServer) -> str:
    """The cookie value a ``?token=`` bootstrap sets."""
    reply = fetch(server, f"/?token={TOKEN}")
    match = re.match(rf"{SESSION_COOKIE}=([^;]*)", reply.headers["set-cookie"])
    assert match is not None
    return match.group(1)


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_checks_need_no_token(token_server: MetricsServer, path: str) -> None:
    assert fetch(token_server, path).status == 200


@pytest.mark.parametrize("path", PROTECTED)
def test_api_without_credentials_is_401_json_with_www_authenticate(
    token_server: MetricsServer, path: str
) -> None:
    reply = fetch(token_server, path)
    assert reply.status == 401
    assert reply.headers["www-authenticate"].startswith("Bearer")
    assert reply.json()["error"] == "unauthorized"


@pytest.mark.parametrize("path", PROTECTED)
def test_api_with_the_bearer_token_is_200(token_server: MetricsServer, path: str) -> None:
    assert fetch(token_server, path, headers=bearer()).status == 200


@pytest.mark.parametrize(
    "authorization",
    [f"Bearer {TOKEN}x", "Bearer wrong", "Bearer ", f"Basic {TOKEN}", TOKEN, f"Bearer{TOKEN}"],
)
def test_api_with_a_wrong_authorization_is_401(
    token_server: MetricsServer, authorization: str
) -> None:
    reply = fetch(token_server, "/api/metrics", headers={"Authorization": authorization})
    assert reply.status == 401


def test_the_token_bootstrap_redirects_without_the_token(token_server: MetricsServer) -> None:
    reply = fetch(token_server, f"/?token={TOKEN}")
    assert reply.status == 303
    assert reply.headers["location"] == "/"
    assert TOKEN not in reply.headers["location"]


def test_the_token_bootstrap_keeps_the_other_query_parameters(
    token_server: MetricsServer,
) -> None:
    reply = fetch(token_server, f"/api/events?limit=3&token={TOKEN}")
    assert reply.status == 303
    assert reply.headers["location"] == "/api/events?limit=3"


def test_the_bootstrap_cookie_is_httponly_strict_and_not_the_token(
    token_server: MetricsServer,
) -> None:
    cookie = fetch(token_server, f"/?token={TOKEN}").headers["set-cookie"]
    attributes = [part.strip() for part in cookie.split(";")]
    name, _, value = attributes[0].partition("=")
    assert name == SESSION_COOKIE
    assert "HttpOnly" in attributes
    assert "SameSite=Strict" in attributes
    assert value
    assert TOKEN not in value


@pytest.mark.parametrize("path", PROTECTED)
def test_the_bootstrap_cookie_authorizes_the_api(token_server: MetricsServer, path: str) -> None:
    cookie = session_cookie(token_server)
    reply = fetch(token_server, path, headers={"Cookie": f"other=1; {SESSION_COOKIE}={cookie}"})
    assert reply.status == 200


@pytest.mark.parametrize("value", ["", "wrong", TOKEN])
def test_a_wrong_session_cookie_is_401(token_server: MetricsServer, value: str) -> None:
    reply = fetch(token_server, "/api/metrics", headers={"Cookie": f"{SESSION_COOKIE}={value}"})
    assert reply.status == 401


def test_a_wrong_token_in_the_address_is_401(token_server: MetricsServer) -> None:
    reply = fetch(token_server, "/api/metrics?token=wrong")
    assert reply.status == 401
    assert "set-cookie" not in reply.headers


@pytest.mark.parametrize("path", STATIC)
def test_the_dashboard_and_static_files_need_no_token(
    token_server: MetricsServer, path: str
) -> None:
    reply = fetch(token_server, path)
    assert reply.status == 200
    assert TOKEN.encode() not in reply.body


def _every_reply_of_the_token_server(server: MetricsServer) -> list[tuple[str, Reply]]:
    cookie = {"Cookie": f"{SESSION_COOKIE}={session_cookie(server)}"}
    credentials: list[dict[str, str]] = [{}, bearer(), bearer("wrong"), cookie]
    replies = [
        (f"{path} {sorted(headers)}", fetch(server, path, headers=headers))
        for path in ALL_PATHS
        for headers in credentials
    ]
    bootstraps = ["/", "/api/metrics", "/api/events?limit=2", "/nope", "/metrics"]
    replies += [(f"{p}?token", fetch(server, f"{p}?token={TOKEN}")) for p in bootstraps]
    replies += [
        (f"{m} {p}", fetch(server, p, method=m, headers=bearer())) for m, p in ERROR_REQUESTS
    ]
    replies += [("HEAD /", fetch(server, "/api/metrics", method="HEAD", headers=bearer()))]
    return replies


def test_the_token_appears_in_no_response_body_or_header(token_server: MetricsServer) -> None:
    replies = _every_reply_of_the_token_server(token_server)
    assert len(replies) > 60
    leaks = [
        label
        for label, reply in replies
        if TOKEN.encode() in reply.body
        or any(TOKEN in name or TOKEN in value for name, value in reply.header_list)
    ]
    assert leaks == []


@pytest.mark.parametrize("name", ["token", "tok%65n", "%74oken"])
def test_the_token_is_never_written_to_a_log_line(
    token_server: MetricsServer, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    with caplog.at_level(logging.DEBUG, logger="adhash.server"):
        reply = fetch(token_server, f"/?{name}={TOKEN}")
        # The request is logged by the handler thread after the response is sent.
        wait_until(lambda: any("GET /?" in r.getMessage() for r in caplog.records))
    assert reply.status == 303
    assert [r.getMessage() for r in caplog.records if "GET /?" in r.getMessage()]
    assert [r.getMessage() for r in caplog.records if TOKEN in r.getMessage()] == []


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("localhost", True),
        ("LocalHost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("example.com", False),
        ("", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_without_a_token_the_api_needs_no_credentials(server: MetricsServer) -> None:
    assert server.authorized(None, None)
    assert fetch(server, "/api/metrics").status == 200


# -- concurrency during a live run ---------------------------------------------------------------

LIVE_CLIENTS = 32
LIVE_REQUESTS_PER_CLIENT = 12
LIVE_PATHS = [p for p in ALL_PATHS if p != "/api/compare"]


@dataclass(frozen=True)
class LiveRun:
    """What the clients got while a replay fed the hub, and what the run wrote."""

    replies: list[tuple[str, Reply]]
    history: dict[str, Any]
    file_ticks: list[MetricsTick]
    summary: RunSummary


def _client(server: MetricsServer, number: int) -> list[tuple[str, Reply]]:
    replies: list[tuple[str, Reply]] = []
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        for index in range(LIVE_REQUESTS_PER_CLIENT):
            path = LIVE_PATHS[(number + index) % len(LIVE_PATHS)]
            try:
                conn.request("GET", path)
                replies.append((path, read_reply(conn.getresponse())))
            except (OSError, http.client.HTTPException) as error:
                conn.close()
                replies.append((path, Reply(0, {}, [], repr(error).encode())))
    finally:
        conn.close()
    return replies


@pytest.fixture(scope="module")
def live_run(tmp_path_factory: pytest.TempPathFactory) -> LiveRun:
    folder = tmp_path_factory.mktemp("live")
    workload = folder / "w.csv"
    generate(GeneratorSpec(ops=300_000, seed=3), workload)
    hub = MetricsHub(history_limit=100_000)
    sink = NDJSONSink(folder / "metrics.ndjson")
    outcome: list[RunSummary] = []

    def run() -> None:
        summary, _ = replay(workload, ReplayOptions(tick_interval=0.05), sinks=[hub, sink])
        outcome.append(summary)

    with serving(hub) as server:
        runner = threading.Thread(target=run, daemon=True)
        runner.start()
        hub.wait_for(0, timeout=30)  # the run has started: its first record is in
        with ThreadPoolExecutor(LIVE_CLIENTS) as pool:
            batches = list(pool.map(lambda n: _client(server, n), range(LIVE_CLIENTS)))
        runner.join(timeout=120)
        history = fetch(server, "/api/metrics/history").json()
    sink.close()
    assert outcome, "the replay did not finish"
    records = [parse_record(line) for line in sink.path.read_bytes().splitlines()]
    return LiveRun(
        replies=[reply for batch in batches for reply in batch],
        history=history,
        file_ticks=[r for r in records if isinstance(r, MetricsTick)],
        summary=outcome[0],
    )


def test_concurrent_clients_during_a_run_all_get_200(live_run: LiveRun) -> None:
    assert len(live_run.replies) == LIVE_CLIENTS * LIVE_REQUESTS_PER_CLIENT
    failed = [(path, r.status, r.body[:200]) for path, r in live_run.replies if r.status != 200]
    assert failed == []


def test_concurrent_clients_during_a_run_get_valid_payloads(live_run: LiveRun) -> None:
    for path, reply in live_run.replies:
        assert reply.headers.get("content-type") == CONTENT_TYPES[path], path
        if path in JSON_SCHEMAS:
            assert reply.json()["schema"] == JSON_SCHEMAS[path], path
        elif path == "/metrics":
            assert "adhash_operations" in samples_of(reply.body.decode())
        elif path == "/api/metrics/history.csv":
            assert reply.body.startswith(b"run_id,seq,"), path
        else:
            assert reply.body, path


def test_concurrent_clients_were_answered_while_the_run_was_going(live_run: LiveRun) -> None:
    seen = [r.json()["totals"]["ops"] for p, r in live_run.replies if p == "/api/metrics"]
    assert seen
    assert min(seen) < live_run.summary.total_ops


def test_the_history_after_a_live_run_holds_exactly_the_files_ticks(live_run: LiveRun) -> None:
    items = live_run.history["items"]
    assert [item["seq"] for item in items] == [t.seq for t in live_run.file_ticks]
    assert [MetricsTick.model_validate(item) for item in items] == live_run.file_ticks
    assert len(items) == live_run.summary.ticks


def test_the_history_total_ticks_after_a_live_run_match_the_file(live_run: LiveRun) -> None:
    assert live_run.history["total_ticks"] == len(live_run.file_ticks) == live_run.summary.ticks
    assert live_run.history["held"] == len(live_run.file_ticks)


# -- slow, stuck and vanishing clients -----------------------------------------------------------


def _stalled(server: MetricsServer, count: int) -> list[socket.socket]:
    """Sockets that sent half a request line and then nothing."""
    sockets = []
    for _ in range(count):
        sock = connect(server)
        sock.sendall(b"GET /api/metr")
        sockets.append(sock)
    return sockets


def test_stalled_clients_do_not_delay_another_client(
    quick_timeout_server: MetricsServer,
) -> None:
    stalled = _stalled(quick_timeout_server, 20)
    try:
        started = time.monotonic()
        reply = fetch(quick_timeout_server, "/api/metrics")
        elapsed = time.monotonic() - started
    finally:
        for sock in stalled:
            sock.close()
    assert reply.status == 200
    assert elapsed < 2.0


def test_a_stalled_client_is_disconnected_after_the_request_timeout(
    quick_timeout_server: MetricsServer,
) -> None:
    (sock,) = _stalled(quick_timeout_server, 1)
    with sock:
        started = time.monotonic()
        remainder = read_all(sock)
        elapsed = time.monotonic() - started
    assert not remainder.startswith(b"HTTP/1.1 200")
    assert 0.5 < elapsed < 3.0


def _abort(sock: socket.socket) -> None:
    """Close with a reset, as a client that vanishes does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_clients_vanishing_mid_response_do_not_hurt_the_next_request(
    big_history_server: MetricsServer, capfd: pytest.CaptureFixture[str]
) -> None:
    for round_ in range(30):
        sock = connect(big_history_server)
        sock.sendall(b"GET /api/metrics/history HTTP/1.1\r\nHost: x\r\n\r\n")
        if round_ % 2:
            sock.recv(4096)  # read a little of the answer first
        _abort(sock)
    reply = fetch(big_history_server, "/api/metrics/history?limit=1")
    assert reply.status == 200
    assert len(reply.json()["items"]) == 1
    assert fetch(big_history_server, "/api/metrics/history").json()["held"] == 2_000
    assert "Traceback" not in capfd.readouterr().err


@pytest.fixture
def full_server(hub: MetricsHub) -> Iterator[tuple[MetricsServer, float]]:
    """A server with max_connections=4 whose 4 slots are held by stalled clients.

    Also gives the time the stalled clients connected.
    """
    with serving(hub, request_timeout=1.0, max_connections=4) as started:
        stalled = _stalled(started, 4)
        connected_at = time.monotonic()
        try:
            yield started, connected_at
        finally:
            for sock in stalled:
                sock.close()


def test_over_max_connections_a_client_gets_503_at_once(
    full_server: tuple[MetricsServer, float],
) -> None:
    server, connected_at = full_server
    busy = fetch(server, "/healthz")
    assert busy.status == 503
    assert time.monotonic() - connected_at < 0.9  # before the stalled clients time out
    assert busy.json()["error"] == "busy"
    assert busy.headers["retry-after"] == "1"
    # The same error body as every other error: schema, time, status, name, detail.
    assert set(busy.json()) == {"schema", "generated_at", "error", "status", "detail"}
    assert busy.json()["status"] == 503


def test_over_max_connections_requests_succeed_again_after_the_stalled_time_out(
    full_server: tuple[MetricsServer, float],
) -> None:
    server, connected_at = full_server
    assert wait_until(lambda: _status(server, "/healthz") == 200, timeout=5.0)
    assert time.monotonic() - connected_at > 0.9


def _status(server: MetricsServer, path: str) -> int:
    with contextlib.suppress(OSError, http.client.HTTPException):
        return fetch(server, path, timeout=2.0).status
    return 0
