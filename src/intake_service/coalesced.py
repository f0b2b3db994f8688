"""A transport that sends a response's headers and body in one segment.

uvicorn's h11 protocol writes a response's status line and headers, then its body, each with its own
`transport.write`: with Nagle off (server.py) each became a segment of its own, two send system calls,
and on a busy machine two wake-ups of the client, which finds the headers alone and waits again. A
write is held until the next one, made in the same step of the event loop, joins it (then both go at
once), or until that step ends (`call_soon`), so nothing waits longer than the code already running.
"""

import asyncio
from typing import Any

# A write this large goes at once (after what is held): joining it would copy it for a saving that
# no longer matters beside its size.
JOIN_BELOW = 64 * 1024


class CoalescedTransport:
    """Wraps a transport; everything but `write` and `close` is the wrapped transport's own."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if len(data) >= JOIN_BELOW:
            self._flush()
            if not self._transport.is_closing():
                self._transport.write(data)
            return
        self._pending.append(bytes(data))
        if len(self._pending) == 1:
            asyncio.get_running_loop().call_soon(self._flush)
        else:
            self._flush()

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
