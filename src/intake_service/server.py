"""uvicorn, guarded against clients that open connections and never finish their headers.

uvicorn times out idle keep-alive connections and request bodies never arrive past the body timeout
(api/middleware.py), but a connection that sends half a request line and stops is kept forever:
enough of them exhaust the process's file descriptors and nobody is served. Here every request's
line and headers must arrive within `header_timeout_seconds` (else 408 and the connection closes),
and at most `max_connections` connections are open at once: beyond that a new connection makes the
oldest one still sending its headers go, or is closed at once when none is.
"""

import asyncio
import gc
import resource
import socket
from collections.abc import Callable
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from intake_service.coalesced import CoalescedTransport
from intake_service.settings import Settings

# File descriptors kept for everything but client connections: PostgreSQL connections, chDB's
# files, logs, artifact files.
RESERVED_DESCRIPTORS = 128
_LATE = b'{"detail": "The request headers did not arrive in time."}'
HEADER_TIMEOUT_REPLY = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
    b"content-length: %d\r\n\r\n%s" % (len(_LATE), _LATE)
)


def connection_limit(wanted: int) -> int:
    """`wanted`, lowered to what the file-descriptor limit leaves for client connections."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - RESERVED_DESCRIPTORS))


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline on request headers and a bound on open connections."""

    header_timeout: float = 10.0
    max_connections: int = 1000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_deadline: asyncio.TimerHandle | None = None
        self.opened_at = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        # asyncio turns Nagle off only for sockets made with proto=IPPROTO_TCP, which
        # socket.create_server's are not: uvicorn writes headers and body apart, and the body then
        # waits for the client's delayed ACK (~40 ms on every response).
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(CoalescedTransport(transport))  # type: ignore[arg-type]
        self.opened_at = self.loop.time()
        self._await_headers()
        # Connections being closed stay in the set until the loop reports them lost.
        open_ = [c for c in self.connections if not getattr(c, "transport", None) or not c.transport.is_closing()]
        if len(open_) > self.max_connections:
            waiting = [c for c in open_ if isinstance(c, GuardedH11Protocol) and c.header_deadline is not None]
            min(waiting, key=lambda c: c.opened_at).transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._headers_arrived()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # Data after a response starts the next request: its headers get a deadline of their own.
        if self.conn.their_state is h11.IDLE:
            self._await_headers()
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._headers_arrived()

    def _await_headers(self) -> None:
        if self.header_deadline is None:
            self.header_deadline = self.loop.call_later(self.header_timeout, self._headers_late)

    def _headers_arrived(self) -> None:
        if self.header_deadline is not None:
            self.header_deadline.cancel()
            self.header_deadline = None

    def _headers_late(self) -> None:
        self.header_deadline = None
        if not self.transport.is_closing():
            self.transport.write(HEADER_TIMEOUT_REPLY)
            self.transport.close()


class _Server(uvicorn.Server):
    """Says when it is ready to serve."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.on_ready()


def serve(app: Any, settings: Settings, sock: socket.socket, on_ready: Callable[[], None]) -> bool:
    """Serves on the already bound `sock` until a signal stops it; False when it never started."""
    # Everything built so far lives as long as the process: kept out of the collector's full passes,
    # which otherwise walk it again and again while a large body is parsed, with every thread paused.
    # No collection first: it took 0.1-0.2 s of the start-up to free ~1,800 objects (no resident MB).
    gc.freeze()
    protocol = type(
        "Guarded",
        (GuardedH11Protocol,),
        {
            "header_timeout": settings.header_timeout_seconds,
            "max_connections": connection_limit(settings.max_connections),
        },
    )
    config = uvicorn.Config(
        app, http=protocol, log_level=settings.log_level, access_log=False, timeout_graceful_shutdown=30
    )
    server = _Server(config, on_ready)
    server.run(sockets=[sock])
    return server.started
