"""Run a real HTTP server on a free loopback port in a thread, for tests that must not patch code.

Two flavours, both context managers yielding a RunningServer with `.url`:
  * serve_asgi(app): any ASGI app (Starlette, FastAPI) under uvicorn, like httpx's own test suite;
    pass `sock=bound_socket()` when the app must know its own URL before it starts, and
    `lifespan="on"` to run its start-up and shut-down (background tasks);
  * serve_http(handler_class): a stdlib http.server handler, for fakes that need nothing more.
`closed_port()` gives a loopback port with nothing listening, to test "server down";
`free_port()` a port for a server another process starts (a subprocess, a PostgreSQL).
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import uvicorn

__all__ = ["RunningServer", "bound_socket", "closed_port", "free_port", "serve_asgi",
           "serve_http"]

LOOPBACK = "127.0.0.1"
_START_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class RunningServer:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def bound_socket() -> socket.socket:
    """A socket bound to 127.0.0.1:<free port>, not yet listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, 0))
    return sock


def closed_port() -> int:
    """A loopback port that was free a moment ago and has no listener (connections are refused)."""
    sock = bound_socket()
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def free_port() -> int:
    """A free loopback port below the kernel's ephemeral range, for a server that another
    process binds later (a subprocess, a PostgreSQL started and restarted by a test). A port
    picked by binding port 0 and closed again may meanwhile be handed to the next bind(0) of
    any process (a pytest-xdist worker's fake provider), and the server then finds its port
    taken at its start or restart."""
    low, _ = (int(n) for n in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(max(1024, low - 12_000), low)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((LOOPBACK, port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free loopback port below the ephemeral range")


@contextmanager
def serve_asgi(
    app: Any, *, sock: socket.socket | None = None, lifespan: str = "off", **uvicorn_options: Any
) -> Iterator[RunningServer]:
    """Serve an ASGI app with uvicorn on 127.0.0.1:<free port> (or `sock`) until the block exits."""
    sock = sock or bound_socket()
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        app, log_level="warning", lifespan=lifespan, timeout_graceful_shutdown=1, **uvicorn_options
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + _START_TIMEOUT_S
    try:
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.005)
        yield RunningServer(LOOPBACK, port)
    finally:
        server.should_exit = True
        thread.join(timeout=_START_TIMEOUT_S)
        sock.close()


@contextmanager
def serve_http(handler_class: type[BaseHTTPRequestHandler]) -> Iterator[RunningServer]:
    """Serve a stdlib request handler on 127.0.0.1:<free port> until the block exits."""
    server = ThreadingHTTPServer((LOOPBACK, 0), handler_class)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield RunningServer(LOOPBACK, int(server.server_address[1]))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=_START_TIMEOUT_S)
