"""The server's connection handling (server.py) on real sockets."""

import asyncio
import socket
from typing import Any

import uvicorn
from uvicorn.server import ServerState

from intake_service.server import GuardedH11Protocol
from intake_service.startup import listening_socket


async def _empty_app(scope: Any, receive: Any, send: Any) -> None:
    """An ASGI app that is never called: only the connection is looked at."""


async def test_accepted_connections_send_without_waiting_for_acks() -> None:
    # The service's own listening socket (socket.create_server), as `intake-service serve` binds it.
    sock = listening_socket("127.0.0.1", 0)
    config = uvicorn.Config(_empty_app, log_level="warning")
    config.load()
    accepted: list[Any] = []
    state = ServerState()

    class Recording(GuardedH11Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            accepted.append(transport.get_extra_info("socket"))

    server = await asyncio.get_running_loop().create_server(lambda: Recording(config, state, {}), sock=sock)
    try:
        _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
        for _ in range(100):
            if accepted:
                break
            await asyncio.sleep(0.01)
        assert accepted[0].getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        writer.close()
    finally:
        server.close()
