"""``otel-meta demo``: the same demo as ``make demo`` (``python -m examples.demo``).

The demo's simulated agent lives in the source tree's ``examples/`` package, which is not installed:
this command finds it next to the installed ``analyzers`` package (a source checkout or an editable
install) and says so clearly when it is not there.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from analyzers.cli._console import fail


def _source_root() -> Path | None:
    import analyzers

    root = Path(analyzers.__file__).resolve().parents[1]
    return root if (root / "examples" / "demo.py").is_file() else None


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the end-to-end demo (simulated SRE agent, analyzer, learning cycles, report)",
        description="Run the end-to-end demo: a simulated SRE agent ships spans to `otel-meta serve`, "
                    "learning cycles commit guidelines to a new prompts repo, and a report is written.",
    )
    parser.add_argument("--rounds", type=int, default=None, help="rounds of episodes (default 7)")
    parser.add_argument("--settle-rounds", type=int, default=None,
                        help="rounds added while a candidate is still undecided after --rounds (default 3)")
    parser.add_argument("--episodes", type=int, default=None, help="episodes per round (default 100)")
    parser.add_argument("--seed", type=int, default=None, help="seed of incidents and policy (default 7)")
    parser.add_argument("--output-dir", type=Path, default=None,
                        help="where the store, prompts repo and report go (default demo-output)")
    parser.add_argument("--teammate-round", type=int, default=None,
                        help="the earliest round at which a teammate commits a harmful candidate (default 3; -1: none)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    root = _source_root()
    if root is None:
        return fail("demo", "the demo needs the source tree's examples/ package, which is not installed; "
                    "run `make demo` in a checkout of the repository")
    # The demo prints its own progress; per-request client logs would drown it.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from examples.demo import main

    argv: list[str] = []
    for flag in ("rounds", "settle_rounds", "episodes", "seed", "output_dir", "teammate_round"):
        value = getattr(args, flag)
        if value is not None:
            argv += [f"--{flag.replace('_', '-')}", str(value)]
    return main(argv)
