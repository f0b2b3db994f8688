"""Issue 11 against a real `intake-service serve` subprocess: what hostile clients must not do to it.

- finding 3: half-sent headers are timed out, open connections are bounded, and the service keeps
  answering others even when the half-sent connections outnumber its file descriptors;
- finding 2: a body that is costly to parse does not stall the event loop (/health/live keeps
  answering) and count limits refuse it before its objects are built.
"""

import asyncio
import gzip
import resource
import socket
import statistics
import time
import uuid

import httpx
from test_faults import Service, base

DESCRIPTOR_LIMIT = 256


def low_descriptor_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (DESCRIPTOR_LIMIT, DESCRIPTOR_LIMIT))


def closed_by_server(sock: socket.socket, until: float) -> bytes | None:
    """What the server sent before closing the connection, or None if it is still open at `until`."""
    received = b""
    while True:
        sock.settimeout(max(0.05, until - time.monotonic()))
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            return None
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk


async def test_half_sent_headers_are_timed_out_and_bounded(tmp_path) -> None:
    service = Service(
        tmp_path / "data", env={"INTAKE_HEADER_TIMEOUT_SECONDS": "1.5"}, preexec_fn=low_descriptor_limit
    ).start()
    ws = base(f"slow-{uuid.uuid4().hex[:6]}")
    sockets: list[socket.socket] = []
    try:
        # More half-sent requests than the server has file descriptors.
        for _ in range(DESCRIPTOR_LIMIT + 100):
            sock = socket.create_connection(("127.0.0.1", service.port), timeout=5)
            sock.sendall(b"GET /health/live HTT")
            sockets.append(sock)
        async with httpx.AsyncClient(base_url=service.url, timeout=5) as http:
            for _ in range(5):
                assert (await http.get("/health/live")).status_code == 200
            assert (await http.post(f"{ws}/experiments", json={"name": "e", "dataset_name": "d"})).status_code == 201
            listed = await http.get(f"{ws}/experiments")
            assert listed.status_code == 200 and [row["name"] for row in listed.json()["data"]] == ["e"]
            assert (await http.get("/health/ready")).status_code == 200

        # Every half-sent connection is closed by the server: made way for others, or timed out with 408.
        until = time.monotonic() + 15
        answers = [closed_by_server(sock, until) for sock in sockets]
        assert all(answer is not None for answer in answers), sum(answer is None for answer in answers)
        timed_out = [answer for answer in answers if answer and answer.startswith(b"HTTP/1.1 408 ")]
        assert timed_out and b"The request headers did not arrive in time." in timed_out[0]

        # A request whose headers arrive slowly but in time is served.
        with socket.create_connection(("127.0.0.1", service.port), timeout=5) as sock:
            sock.sendall(b"GET /health/live HTTP/1.1\r\n")
            time.sleep(0.5)
            sock.sendall(b"Host: x\r\nConnection: close\r\n\r\n")
            assert (closed_by_server(sock, time.monotonic() + 5) or b"").startswith(b"HTTP/1.1 200 ")
        assert service.process is not None and service.process.poll() is None
        assert (httpx.get(f"{service.url}/health/live", timeout=5)).status_code == 200
    finally:
        for sock in sockets:
            sock.close()
        service.stop()
