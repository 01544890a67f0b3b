"""An agent process for the end-to-end tests: the SRE agent, instrumented by ``import otel_meta.auto``.

    python -m tests.e2e.agent_process --episodes 12 --seed 5

Works ``--episodes`` incidents with no learned guidelines (no prompts repo needed), flushes, and
prints ``{"episodes": N, "successes": K}``. Where the spans go is the standard OTel environment's
business (``OTEL_EXPORTER_OTLP_*``, ``OTEL_META_ANALYZER_ENDPOINT``).
"""

from __future__ import annotations

import argparse
import json
import random
import sys

from opentelemetry import trace

import otel_meta.auto  # noqa: F401
from examples.sre_agent.agent import handle_incident
from examples.sre_agent.cluster import draw_problem
from examples.sre_agent.guidance import Guidance
from examples.sre_agent.policy import SrePolicy


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    successes = 0
    for i in range(args.episodes):
        rng = random.Random(f"e2e:{args.seed}:{i}")
        successes += handle_incident(draw_problem(rng, i), SrePolicy(Guidance(), rng), rng).success
    flushed = trace.get_tracer_provider().force_flush(30_000)  # type: ignore[attr-defined]
    print(json.dumps({"episodes": args.episodes, "successes": successes, "flushed": flushed}))
    return 0 if flushed else 1


if __name__ == "__main__":
    sys.exit(main())
