"""The OpenAI stand-in itself: a client that drops its connection leaves no traceback on stderr."""

from __future__ import annotations

import socket
import struct
import time

import pytest

from tests.support.openai_server import OpenAIStandIn, SseReply, chat_stream_events


def _reset(sock: socket.socket) -> None:
    """Close with SO_LINGER 0: the peer sees a TCP reset, not an orderly close."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _wait_for_disconnects(server: OpenAIStandIn, n: int) -> None:
    deadline = time.monotonic() + 10
    while server.disconnects < n:
        assert time.monotonic() < deadline, f"{server.disconnects} of {n} disconnects seen"
        time.sleep(0.01)


def test_client_resets_are_counted_quietly(capfd: pytest.CaptureFixture[str]) -> None:
    with OpenAIStandIn() as server:
        # A reset while the server waits for the rest of a body.
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
        _reset(sock)
        _wait_for_disconnects(server, 1)
        # A reset while the server streams a long answer.
        server.enqueue(SseReply(chat_stream_events("x" * 200_000) * 40))
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
        assert sock.recv(64).startswith(b"HTTP/1.1 200")
        _reset(sock)
        _wait_for_disconnects(server, 2)
        assert len(server.requests) == 1
    err = capfd.readouterr().err
    assert "Traceback" not in err and "ConnectionResetError" not in err, err
