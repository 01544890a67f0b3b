"""``otel-meta import``: turn a public agent dataset into OpenTelemetry spans.

``otel-meta import tau-bench FILE`` and ``otel-meta import mini-swe-agent DIR``, each with either
``--endpoint URL`` (a running analyzer's base URL; the spans go over the real OTLP/HTTP exporter to
``URL/v1/traces``) or ``--db PATH`` (written straight into that SQLite store).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from analyzers.cli._console import fail, inert
from analyzers.store import DB_HELP, db_location, display_name, open_store

_SOURCES = {
    "tau-bench": ("FILE", "a τ-bench historical_trajectories/*.json file"),
    "mini-swe-agent": ("DIR", "a mini-SWE-agent results folder (with trajs/ and logs/)"),
}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "import",
        help="import a public agent dataset as OpenTelemetry spans",
        description="Import a dataset's runs as spans: to a running analyzer (--endpoint) or into a store (--db).",
    )
    sources = parser.add_subparsers(dest="source", metavar="SOURCE", required=True)
    for name, (metavar, what) in _SOURCES.items():
        p = sources.add_parser(name, help=f"import {what}", description=f"Import {what}.")
        p.add_argument("path", type=Path, metavar=metavar, help=what)
        target = p.add_mutually_exclusive_group(required=True)
        target.add_argument("--endpoint", metavar="URL",
                            help="analyzer base URL, e.g. http://127.0.0.1:4318 (/v1/traces is appended)")
        target.add_argument("--db", type=db_location, metavar="DB", help=DB_HELP)
        p.add_argument("--token", default=None, help="bearer token for the analyzer (with --endpoint)")
        p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                       help="give up sending a batch after this long, retries included (default 30)")
        p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from analyzers.errors import ImportDataError
    from analyzers.importers import export_runs, mini_swe_agent, otlp_exporter, tau_bench

    try:
        runs = tau_bench.load_runs(args.path) if args.source == "tau-bench" else mini_swe_agent.load_runs(args.path)
    except ImportDataError as exc:
        return fail("import", exc)
    service = f"otel-meta-import-{args.source}"
    if args.endpoint:
        if not args.endpoint.startswith(("http://", "https://")):
            return fail("import", f"--endpoint must be an http(s) URL, not {args.endpoint!r}")
        exporter = otlp_exporter(args.endpoint, token=args.token, timeout=args.timeout)
        summary = export_runs(runs, exporter, service_name=service)
        target = args.endpoint
    else:
        from analyzers.store.exporter import StoreSpanExporter

        with open_store(args.db) as store:
            summary = export_runs(runs, StoreSpanExporter(store), service_name=service)
        target = display_name(args.db)
    outcomes = [r.outcome for r in runs]
    print(inert(f"imported {summary.runs} runs of {runs[0].agent if runs else '-'} "
                f"({sum(o is True for o in outcomes)} successes, {sum(o is False for o in outcomes)} failures) "
                f"as {summary.spans} spans into {target}"))
    if summary.failed_spans:
        print(f"otel-meta import: {summary.failed_spans} spans were not accepted by {target} "
              "(see the log above)", file=sys.stderr)
        return 1
    return 0
