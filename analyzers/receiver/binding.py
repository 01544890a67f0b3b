"""Where the receiver listens: binding its ports with errors that say which port and what to do, and the
rule that an address reachable from other machines needs a token.

Why the token rule: outcomes (``POST /api/runs/{id}/outcome``, span attributes) and prompt versions
decide what the learning loop promotes and rolls back, so anyone who can send spans can steer it.
On loopback only local processes can; beyond it, only holders of the token may.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from typing import NoReturn

from analyzers.errors import InsecureBindError, ListenError

PROTOCOL_HTTP = "OTLP/HTTP"
PROTOCOL_GRPC = "OTLP/gRPC"
_PORT_FLAG = {PROTOCOL_HTTP: "--http-port", PROTOCOL_GRPC: "--grpc-port"}


def is_loopback(host: str) -> bool:
    """``True`` when every address ``host`` names is a loopback address (127.0.0.0/8, ::1)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(str(i[4][0]).split("%")[0]).is_loopback for i in infos)


def require_token_beyond_loopback(host: str, token: str | None) -> None:
    """Raise ``InsecureBindError`` for a non-loopback ``host`` without a token."""
    if token is None and not is_loopback(host):
        raise InsecureBindError(
            f"refusing to listen on {host} without a token: anyone who can reach it could send forged runs, "
            "outcomes and prompt versions (and so steer promotions and rollbacks); pass --token TOKEN "
            "(clients send 'Authorization: Bearer TOKEN') or bind 127.0.0.1")


def bind_http_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` for the HTTP server; ``ListenError`` when it cannot be."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except OSError as exc:
        raise ListenError(f"cannot listen for {PROTOCOL_HTTP} on {host}:{port}: {exc}; "
                          "choose another --host, an address of this machine") from None
    sock = socket.socket(family, kind, proto)
    try:
        # As every server does: a restart may reuse the port while old connections sit in TIME_WAIT
        # (on Linux this never lets a second process listen on it).
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        raise_port_in_use(PROTOCOL_HTTP, host, port, exc)
    return sock


def raise_port_in_use(protocol: str, host: str, port: int, cause: OSError | None = None) -> NoReturn:
    """Raise ``ListenError`` for ``protocol``'s port, saying why when the system tells."""
    if cause is None:
        cause = _bind_probe(host, port)
    flag = _PORT_FLAG[protocol]
    if cause is not None and cause.errno != errno.EADDRINUSE:
        raise ListenError(f"cannot listen for {protocol} on {host}:{port}: {cause.strerror}; "
                          f"choose another port with {flag} (0 = any free port) or another --host")
    raise ListenError(
        f"cannot listen for {protocol} on {host}:{port}: the port is already in use (another otel-meta serve "
        f"or a Collector?); stop that process or choose another port with {flag} (0 = any free port)")


def check_port_free(protocol: str, host: str, port: int) -> None:
    """Raise ``ListenError`` when ``host:port`` (a fixed port) cannot be bound now.

    gRPC's own bind failure is logged by its C core on stderr before Python sees it; probing first
    keeps a port in use to the one-line error.
    """
    if port:
        cause = _bind_probe(host, port)
        if cause is not None:
            raise_port_in_use(protocol, host, port, cause)


def _bind_probe(host: str, port: int) -> OSError | None:
    """Why ``host:port`` cannot be bound now, or ``None`` when it can."""
    try:
        with socket.create_server((host, port)):
            return None
    except OSError as exc:
        return exc
