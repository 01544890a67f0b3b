"""``otel-meta serve``: the analyzer service (OTLP receiver, REST API, background services).

Extending it (other parts of the service add their flags and services here):
- ``add_arguments(parser)``: the command's flags;
- ``build_context(args, store)``: the ``ServiceContext`` every REST handler receives;
- ``background_services(args, context)``: objects with ``start()`` and ``stop()`` run beside the
  server (e.g. the learning loop of ``--learn-every``); they start after the server listens and stop
  before it does.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path
from typing import Any, Protocol

from analyzers.api.context import ServiceContext
from analyzers.cli._console import fail
from analyzers.store import DB_HELP, db_location, display_name, is_postgres_url, open_store
from analyzers.store.base import Store

logger = logging.getLogger(__name__)


class BackgroundService(Protocol):
    def start(self) -> Any: ...

    def stop(self) -> Any: ...


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve", help="run the analyzer service (OTLP receiver on HTTP and gRPC, REST API)",
        description="Receive OTLP traces into a SQLite store and serve the REST API. Prints one line "
                    "'otel-meta: listening http=HOST:PORT grpc=HOST:PORT db=PATH' when ready; exits 0 "
                    "on SIGTERM or SIGINT after finishing the requests in flight.",
    )
    add_arguments(parser)
    parser.set_defaults(func=run)


#: ``serve``'s own defaults, the last place a setting comes from (flags > config file > environment > these).
DEFAULTS: dict[str, Any] = {"host": "127.0.0.1", "http_port": 4318, "grpc_port": 4317, "token": None,
                            "max_body_mb": 32.0, "max_inflight_mb": 512.0}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=db_location, default=None,
                        help=DB_HELP + "; an SQLite file is created when missing in an existing directory "
                             "(or db: in the config file)")
    parser.add_argument("--host", default=None, help=f"address to bind (default {DEFAULTS['host']})")
    parser.add_argument("--http-port", type=int, default=None,
                        help=f"OTLP/HTTP and REST port (default {DEFAULTS['http_port']}; 0 = any free)")
    parser.add_argument("--grpc-port", type=int, default=None,
                        help=f"OTLP/gRPC port (default {DEFAULTS['grpc_port']}; 0 = any free)")
    parser.add_argument("--token", default=None,
                        help="require 'Authorization: Bearer TOKEN' on every endpoint except /healthz "
                             "(required when --host is not a loopback address)")
    parser.add_argument("--max-body-mb", type=float, default=None,
                        help=f"largest request body, before and after decompression (default "
                             f"{DEFAULTS['max_body_mb']:g})")
    parser.add_argument("--max-inflight-mb", type=float, default=None,
                        help="memory the requests in flight may hold, as bodies, parsed and decoded "
                             f"(default {DEFAULTS['max_inflight_mb']:g}; see docs/ingest.md)")
    from analyzers.orchestrator.service import add_service_arguments

    add_service_arguments(parser)


def resolve_settings(args: argparse.Namespace) -> None:
    """Fill every unset flag from the config file (``--config``, else ``META_AGENT_CONFIG_FILE``), then
    from the defaults: flags > file > environment > defaults. The file's ``meta_agent:`` section gives
    ``db``, ``prompts_repo`` and ``learning_interval`` (which starts the learning loop, as ``--learn-every``
    does); its ``serve:`` section gives the server's settings. ``ValueError`` says what is missing."""
    from analyzers.orchestrator.config import ConfigFile, config_file_path

    file = ConfigFile.read(config_file_path(args.config))
    for name, default in DEFAULTS.items():
        if getattr(args, name) is None:
            from_file = file.serve.get(name)
            setattr(args, name, default if from_file is None else from_file)
    for flag, setting, kind in (("db", "db", db_location), ("prompts_repo", "prompts_repo", Path),
                                ("learn_every", "learning_interval", float)):
        if getattr(args, flag) is None and file.meta_agent.get(setting) is not None:
            setattr(args, flag, kind(file.meta_agent[setting]))
    def _or_in_file(setting: str) -> str:
        return f" or {setting} in {file.path}" if file.path else f" or {setting} in a config file (--config FILE)"

    if args.db is None:
        raise ValueError("no store: give --db PATH" + _or_in_file("db:"))
    if not is_postgres_url(args.db) and not args.db.parent.is_dir():
        raise ValueError(f"--db {args.db}: the directory {args.db.parent} does not exist; create it first "
                         "(serve creates the store file, never directories)")
    if args.learn_every is not None and args.prompts_repo is None:
        raise ValueError("--learn-every needs --prompts-repo DIR" + _or_in_file("prompts_repo:")
                         + " (the git prompts repo the learning loop writes)")
    if args.max_body_mb <= 0 or args.max_inflight_mb <= 0:
        raise ValueError("--max-body-mb and --max-inflight-mb must be positive")


def build_context(args: argparse.Namespace, store: Store) -> ServiceContext:
    """The ``ServiceContext`` shared by every REST request of this service."""
    from analyzers.orchestrator.service import learning_parts

    judge, meta_agent = learning_parts(args, store)
    return ServiceContext(store=store, prompts_repo=args.prompts_repo, judge=judge, meta_agent=meta_agent)


def background_services(args: argparse.Namespace, context: ServiceContext) -> list[BackgroundService]:
    """Services that run beside the receiver for the life of the process."""
    return [context.meta_agent] if context.meta_agent is not None else []


def run(args: argparse.Namespace) -> int:
    from analyzers.conventions import configured_rule
    from analyzers.receiver.server import AnalyzerServer

    try:
        resolve_settings(args)
        configured_rule()
    except ValueError as exc:
        return fail("serve", exc)
    store = open_store(args.db)
    stop = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        logger.info("received signal %d; stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    context = build_context(args, store)
    server = AnalyzerServer(store, host=args.host, http_port=args.http_port, grpc_port=args.grpc_port,
                            token=args.token, max_body_bytes=int(args.max_body_mb * (1 << 20)),
                            context=context, max_inflight_bytes=int(args.max_inflight_mb * (1 << 20)))
    services: list[BackgroundService] = []
    try:
        server.start()
        for service in background_services(args, context):
            service.start()
            services.append(service)
        http_host, http_port = server.http_address
        grpc = server.grpc_address
        grpc_text = f"{grpc[0]}:{grpc[1]}" if grpc else "off"
        print(f"otel-meta: listening http={http_host}:{http_port} grpc={grpc_text} db={display_name(args.db)}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        for service in reversed(services):
            service.stop()
        server.stop()
        store.close()
    return 0
