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


BIG = b"x" * (100 * 1024)


async def _big(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", str(len(BIG)).encode())]})
    await send({"type": "http.response.body", "body": BIG})


async def _recorded(app: Any, body_size: int) -> list[bytes]:
    """The transport writes of two responses of `app` on one keep-alive connection."""
    sock = listening_socket("127.0.0.1", 0)
    config = uvicorn.Config(app, log_level="warning")
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
        for _ in range(2):
            writer.write(b"GET / HTTP/1.1\r\nhost: test\r\n\r\n")
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            assert head.startswith(b"HTTP/1.1 200 ")
            assert len(await asyncio.wait_for(reader.readexactly(body_size), 5)) == body_size
        writer.close()
    finally:
        server.close()
    return writes


async def test_a_response_is_sent_in_one_write() -> None:
    writes = await _recorded(_hello, 5)
    assert len(writes) == 2, writes
    assert all(w.startswith(b"HTTP/1.1 200 ") and w.endswith(b"\r\n\r\nhello") for w in writes), writes


async def test_a_large_body_is_written_as_it_is_after_the_headers() -> None:
    # Joined, it would be copied once more: the headers go first, then the body unjoined.
    writes = await _recorded(_big, len(BIG))
    assert [len(w) for w in writes[1::2]] == [len(BIG)] * 2
    assert all(w.startswith(b"HTTP/1.1 200 ") and w.endswith(b"\r\n\r\n") for w in writes[::2]), writes
