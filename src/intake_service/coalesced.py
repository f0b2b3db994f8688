"""A transport that sends what one step of the event loop writes in one segment.

uvicorn's h11 protocol writes a response's status line and headers, then its body, each with its own
`transport.write`: with Nagle off (server.py) each became a segment of its own, two send system calls,
and on a busy machine two wake-ups of the client, which finds the headers alone and waits again. The
writes of one step are joined and sent at the end of it (`call_soon`), in the order they were made.
"""

import asyncio
from typing import Any


class CoalescedTransport:
    """Wraps a transport; everything but `write` and `close` is the wrapped transport's own."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._flush)
        self._pending.append(bytes(data))

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
