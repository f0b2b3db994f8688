"""A response leaves in one write (coalesced.py, server.py), on real sockets."""

import asyncio
from typing import Any

import uvicorn
from uvicorn.server import ServerState

from intake_service.server import GuardedH11Protocol
from intake_service.startup import listening_socket


async def _hello(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]})
    await send({"type": "http.response.body", "body": b"hello"})


async def _slow(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]})
    await asyncio.sleep(60)  # cancelled when the test closes the server


async def test_a_write_no_other_joins_is_sent_when_its_step_ends() -> None:
    sock = listening_socket("127.0.0.1", 0)
    config = uvicorn.Config(_slow, log_level="warning")
    config.load()
    server = await asyncio.get_running_loop().create_server(
        lambda: GuardedH11Protocol(config, ServerState(), {}), sock=sock
    )
    try:
        reader, writer = await asyncio.open_connection(*sock.getsockname()[:2])
        writer.write(b"GET / HTTP/1.1\r\nhost: test\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)  # while the body is not written
        assert head.startswith(b"HTTP/1.1 200 ")
        writer.close()
    finally:
        server.close()


async def test_a_response_is_sent_in_one_write() -> None:
    sock = listening_socket("127.0.0.1", 0)
    config = uvicorn.Config(_hello, log_level="warning")
    config.load()
    writes: list[bytes] = []

    class Recording(GuardedH11Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            write = transport.write

            def recorded(data: Any) -> None:
                writes.append(bytes(data))
                write(data)

            transport.write = recorded  # type: ignore[method-assign]
            super().connection_made(transport)

    server = await asyncio.get_running_loop().create_server(lambda: Recording(config, ServerState(), {}), sock=sock)
    try:
        reader, writer = await asyncio.open_connection(*sock.getsockname()[:2])
        for _ in range(2):  # two requests on one keep-alive connection
            writer.write(b"GET / HTTP/1.1\r\nhost: test\r\n\r\n")
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            assert head.startswith(b"HTTP/1.1 200 ")
            assert await asyncio.wait_for(reader.readexactly(5), 5) == b"hello"
        writer.close()
    finally:
        server.close()
    assert len(writes) == 2, writes
    assert all(w.startswith(b"HTTP/1.1 200 ") and w.endswith(b"\r\n\r\nhello") for w in writes), writes
