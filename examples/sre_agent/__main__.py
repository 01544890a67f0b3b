"""Run the simulated SRE agent for one round of incidents: ``python -m examples.sre_agent``.

    python -m examples.sre_agent --prompts-repo DIR --episodes 40 --seed 7 --round 0

Spans are shipped over OTLP as the standard ``OTEL_EXPORTER_OTLP_*`` variables (and
``OTEL_META_ANALYZER_ENDPOINT``) say. The last line printed is a JSON summary of the round.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m examples.sre_agent", description=__doc__.splitlines()[0])
    parser.add_argument("--prompts-repo", type=Path, required=True, help="the git prompts repo to load from")
    parser.add_argument("--episodes", type=int, default=40, help="incidents to work in this round")
    parser.add_argument("--seed", type=int, default=0, help="seed of the incidents and the policy")
    parser.add_argument("--round", type=int, default=0, dest="round_index", help="round number (varies incidents)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)

    from opentelemetry import trace

    from examples.sre_agent.agent import run_round

    summary = run_round(args.prompts_repo, episodes=args.episodes, seed=args.seed, round_index=args.round_index)
    provider = trace.get_tracer_provider()
    flushed = getattr(provider, "force_flush", lambda *a: True)(30_000)
    print(json.dumps({
        "prompt_version": summary.prompt_version,
        "episodes": summary.episodes,
        "successes": summary.successes,
        "versions": {v: list(figures) for v, figures in summary.versions.items()},
        "flushed": bool(flushed),
    }))
    return 0 if flushed else 1


if __name__ == "__main__":
    sys.exit(main())
