"""A minimal HTTP/1.1 keep-alive client on asyncio streams, for the load generator.

Why not httpx: the generator shares two cores with the server it measures, and httpx spends
about ten times more CPU per request than this. It speaks just enough HTTP/1.1 for loopback
servers (uvicorn, Sanic): Content-Length or chunked bodies, keep-alive, `Connection: close`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass

__all__ = ["HttpClient", "HttpResponse", "SpreadClient", "TransportError"]


class TransportError(Exception):
    """No HTTP answer: refused, reset, closed early or timed out (``kind`` says which)."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        self.writer.close()


class HttpClient:
    """A pool of keep-alive connections to one loopback host; at most ``max_connections``.

    A request waiting for a free connection is still timed by its caller, so queueing in the
    generator shows up in the latency instead of hiding it.
    """

    def __init__(self, host: str, port: int, *, max_connections: int = 512,
                 timeout_s: float = 30.0) -> None:
        self._host = host
        self._port = port
        self._timeout_s = timeout_s
        self._idle: deque[_Connection] = deque()
        self._slots = asyncio.Semaphore(max_connections)
        self._host_header = f"{host}:{port}".encode()

    async def request(self, method: str, path: str, body: bytes = b"",
                      headers: dict[str, str] | None = None) -> HttpResponse:
        async with self._slots:
            idle = self._idle.pop() if self._idle else None
            if idle is not None:
                try:
                    return await self._use(idle, method, path, body, headers or {})
                except TransportError as exc:
                    if exc.kind != "connection":
                        raise
                    # The server closed this idle connection (uvicorn does after 5 s): the
                    # request never reached it, so one try on a fresh connection is safe.
            return await self._use(await self._connect(), method, path, body, headers or {})

    async def _use(self, conn: _Connection, method: str, path: str, body: bytes,
                   headers: dict[str, str]) -> HttpResponse:
        try:
            response, keep = await asyncio.wait_for(
                self._exchange(conn, method, path, body, headers), self._timeout_s)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            conn.close()
            raise TransportError("connection", type(exc).__name__) from exc
        except TimeoutError as exc:
            conn.close()
            raise TransportError("timeout", f"no answer within {self._timeout_s} s") from exc
        if keep:
            self._idle.append(conn)
        else:
            conn.close()
        return response

    async def _connect(self) -> _Connection:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self._host, self._port, limit=1 << 20), self._timeout_s)
        except (OSError, TimeoutError) as exc:
            raise TransportError("connect", type(exc).__name__) from exc
        return _Connection(reader, writer)

    async def _exchange(self, conn: _Connection, method: str, path: str, body: bytes,
                        headers: dict[str, str]) -> tuple[HttpResponse, bool]:
        head = [f"{method} {path} HTTP/1.1".encode(), b"Host: " + self._host_header,
                b"Content-Length: " + str(len(body)).encode()]
        head += [f"{name}: {value}".encode() for name, value in headers.items()]
        conn.writer.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        await conn.writer.drain()
        status, response_headers = _parse_head(await conn.reader.readuntil(b"\r\n\r\n"))
        if response_headers.get("transfer-encoding", "").lower() == "chunked":
            content = await _read_chunked(conn.reader)
        else:
            length = int(response_headers.get("content-length", "0"))
            content = await conn.reader.readexactly(length) if length else b""
        keep = response_headers.get("connection", "").lower() != "close"
        return HttpResponse(status, content), keep

    async def close(self) -> None:
        while self._idle:
            self._idle.pop().close()



class SpreadClient:
    """Several instances behind one name, as a load balancer without stickiness spreads them:
    each request goes to the next instance in turn, so one sender's consecutive messages land
    on different machines (only state in the database can carry a conversation)."""

    def __init__(self, clients: list[HttpClient]) -> None:
        if not clients:
            raise ValueError("a spread needs at least one instance")
        self._clients = clients
        self._next = 0

    async def request(self, method: str, path: str, body: bytes = b"",
                      headers: dict[str, str] | None = None) -> HttpResponse:
        client = self._clients[self._next]
        self._next = (self._next + 1) % len(self._clients)
        return await client.request(method, path, body, headers)

    async def close(self) -> None:
        for client in self._clients:
            await client.close()


def _parse_head(raw: bytes) -> tuple[int, dict[str, str]]:
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise ConnectionError(f"not an HTTP status line: {lines[0][:60]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)
