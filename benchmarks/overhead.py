"""Per-call cost of otel-meta's instrumentation, as ratios against baselines measured in the same run.

(a) a bare OTel SDK span with the same attributes as (b), (b) a call through ``@otel_meta.tool``;
(c) an openai chat call against a loopback OpenAI-compatible server, uninstrumented and instrumented;
(d) the same call under each installed third-party openai instrumentation, each in its own subprocess
so their patches never stack (each subprocess measures its own uninstrumented baseline, alternating
rounds with and without instrumentation); and the import time of ``import otel_meta.auto``.

Targets: (b)/(a) <= 1.15; otel-meta's openai overhead <= half of the cheapest other's.
Run: ``.venv/bin/python benchmarks/overhead.py`` (``make bench`` runs every benchmark).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ARMS = {
    "otel-meta": "otel_meta",
    "opentelemetry-instrumentation-openai-v2": "opentelemetry.instrumentation.openai_v2",
    "openinference-instrumentation-openai": "openinference.instrumentation.openai",
    "traceloop-sdk": "traceloop.sdk",
}
ROUNDS = 9


def _provider() -> Any:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

    class NullExporter(SpanExporter):
        def __init__(self) -> None:
            self.count = 0

        def export(self, spans: Sequence[Any]) -> SpanExportResult:
            self.count += len(spans)
            return SpanExportResult.SUCCESS

    exporter = NullExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def _per_call_us(fn: Callable[[], Any], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def _alternate(arms: dict[str, Callable[[], Any]], calls: int, rounds: int = ROUNDS,
               setup: dict[str, Callable[[], None]] | None = None) -> dict[str, list[float]]:
    """µs/call of each arm in each of ``rounds`` rounds, the arms interleaved within every round."""
    samples: dict[str, list[float]] = {name: [] for name in arms}
    for _ in range(rounds):
        for name, fn in arms.items():
            if setup and name in setup:
                setup[name]()
            samples[name].append(_per_call_us(fn, calls))
    return samples


def measure_spans() -> dict[str, float]:
    """(a) and (b): a bare SDK span vs. the same span through @otel_meta.tool."""
    from opentelemetry.trace import SpanKind

    import otel_meta
    from otel_meta import semconv as sc

    provider, _ = _provider()
    tracer = provider.get_tracer("bench")
    attributes = {sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL, sc.GEN_AI_TOOL_NAME: "noop"}

    def body() -> int:
        return 1

    def bare() -> int:
        with tracer.start_as_current_span("execute_tool noop", kind=SpanKind.INTERNAL, attributes=attributes):
            return body()

    otel_meta.instrument(tracer_provider=provider)
    traced = otel_meta.tool("noop")(body)
    try:
        samples = _alternate({"plain": body, "a": bare, "b": traced}, calls=20000)
    finally:
        otel_meta.uninstrument()
    return {name: statistics.median(values) for name, values in samples.items()}


def _instrumentor(arm: str, provider: Any) -> tuple[Callable[[], None], Callable[[], None]]:
    if arm == "otel-meta":
        import otel_meta

        return (lambda: otel_meta.instrument(tracer_provider=provider)), otel_meta.uninstrument
    if arm == "opentelemetry-instrumentation-openai-v2":
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor as OpenAIV2

        v2 = OpenAIV2()
        return (lambda: v2.instrument(tracer_provider=provider, skip_dep_check=True)), v2.uninstrument
    from openinference.instrumentation.openai import OpenAIInstrumentor as OpenInference

    oi = OpenInference()
    return (lambda: oi.instrument(tracer_provider=provider, skip_dep_check=True)), oi.uninstrument


def measure_openai_arm(arm: str) -> dict[str, float]:
    """(c)/(d) in this process: one instrumentation, with and without, alternating rounds."""
    import httpx2
    import openai

    from tests.support.openai_server import JsonReply, OpenAIStandIn, chat_completion

    provider, exporter = _provider()
    on, off = _instrumentor(arm, provider)
    body = chat_completion("The checkout service is slow because of the database.",
                           tool_calls=[("call_1", "get_pods", '{"namespace": "shop"}')])
    messages = [{"role": "system", "content": "You diagnose incidents."},
                {"role": "user", "content": "Why is checkout slow?"}]
    result: dict[str, float] = {}
    with OpenAIStandIn() as server:
        server.default = JsonReply(body)
        loopback = openai.OpenAI(base_url=server.base_url, api_key="bench", max_retries=0)
        result.update(_paired(loopback, messages, on, off, calls=100, rounds=25, prefix="loopback_"))
        loopback.close()
    # The same client over an in-process transport: no sockets, so the instrumentation's own cost is
    # not buried in loopback jitter on a busy machine.
    payload = json.dumps(body).encode()
    transport = httpx2.MockTransport(lambda request: httpx2.Response(
        200, content=payload, headers={"content-type": "application/json"}))
    in_process = openai.OpenAI(base_url="http://bench.invalid/v1", api_key="bench", max_retries=0,
                               http_client=httpx2.Client(transport=transport))
    result.update(_paired(in_process, messages, on, off, calls=300, rounds=25, prefix="transport_"))
    off()
    result["spans"] = exporter.count
    return result


def _paired(client: Any, messages: Any, on: Callable[[], None], off: Callable[[], None], *, calls: int,
            rounds: int, prefix: str) -> dict[str, float]:
    def call() -> Any:
        return client.chat.completions.create(model="gpt-4o-mini", messages=messages)

    for _ in range(50):
        call()
    samples = _alternate({"uninstrumented": call, "instrumented": call}, calls=calls, rounds=rounds,
                         setup={"uninstrumented": off, "instrumented": on})
    # The overhead is the median of the paired per-round differences (drift cancels within a round).
    paired = [i - u for u, i in zip(samples["uninstrumented"], samples["instrumented"])]
    return {prefix + "uninstrumented": statistics.median(samples["uninstrumented"]),
            prefix + "instrumented": statistics.median(samples["instrumented"]),
            prefix + "overhead": statistics.median(paired)}


def _run_arm(arm: str) -> dict[str, float] | None:
    module = ARMS[arm]
    probe = subprocess.run([sys.executable, "-c", f"import importlib.util, sys; "
                            f"sys.exit(0 if importlib.util.find_spec({module!r}.split('.')[0]) and "
                            f"importlib.util.find_spec({module!r}) else 1)"], cwd=REPO, check=False)
    if probe.returncode != 0:
        return None
    out = subprocess.run([sys.executable, __file__, "--arm", arm], cwd=REPO, check=True,
                         capture_output=True, text=True, env=_env())
    return json.loads(out.stdout.strip().splitlines()[-1])


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["OTEL_META_STRICT"] = "0"
    return env


def measure_import() -> float:
    """Milliseconds for ``import otel_meta.auto`` in a fresh interpreter (median of 5)."""
    script = ("import time; t = time.perf_counter(); import otel_meta.auto; "
              "print((time.perf_counter() - t) * 1000)")
    times = [float(subprocess.run([sys.executable, "-c", script], cwd=REPO, check=True, capture_output=True,
                                  text=True, env=_env()).stdout) for _ in range(5)]
    return statistics.median(times)


def main() -> int:
    spans = measure_spans()
    print(f"(a)/(b) span cost, µs/call (median of {ROUNDS} interleaved rounds)")
    print(f"  plain function call              {spans['plain']:8.2f}")
    print(f"  (a) bare OTel SDK span           {spans['a']:8.2f}")
    print(f"  (b) @otel_meta.tool              {spans['b']:8.2f}")
    ratio_ba = spans["b"] / spans["a"]
    print(f"  (b)/(a) = {ratio_ba:.3f}   target <= 1.15   {'OK' if ratio_ba <= 1.15 else 'MISSED'}")

    print("\n(c)/(d) openai chat call, µs/call, each instrumentation in its own process; overhead = median of")
    print("    paired per-round differences. 'loopback': the stand-in HTTP server on 127.0.0.1;")
    print("    'transport': the same client over an in-process httpx transport (no socket jitter)")
    results = {arm: _run_arm(arm) for arm in ARMS}
    for mode in ("loopback", "transport"):
        overheads: dict[str, float] = {}
        for arm, result in results.items():
            if result is None:
                print(f"  {mode:9s} {arm:40s} unavailable (not installed in this environment)")
                continue
            overheads[arm] = result[f"{mode}_overhead"]
            print(f"  {mode:9s} {arm:40s} uninstrumented {result[mode + '_uninstrumented']:8.1f}  "
                  f"instrumented {result[mode + '_instrumented']:8.1f}  overhead {overheads[arm]:7.1f}")
        ours = overheads.pop("otel-meta")
        if overheads:
            cheapest_arm = min(overheads, key=lambda a: overheads[a])
            ratio = ours / overheads[cheapest_arm] if overheads[cheapest_arm] > 0 else float("inf")
            print(f"  {mode:9s} otel-meta overhead / cheapest other ({cheapest_arm}) = {ratio:.3f}   "
                  f"target <= 0.5   {'OK' if ratio <= 0.5 else 'MISSED'}")
    print("  spans recorded per arm: " + ", ".join(
        f"{arm}={int(r['spans'])}" for arm, r in results.items() if r is not None))

    print(f"\nimport otel_meta.auto: {measure_import():.1f} ms (median of 5 fresh interpreters)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--arm":
        print(json.dumps(measure_openai_arm(sys.argv[2])))
        sys.exit(0)
    sys.exit(main())
