"""``otel-meta serve`` and ``otel-meta runs`` as a user runs them: real subprocesses."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from analyzers.store.sqlite import SqliteStore
from tests.analyzers.receiver import payloads as p
from tests.analyzers.receiver.test_bad_input import PROTOBUF

LINE = re.compile(r"^otel-meta: listening http=(127\.0\.0\.1):(\d+) grpc=(127\.0\.0\.1):(\d+) db=(.+)$")


def start_serve(db: Path) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "analyzers", "serve", "--db", str(db), "--http-port", "0", "--grpc-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    m = LINE.match(line)
    assert m, f"unexpected first line {line!r}"
    assert m.group(5) == str(db)
    return proc, int(m.group(2))


def post(port: int, body: bytes, path: str = "/v1/traces") -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", path, body, PROTOBUF)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


@pytest.mark.slow
def test_serve_prints_its_ports_serves_and_exits_0_on_sigterm(tmp_path):
    db = tmp_path / "serve.db"
    proc, port = start_serve(db)
    try:
        trace_id = p.new_trace_id()
        assert post(port, p.body(p.agent_span(trace_id, "cli-agent", outcome="success"),
                                 p.tool_span(trace_id, 2, "grep", 4))) == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    out = subprocess.run([sys.executable, "-m", "analyzers", "runs", "--db", str(db), "--json"],
                         capture_output=True, text=True, check=True).stdout
    [run] = json.loads(out)
    assert set(run) == {"trace_id", "agent", "outcome", "outcome_source", "prompt_version", "started_at",
                        "duration_ms", "steps"}
    assert (run["trace_id"], run["agent"], run["outcome"]) == (trace_id.hex(), "cli-agent", "success")
    assert run["steps"] == [{"kind": "tool", "name": "grep", "ok": True, "duration_ms": 5.0, "error_type": None}]
    table = subprocess.run([sys.executable, "-m", "analyzers", "runs", "--db", str(db), "--agent", "cli-agent"],
                           capture_output=True, text=True, check=True).stdout
    assert trace_id.hex() in table and "grep" in table


def _read_reply(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _content_length(data):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def _content_length(data: bytes) -> int:
    m = re.search(rb"(?i)content-length: (\d+)", data.split(b"\r\n\r\n", 1)[0])
    return int(m.group(1)) if m else 0


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_accepting_finishes_the_request_in_flight_and_exits_0(tmp_path, signum):
    db = tmp_path / "graceful.db"
    proc, port = start_serve(db)
    trace_id = p.new_trace_id()
    body = p.body(p.agent_span(trace_id, "graceful"), p.tool_span(trace_id, 2, "get_pods", 3))
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        # The request is in flight once the server has parsed its headers: it then answers
        # "100 Continue" and waits for the body, which is sent only after the signal.
        sock.sendall(f"POST /v1/traces HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-protobuf\r\n"
                     f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n".encode())
        assert sock.recv(64).startswith(b"HTTP/1.1 100")
        proc.send_signal(signum)
        deadline = time.monotonic() + 20
        while True:  # it stops accepting new connections while the request is still open
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except (ConnectionRefusedError, ConnectionResetError):  # reset: it was in the closed backlog
                break
            assert time.monotonic() < deadline, "still accepting connections after the signal"
            time.sleep(0.02)
        assert proc.poll() is None, "exited before finishing the request in flight"
        sock.sendall(body)
        reply = _read_reply(sock)
        assert reply.startswith(b"HTTP/1.1 200"), reply[:200]
        assert b"connection: close" in reply.lower()
        assert proc.wait(timeout=20) == 0
    finally:
        sock.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    with SqliteStore(db) as store:
        run = store.get_run(trace_id.hex())
        assert run is not None and run.agent == "graceful" and [s.name for s in run.steps] == ["get_pods"]


@pytest.mark.slow
def test_sigkill_during_load_loses_no_acknowledged_span(tmp_path):
    db = tmp_path / "durable.db"
    proc, port = start_serve(db)
    acked: list[bytes] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client() -> None:
        while not stop.is_set():
            trace_id = p.new_trace_id()
            spans = [p.agent_span(trace_id)] + [p.tool_span(trace_id, i, f"t{i}", i) for i in range(2, 60)]
            try:
                status = post(port, p.body(*spans))
            except OSError:
                return
            if status == 200:
                with lock:
                    acked.append(trace_id)

    threads = [threading.Thread(target=client) for _ in range(3)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(acked) < 40 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()
    stop.set()
    for t in threads:
        t.join(10)
    assert len(acked) >= 40
    with SqliteStore(db) as store:
        for trace_id in acked:
            assert len(store.spans_for_trace(trace_id.hex())) == 59


def _serve_fails(tmp_path: Path, *args: str) -> str:
    """``otel-meta serve`` with ``args``: it must exit 2 with one error line on stderr, which is returned."""
    proc = subprocess.run([sys.executable, "-m", "analyzers", "serve", "--db", str(tmp_path / "x.db"), *args],
                          check=False, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("otel-meta")]  # not the log lines
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


@pytest.mark.slow
@pytest.mark.parametrize("protocol,flag", [("OTLP/HTTP", "--http-port"), ("OTLP/gRPC", "--grpc-port")])
def test_serve_on_a_port_in_use_says_which_port_and_how_to_fix_it(tmp_path, protocol, flag):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        other = "--grpc-port" if flag == "--http-port" else "--http-port"
        line = _serve_fails(tmp_path, flag, str(port), other, "0")
    assert line == (f"otel-meta serve: cannot listen for {protocol} on 127.0.0.1:{port}: the port is already in use "
                    f"(another otel-meta serve or a Collector?); stop that process or choose another port with {flag} "
                    "(0 = any free port)")


@pytest.mark.slow
def test_serve_refuses_a_non_loopback_bind_without_a_token(tmp_path):
    line = _serve_fails(tmp_path, "--host", "0.0.0.0", "--http-port", "0", "--grpc-port", "0")
    assert line.startswith("otel-meta serve: refusing to listen on 0.0.0.0 without a token")
    assert "--token" in line


def test_the_server_refuses_a_non_loopback_bind_without_a_token_and_accepts_loopback_names(store):
    from analyzers.errors import InsecureBindError
    from analyzers.receiver.binding import is_loopback
    from analyzers.receiver.server import AnalyzerServer

    with pytest.raises(InsecureBindError, match="without a token"):
        AnalyzerServer(store, host="0.0.0.0")
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.8.0.1")
    assert not is_loopback("0.0.0.0") and not is_loopback("::") and not is_loopback("10.1.2.3")
    AnalyzerServer(store, host="0.0.0.0", http_port=0, grpc_port=None, token="t").stop()


def test_runs_of_an_unknown_agent_in_a_store_without_runs_is_one_line(tmp_path):
    SqliteStore(tmp_path / "empty.db").close()
    proc = subprocess.run([sys.executable, "-m", "analyzers", "runs", "--db", str(tmp_path / "empty.db"),
                           "--agent", "ghost"], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("otel-meta runs: no runs of agent 'ghost' in the store; agents with runs: none")
