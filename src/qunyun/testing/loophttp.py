"""A minimal HTTP/1.1 server on loopback for the project's fakes and webhook receivers.

Why not starlette + uvicorn (both installed): a fake that the broadcast benchmark
drives at thousands of requests a second should spend its time in the fake, not in
routing and ASGI plumbing; it must also be able to *hang* a request or drop a
connection on purpose, and start in milliseconds. This is plain asyncio streams:
keep-alive, ``Content-Length`` bodies (what httpx and aiohttp send), nothing else.

:func:`serve` runs in the caller's event loop; :class:`ThreadedServer` runs its own
loop in a daemon thread, so synchronous test code can start a fake and the code
under test, in the test's loop, talks to it over real sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    path: str  # without the query string
    query: str
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[HttpRequest], Awaitable[HttpResponse]]

_MAX_BODY = 64 * 1024 * 1024


class _BadRequest(Exception):
    pass


async def _read_request(reader: asyncio.StreamReader) -> HttpRequest | None:
    line = await reader.readline()
    if not line:
        return None
    try:
        method, target, _version = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    except ValueError:
        raise _BadRequest("malformed request line") from None
    headers: dict[str, str] = {}
    while True:
        raw = await reader.readline()
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise _BadRequest("chunked request bodies are not supported; send Content-Length")
    try:
        length = int(headers.get("content-length", "0"))
    except ValueError:
        raise _BadRequest("bad Content-Length") from None
    if length < 0 or length > _MAX_BODY:
        raise _BadRequest("body too large")
    body = await reader.readexactly(length) if length else b""
    parts = urlsplit(target)
    return HttpRequest(method.upper(), parts.path, parts.query, headers, body)


def _encode(resp: HttpResponse, keep_alive: bool) -> bytes:
    try:
        reason = HTTPStatus(resp.status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [
        f"HTTP/1.1 {resp.status} {reason}",
        f"Content-Type: {resp.content_type}",
        f"Content-Length: {len(resp.body)}",
        "Connection: keep-alive" if keep_alive else "Connection: close",
    ]
    lines.extend(f"{k}: {v}" for k, v in resp.headers.items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + resp.body


async def _connection(
    handler: Handler, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        while True:
            try:
                request = await _read_request(reader)
            except _BadRequest as exc:
                writer.write(_encode(HttpResponse(400, str(exc).encode(), "text/plain"), False))
                await writer.drain()
                return
            if request is None:
                return
            response = await handler(request)
            keep = request.headers.get("connection", "").lower() != "close"
            writer.write(_encode(response, keep))
            await writer.drain()
            if not keep:
                return
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def serve(handler: Handler, host: str = "127.0.0.1", port: int = 0) -> asyncio.Server:
    """Start serving ``handler`` in the running loop; ``server.sockets[0]`` has the port."""

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A connection task ends normally even when shut down: asyncio's stream callback
        # would otherwise log the CancelledError of every open keep-alive connection.
        with contextlib.suppress(asyncio.CancelledError):
            await _connection(handler, reader, writer)

    return await asyncio.start_server(on_client, host, port, backlog=1024)


def server_url(server: asyncio.Server) -> str:
    host, port = server.sockets[0].getsockname()[:2]
    return f"http://{host}:{port}"


class ThreadedServer:
    """``handler`` served from an event loop of its own, in a daemon thread."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 0) -> None:
        self._handler = handler
        self._host = host
        self._port = port
        self.loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> str:
        ready = threading.Event()
        failure: list[BaseException] = []

        def main() -> None:
            loop = asyncio.new_event_loop()
            self.loop = loop
            try:
                self._server = loop.run_until_complete(
                    serve(self._handler, self._host, self._port)
                )
                self.url = server_url(self._server)
            except BaseException as exc:  # reported to start()'s caller
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.close()

        self._thread = threading.Thread(target=main, name="loophttp", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self.url

    def call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run ``coro`` in the server's loop and wait for its result (from another thread)."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def stop(self) -> None:
        loop, server = self.loop, self._server
        if loop is None or server is None or self._thread is None:
            return

        async def shutdown() -> None:
            server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(RuntimeError):
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(timeout=5)
        self.loop = None
        self._server = None
