"""The metrics HTTP server: JSON and Prometheus endpoints over a hub, and the browser dashboard.

A threaded stdlib server: each connection has its own thread (up to ``max_connections``, 256 by
default, as each browser keeps several open; more get 503 at once), and every socket read has a
timeout, so a slow, stuck or vanished client holds only its own thread. Request lines, headers
and query strings are bounded; requests with a body, unknown paths and methods get JSON errors.
Payloads come from the hub, prepared once per tick.

With a token, every endpoint but ``/healthz`` and ``/readyz`` (and the dashboard's static files,
which hold no data) needs ``Authorization: Bearer <token>`` or the session cookie that
``?token=<token>`` sets: that bootstrap answers with a redirect to the same URL without the token
and an HttpOnly cookie holding a value derived from the token, never the token itself. Tokens are
compared in constant time and never written to a page, a log line or a payload. No CORS headers
are sent: the dashboard is served from the same origin.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import logging
import re
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any, Final
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit

import orjson

from adhash.errors import IOFailureError
from adhash.metrics.hub import PAYLOAD_SCHEMAS, MetricsHub

__all__ = ["SESSION_COOKIE", "MetricsServer", "is_loopback"]

SESSION_COOKIE: Final = "adhash_session"
_MAX_TARGET = 2048
_MAX_QUERY_FIELDS = 8
_LOG = logging.getLogger("adhash.server")
_TOKEN_IN_TEXT = re.compile(r"(token=)[^&\s]*")

_STATIC: Final = {
    "/": ("dashboard.html", "text/html; charset=utf-8"),
    "/index.html": ("dashboard.html", "text/html; charset=utf-8"),
    "/static/dashboard.js": ("dashboard.js", "text/javascript; charset=utf-8"),
    "/static/dashboard.css": ("dashboard.css", "text/css; charset=utf-8"),
}
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# Each API path: the hub payload it serves, its content type, and the query parameters it takes.
_API: Final = {
    "/api/metrics": ("summary", "application/json", ()),
    "/api/metrics/history": ("history", "application/json", ("limit", "view")),
    "/api/metrics/history.csv": ("history.csv", "text/csv; charset=utf-8", ("limit",)),
    "/api/metrics/histogram/latency": ("latency", "application/json", ()),
    "/api/metrics/histogram/probe": ("probe", "application/json", ()),
    "/api/metrics/heatmap": ("heatmap", "application/json", ()),
    "/api/events": ("events", "application/json", ("limit", "since")),
    "/api/compare": ("compare", "application/json", ()),
    "/api/dashboard": ("dashboard", "application/json", ("limit", "since")),
}


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class MetricsServer:
    """Serves a :class:`MetricsHub` over HTTP on a background thread.

    ``port=0`` picks a free port (read it back from :attr:`port`). Use as a context manager, or
    call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        hub: MetricsHub,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        request_timeout: float = 10.0,
        max_connections: int = 256,
    ) -> None:
        self.hub = hub
        self.token = token or None
        self._session = (
            hmac.new(self.token.encode(), b"adhash-dashboard-session", hashlib.sha256).hexdigest()
            if self.token
            else None
        )
        self._static = {path: (_read_static(name), kind) for path, (name, kind) in _STATIC.items()}
        try:
            self._httpd = _HTTPServer((host, port), _Handler, max_connections)
        except OSError as error:
            raise IOFailureError(
                f"cannot listen on {host}:{port}: {error.strerror or error}",
                hint="choose another --port (0 picks a free one)",
            ) from None
        self._httpd.app = self
        self._httpd.request_timeout = request_timeout
        self._thread: threading.Thread | None = None
        self.started_at = time.time()

    @property
    def host(self) -> str:
        """The address the server listens on."""
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        """The port the server listens on (the real one when 0 was asked)."""
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The dashboard's address (``localhost`` for a loopback bind)."""
        host = "localhost" if is_loopback(self.host) else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/"

    def start(self) -> MetricsServer:
        """Start serving on a daemon thread; returns self."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="adhash-metrics-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, close the socket and wait for the serving thread."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> MetricsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def authorized(self, header: str | None, cookie: str | None) -> bool:
        """Whether a request's Authorization header or session cookie carries the token."""
        if self.token is None:
            return True
        scheme, _, credentials = (header or "").strip().partition(" ")
        if scheme.lower() == "bearer":
            return _same(credentials.strip(), self.token)
        return cookie is not None and self._session is not None and _same(cookie, self._session)

    def token_matches(self, given: str) -> bool:
        """Whether ``given`` is the token (constant time)."""
        return self.token is not None and _same(given, self.token)

    @property
    def session_value(self) -> str:
        """The cookie value a valid ``?token=`` bootstrap sets."""
        return self._session or ""


def _same(given: str, expected: str) -> bool:
    # Compare digests so neither the content nor the length of the token leaks through timing.
    return hmac.compare_digest(
        hashlib.sha256(given.encode("utf-8", "surrogateescape")).digest(),
        hashlib.sha256(expected.encode()).digest(),
    )


def _read_static(name: str) -> bytes:
    return (resources.files("adhash.metrics") / "static" / name).read_bytes()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        max_connections: int,
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, handler)
        self.app: MetricsServer
        self.request_timeout = 10.0
        self._slots = threading.BoundedSemaphore(max_connections)
        self._open: set[Any] = set()
        self._open_lock = threading.Lock()

    def close_connections(self) -> None:
        """End every open connection (kept-alive ones too), so a stopped server is gone."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            # Every connection slot is taken: answer at once instead of queueing behind them.
            with contextlib.suppress(OSError):
                request.sendall(_plain_response(HTTPStatus.SERVICE_UNAVAILABLE, "busy"))
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._open_lock:
                self._open.discard(request)
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that vanished mid-response is not the server's error; never print a traceback.
        _LOG.debug("connection from %s ended with an error", client_address, exc_info=True)


def _plain_response(status: HTTPStatus, error: str) -> bytes:
    body = orjson.dumps(
        {
            "schema": PAYLOAD_SCHEMAS["error"],
            "generated_at": time.time(),
            "error": error,
            "status": status.value,
            "detail": status.phrase,
        }
    )
    head = (
        f"HTTP/1.1 {status.value} {status.phrase}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\nRetry-After: 1\r\n\r\n"
    )
    return head.encode() + body


_ERROR_NAMES: Final = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    408: "timeout",
    413: "payload_too_large",
    414: "uri_too_long",
    431: "headers_too_large",
    503: "busy",
    505: "http_version_not_supported",
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY the body waits for the
    # client's delayed ACK (about 40 ms on Linux) on every keep-alive response.
    disable_nagle_algorithm = True
    server_version = "adhash"
    sys_version = ""
    server: _HTTPServer

    def version_string(self) -> str:
        return "adhash"

    def setup(self) -> None:
        # StreamRequestHandler applies self.timeout to the socket: every read is bounded.
        self.timeout = self.server.request_timeout  # type: ignore[misc]
        super().setup()

    # -- dispatch ------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch(send_body=True)

    def do_HEAD(self) -> None:
        self._dispatch(send_body=False)

    def _dispatch(self, *, send_body: bool) -> None:
        self._send_body = send_body
        length = _content_length(self.headers)
        if length is None:
            self.close_connection = True
            self._error(HTTPStatus.BAD_REQUEST, "Content-Length must be a non-negative integer")
            return
        if self.headers.get("Transfer-Encoding") or length != 0:
            self.close_connection = True
            self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "GET and HEAD requests take no body")
            return
        if len(self.path) > _MAX_TARGET:
            self.close_connection = True
            self._error(HTTPStatus.REQUEST_URI_TOO_LONG, f"request target over {_MAX_TARGET} bytes")
            return
        target = urlsplit(self.path)
        path = target.path
        try:
            query = parse_qs(
                target.query,
                keep_blank_values=True,
                strict_parsing=False,
                max_num_fields=_MAX_QUERY_FIELDS,
            )
        except ValueError:
            self._error(HTTPStatus.BAD_REQUEST, f"more than {_MAX_QUERY_FIELDS} query parameters")
            return
        app = self.server.app
        if path in ("/healthz", "/readyz"):
            self._health(path)
            return
        if "token" in query:
            if app.token is None:
                # A server without a token has nothing to check: the parameter is ignored.
                query.pop("token")
            else:
                self._bootstrap(path, query)
                return
        if path in _STATIC:
            body, kind = app._static[path]
            headers = {"Content-Security-Policy": _CSP} if kind.startswith("text/html") else {}
            self._send(HTTPStatus.OK, body, kind, headers)
            return
        if path not in _API and path != "/metrics":
            self._error(HTTPStatus.NOT_FOUND, f"no such endpoint: {path}")
            return
        if not app.authorized(self.headers.get("Authorization"), self._cookie()):
            self._error(
                HTTPStatus.UNAUTHORIZED,
                "a token is required: send Authorization: Bearer <token>, or open the "
                "dashboard once with ?token=<token>",
                {"WWW-Authenticate": 'Bearer realm="adhash"'},
            )
            return
        if path == "/metrics":
            from adhash.metrics.prometheus import CONTENT_TYPE, render

            self._send(HTTPStatus.OK, render(app.hub), CONTENT_TYPE)
            return
        name, kind, allowed = _API[path]
        unknown = sorted(set(query) - set(allowed))
        if unknown:
            accepted = ", ".join(allowed) or "none"
            self._error(
                HTTPStatus.BAD_REQUEST,
                f"unknown query parameter {unknown[0]!r} (accepted: {accepted})",
            )
            return
        try:
            limit = _int_param(query, "limit", 1, 1_000_000)
            since = _int_param(query, "since", -1, 2**62)
        except ValueError as error:
            self._error(HTTPStatus.BAD_REQUEST, str(error))
            return
        view = query.get("view", ["full"])[-1]
        if view not in ("full", "timeline"):
            self._error(HTTPStatus.BAD_REQUEST, f"view must be full or timeline, got {view!r}")
            return
        if view == "timeline":
            name = "history.timeline"
        try:
            body = app.hub.payload(name, limit=limit, since=since)
        except LookupError as missing:
            self._error(HTTPStatus.NOT_FOUND, str(missing.args[0]))
            return
        headers = {}
        if name == "history.csv":
            headers["Content-Disposition"] = 'attachment; filename="adhash-timeline.csv"'
        self._send(HTTPStatus.OK, body, kind, headers)

    def _health(self, path: str) -> None:
        app = self.server.app
        payload = {
            "schema": PAYLOAD_SCHEMAS["health"],
            "generated_at": time.time(),
            "status": "ok" if path == "/healthz" else "ready",
            "uptime_seconds": round(time.time() - app.started_at, 3),
            "state": app.hub.state,
        }
        self._send(HTTPStatus.OK, orjson.dumps(payload), "application/json")

    def _bootstrap(self, path: str, query: dict[str, list[str]]) -> None:
        app = self.server.app
        given = query.pop("token")[-1]
        if not app.token_matches(given):
            self._error(HTTPStatus.UNAUTHORIZED, "the token in the address is wrong")
            return
        rest = urlencode(query, doseq=True)
        location = path + (f"?{rest}" if rest else "")
        cookie = f"{SESSION_COOKIE}={app.session_value}; HttpOnly; SameSite=Strict; Path=/"
        self._send(
            HTTPStatus.SEE_OTHER,
            b"",
            "text/plain; charset=utf-8",
            {"Location": location, "Set-Cookie": cookie},
        )

    def _cookie(self) -> str | None:
        for header in self.headers.get_all("Cookie") or []:
            for part in header.split(";"):
                name, _, value = part.strip().partition("=")
                if name == SESSION_COOKIE:
                    return value
        return None

    # -- responses -----------------------------------------------------------------------------

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if getattr(self, "_send_body", True) and self.command != "HEAD":
            self.wfile.write(body)

    def _error(
        self, status: HTTPStatus, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        body = orjson.dumps(
            {
                "schema": PAYLOAD_SCHEMAS["error"],
                "generated_at": time.time(),
                "error": _ERROR_NAMES.get(status.value, "error"),
                "status": status.value,
                "detail": detail,
            }
        )
        self._send(status, body, "application/json", headers)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors the stdlib raises itself (bad request line, unknown method) as JSON too."""
        status = HTTPStatus(code)
        headers = {}
        # A request line the stdlib could not parse leaves the version at HTTP/0.9, which
        # would send a body with no status line: answer in HTTP/1.1 and close.
        self.request_version = "HTTP/1.1"
        # The body (if any) of a refused request is never read: the connection cannot be reused.
        self.close_connection = True
        if status is HTTPStatus.NOT_IMPLEMENTED:
            # An unknown method: say which ones exist.
            status = HTTPStatus.METHOD_NOT_ALLOWED
            headers["Allow"] = "GET, HEAD"
            message = f"method {self.command} not allowed; use GET or HEAD"
        self._send_body = True
        try:
            self._error(status, message or status.phrase, headers)
        except OSError:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        if not _LOG.isEnabledFor(logging.DEBUG):
            return  # the access log is debug output: build no line nobody reads
        # Redact after decoding: ?tok%65n= is a token parameter too.
        text = _TOKEN_IN_TEXT.sub(r"\1***", unquote_plus(format % args))
        _LOG.debug("%s %s", self.address_string(), text)

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError):
            self.close_connection = True


def _content_length(headers: Any) -> int | None:
    """The request's Content-Length (0 when absent), or None when it is not a non-negative
    integer."""
    value = headers.get("Content-Length")
    if value is None:
        return 0
    text = value.strip()
    if not text.isdigit() or not text.isascii():
        return None
    return int(text)


def _int_param(query: dict[str, list[str]], name: str, low: int, high: int) -> int | None:
    values = query.get(name)
    if not values:
        return None
    text = values[-1]
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {text!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be from {low} to {high}, got {value}")
    return value
