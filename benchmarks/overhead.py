"""Per-call cost of otel-meta's instrumentation, as ratios against baselines measured in the same run.

(a) a bare OTel SDK span with the same attributes as (b), (b) a call through ``@otel_meta.tool``;
(c) an openai chat call, uninstrumented and instrumented by otel-meta; (d) the same call under each
installed third-party openai instrumentation; and the import time of ``import otel_meta.auto``.

How the openai arms are kept comparable:
- every arm gets the same SDK set-up, in two configurations, each printed with its own ratios:
  "strict": a fresh ``TracerProvider`` with a ``SimpleSpanProcessor`` and an exporter that drops spans;
  no meter or logger provider (so openai-v2's metrics and log events are the API's no-ops, its cheapest
  set-up). "deployed": the same tracer provider, plus what ``opentelemetry-instrument`` always sets up
  in a process (``opentelemetry.sdk._configuration._init_metrics`` / ``_init_logging``): a global SDK
  ``MeterProvider`` (here with an ``InMemoryMetricReader``) and a global SDK ``LoggerProvider`` (here
  a ``SimpleLogRecordProcessor`` with an exporter that drops records). There openai-v2 records its GenAI
  metrics (operation duration, token usage), as it does in production (its log events are emitted only
  when its content capture asks for events, so not at its default); the other arms get the same providers;
- each arm runs in its own subprocess (patches never stack) and measures its own uninstrumented
  baseline there: rounds alternate without/with instrumentation (ABBA order), and the overhead is the
  median of the paired per-round differences;
- the subprocesses run in interleaved passes (arm 1, 2, 3, arm 1, 2, 3, ...) and each figure is the
  median over passes;
- content capture: otel-meta and openai-v2 capture no content by default; openinference captures
  inputs and outputs by default, so it is measured twice, at its default and with its
  ``OPENINFERENCE_HIDE_*`` switches for message content on ("capture off");
- two transports: the loopback stand-in HTTP server on 127.0.0.1, and an in-process
  ``httpx.MockTransport`` (a real httpx transport object answering the recorded response bytes), which
  takes socket jitter out;
- two clocks: wall time, and the CPU time of the calling thread (``time.thread_time``), which does not
  count time the process spends descheduled on a busy machine. The CPU figure over the in-process
  transport is the least noisy one and is the one the target is judged on; all are printed.

Targets: (b)/(a) <= 1.15; otel-meta's openai overhead <= half of the cheapest other's.
Run: ``.venv/bin/python benchmarks/overhead.py [--config=strict|--config=deployed] [ARM ...]`` (``make
bench`` runs every benchmark; naming arms, e.g. ``otel-meta openai-v2``, measures only those; both
configurations by default).
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

OURS = "otel-meta"
#: Not an instrumentation: a wrapt wrapper that starts one SDK span with the three attributes known at
#: call time, makes it current, calls the original and ends the span. What any instrumentation pays.
FLOOR = "floor: bare SDK span in a wrapper"
#: The floor plus the span contract's response attributes (constant values of the same types): what
#: any instrumentation that records this contract pays, before reading a single field.
CONTRACT_FLOOR = "floor + contract's response attributes"
REFERENCES = (FLOOR, CONTRACT_FLOOR)
_HIDE_CONTENT = {f"OPENINFERENCE_HIDE_{name}": "true" for name in (
    "INPUTS", "OUTPUTS", "INPUT_MESSAGES", "OUTPUT_MESSAGES", "INPUT_TEXT", "OUTPUT_TEXT", "PROMPTS",
    "CHOICES")}
#: traceloop-sdk's pins cannot be resolved together with the main venv's (see
#: tests/analyzers/conventions/envs.py); its arm runs in that venv when it exists (same openai,
#: httpx, pydantic, wrapt and opentelemetry-sdk versions).
TRACELOOP_PYTHON = REPO / ".venv-traceloop" / "bin" / "python"
#: arm -> (module that must be importable, extra environment, interpreter)
ARMS: dict[str, tuple[str, dict[str, str], Path]] = {
    FLOOR: ("wrapt", {}, Path(sys.executable)),
    CONTRACT_FLOOR: ("wrapt", {}, Path(sys.executable)),
    "otel-meta": ("otel_meta", {}, Path(sys.executable)),
    "openai-v2": ("opentelemetry.instrumentation.openai_v2", {}, Path(sys.executable)),
    "openinference (default: capture on)": ("openinference.instrumentation.openai", {}, Path(sys.executable)),
    "openinference (capture off)": ("openinference.instrumentation.openai", _HIDE_CONTENT, Path(sys.executable)),
    "traceloop-sdk (default: capture on)": ("traceloop.sdk", {}, TRACELOOP_PYTHON),
    "traceloop-sdk (capture off)": ("traceloop.sdk", {"TRACELOOP_TRACE_CONTENT": "false"}, TRACELOOP_PYTHON),
}
STRICT, DEPLOYED = "strict", "deployed"
CONFIGS = {
    STRICT: "strict: TracerProvider only (no meter or logger provider)",
    DEPLOYED: "as deployed by `opentelemetry-instrument`: TracerProvider + SDK MeterProvider + SDK LoggerProvider",
}
PASSES = 3
SPAN_ROUNDS = 15
MODES = ("loopback", "transport")
CLOCKS = ("cpu", "wall")


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


class _Telemetry:
    """The SDK set-up of one measured process, and what reached its exporters/readers."""

    def __init__(self, config: str) -> None:
        self.provider, self._spans = _provider()
        self._reader: Any = None
        self._logs: Any = None
        if config == DEPLOYED:
            self._reader, self._logs = _meter_and_logger_providers()

    def counts(self) -> dict[str, Any]:
        """Spans, log records and the metric names recorded so far."""
        metrics: list[str] = []
        if self._reader is not None:
            data = self._reader.get_metrics_data()
            for resource in data.resource_metrics if data is not None else ():
                for scope in resource.scope_metrics:
                    metrics.extend(metric.name for metric in scope.metrics)
        return {"spans": self._spans.count, "logs": self._logs.count if self._logs is not None else 0,
                "metrics": sorted(set(metrics))}


def _meter_and_logger_providers() -> tuple[Any, Any]:
    """Install global SDK meter and logger providers, as ``opentelemetry-instrument`` does."""
    from opentelemetry import _logs, metrics
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import (
        LogRecordExporter,
        LogRecordExportResult,
        SimpleLogRecordProcessor,
    )
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    class NullLogExporter(LogRecordExporter):
        def __init__(self) -> None:
            self.count = 0

        def export(self, batch: Sequence[Any]) -> LogRecordExportResult:
            self.count += len(batch)
            return LogRecordExportResult.SUCCESS

        def shutdown(self) -> None:
            return None

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return True

    reader = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    exporter = NullLogExporter()
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    _logs.set_logger_provider(logger_provider)
    return reader, exporter


def _per_call_us(fn: Callable[[], Any], calls: int) -> tuple[float, float]:
    """(CPU µs of this thread, wall µs) per call of ``fn``."""
    cpu, wall = time.thread_time(), time.perf_counter()
    for _ in range(calls):
        fn()
    return ((time.thread_time() - cpu) / calls * 1e6, (time.perf_counter() - wall) / calls * 1e6)


def measure_spans() -> dict[str, float]:
    """(a) and (b): a bare SDK span vs. the same span through @otel_meta.tool (CPU µs/call)."""
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
    arms = {"plain": body, "a": bare, "b": traced}
    samples: dict[str, list[float]] = {name: [] for name in arms}
    try:
        for index in range(SPAN_ROUNDS):
            order = list(arms) if index % 2 == 0 else list(reversed(arms))
            for name in order:
                samples[name].append(_per_call_us(arms[name], 5000)[0])
    finally:
        otel_meta.uninstrument()
    return {name: statistics.median(values) for name, values in samples.items()}


def _instrument(arm: str, provider: Any) -> None:
    """Turn on ``arm``'s openai instrumentation with ``provider``."""
    if arm == OURS:
        import otel_meta

        otel_meta.instrument(tracer_provider=provider)
    elif arm in REFERENCES:
        _instrument_floor(provider, with_result=arm == CONTRACT_FLOOR)
    elif arm == "openai-v2":
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor as OpenAIV2

        OpenAIV2().instrument(tracer_provider=provider, skip_dep_check=True)
    elif arm.startswith("openinference"):
        from openinference.instrumentation.openai import OpenAIInstrumentor as OpenInference

        OpenInference().instrument(tracer_provider=provider, skip_dep_check=True)
    else:
        # traceloop-sdk's Traceloop.init() would build its own provider and batch processor; its OpenAI
        # instrumentor (OpenLLMetry's) is used directly so that it shares this arm's SDK set-up.
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor as Traceloop

        Traceloop().instrument(tracer_provider=provider, skip_dep_check=True)


def _instrument_floor(provider: Any, *, with_result: bool) -> None:
    import wrapt
    from openai.resources.chat.completions.completions import Completions
    from opentelemetry import context, trace
    from opentelemetry.trace import SpanKind

    from otel_meta import semconv as sc

    tracer = provider.get_tracer("floor")
    result = {sc.OTEL_META_RESPONSE_TOOL_CALLS: ("get_pods",), sc.OTEL_META_RESPONSE_TOOL_CALL_IDS: ("call_1",),
              sc.OTEL_META_REASONING_CHARS: 0, sc.GEN_AI_RESPONSE_MODEL: "gpt-4o-mini-2024-07-18",
              sc.GEN_AI_RESPONSE_ID: "chatcmpl-standin", sc.GEN_AI_USAGE_INPUT_TOKENS: 12,
              sc.GEN_AI_USAGE_OUTPUT_TOKENS: 7, sc.GEN_AI_RESPONSE_FINISH_REASONS: ("tool_calls",)}

    def traced(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        model = kwargs.get("model")
        span = tracer.start_span(f"chat {model}", kind=SpanKind.CLIENT, attributes={
            sc.GEN_AI_OPERATION_NAME: sc.OP_CHAT, sc.GEN_AI_PROVIDER_NAME: sc.PROVIDER_OPENAI,
            sc.GEN_AI_REQUEST_MODEL: model})
        token = context.attach(trace.set_span_in_context(span))
        try:
            response = wrapped(*args, **kwargs)
            if with_result:
                span.set_attributes(dict(result))
            return response
        finally:
            context.detach(token)
            span.end()

    wrapt.wrap_function_wrapper(Completions, "create", traced)


_ABSENT = object()


def _openai_members() -> dict[tuple[type, str], Any]:
    """Every (class, attribute) -> value of the classes in the loaded ``openai`` modules."""
    members: dict[tuple[type, str], Any] = {}
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "openai" or name.startswith("openai.")):
            continue
        for value in list(vars(module).values()):
            if isinstance(value, type) and value.__module__.startswith("openai"):
                for attribute, member in list(vars(value).items()):
                    members[(value, attribute)] = member
    return members


def _switch(arm: str, provider: Any) -> tuple[Callable[[], None], Callable[[], None], int]:
    """(on, off, number of patched attributes): the arm's patches, put in and taken out.

    The same switch for every arm: the instrumentor patches once, and the switch swaps the class
    attributes it changed between the patched and the original values. (Instrumentors' own
    ``uninstrument`` is not used: opentelemetry-instrumentation-openai 0.62.4, traceloop's, leaves its
    patches in place, so instrumenting again would stack them.)
    """
    import importlib
    import pkgutil

    import openai.resources

    for info in pkgutil.walk_packages(openai.resources.__path__, "openai.resources."):
        importlib.import_module(info.name)
    before = _openai_members()
    classes = {owner for owner, _ in before}
    _instrument(arm, provider)
    after = _openai_members()
    changed = [(owner, attribute, before.get((owner, attribute), _ABSENT), value)
               for (owner, attribute), value in after.items()
               if owner in classes and before.get((owner, attribute), _ABSENT) is not value]

    def put(patched: bool) -> None:
        for owner, attribute, original, value in changed:
            chosen = value if patched else original
            if chosen is _ABSENT:
                if attribute in vars(owner):
                    delattr(owner, attribute)
            else:
                setattr(owner, attribute, chosen)

    return (lambda: put(True)), (lambda: put(False)), len(changed)


def measure_openai_arm(arm: str, config: str) -> dict[str, Any]:
    """(c)/(d) in this process: one instrumentation, with and without, in alternating rounds."""
    import httpx2
    import openai

    from tests.support.openai_server import JsonReply, OpenAIStandIn, chat_completion

    telemetry = _Telemetry(config)
    on, off, patched = _switch(arm, telemetry.provider)
    off()
    body = chat_completion("The checkout service is slow because of the database.",
                           tool_calls=[("call_1", "get_pods", '{"namespace": "shop"}')])
    messages = [{"role": "system", "content": "You diagnose incidents."},
                {"role": "user", "content": "Why is checkout slow?"}]
    result: dict[str, Any] = {"patched": patched}
    with OpenAIStandIn() as server:
        server.default = JsonReply(body)
        loopback = openai.OpenAI(base_url=server.base_url, api_key="bench", max_retries=0)
        result["loopback"] = _paired(loopback, messages, on, off, calls=40, rounds=16)
        loopback.close()
    payload = json.dumps(body).encode()
    transport = httpx2.MockTransport(lambda request: httpx2.Response(
        200, content=payload, headers={"content-type": "application/json"}))
    in_process = openai.OpenAI(base_url="http://bench.invalid/v1", api_key="bench", max_retries=0,
                               http_client=httpx2.Client(transport=transport))
    result["transport"] = _paired(in_process, messages, on, off, calls=100, rounds=24)
    in_process.close()
    off()
    result.update(telemetry.counts())
    return result


def _paired(client: Any, messages: Any, on: Callable[[], None], off: Callable[[], None], *, calls: int,
            rounds: int) -> dict[str, dict[str, float]]:
    def call() -> Any:
        return client.chat.completions.create(model="gpt-4o-mini", messages=messages)

    for switch in (off, on):  # warm both paths
        switch()
        for _ in range(20):
            call()
    samples: dict[str, list[tuple[float, float]]] = {"off": [], "on": []}
    for index in range(rounds):
        order = (("off", off), ("on", on)) if index % 2 == 0 else (("on", on), ("off", off))
        for name, switch in order:
            switch()
            samples[name].append(_per_call_us(call, calls))
    figures: dict[str, dict[str, float]] = {}
    for position, clock in enumerate(CLOCKS):
        base = [s[position] for s in samples["off"]]
        instrumented = [s[position] for s in samples["on"]]
        figures[clock] = {
            "uninstrumented": statistics.median(base),
            "instrumented": statistics.median(instrumented),
            "overhead": statistics.median(i - u for u, i in zip(base, instrumented)),
        }
    return figures


def _available(module: str, python: Path) -> bool:
    if not python.exists():
        return False
    script = (f"import importlib.util, sys; "
              f"sys.exit(0 if importlib.util.find_spec({module!r}.split('.')[0]) and "
              f"importlib.util.find_spec({module!r}) else 1)")
    probe = subprocess.run([str(python), "-c", script], cwd=REPO, check=False)
    return probe.returncode == 0


def _run_arm(arm: str, config: str) -> dict[str, Any]:
    _, extra, python = ARMS[arm]
    env = _env()
    env.update(extra)
    out = subprocess.run([str(python), __file__, "--arm", arm, config], cwd=REPO, check=True,
                         capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _env() -> dict[str, str]:
    """The environment without OTEL_*/OPENINFERENCE_* settings: every arm at its own defaults."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "OPENINFERENCE_", "TRACELOOP_"))}
    env["OTEL_META_STRICT"] = "0"
    return env


def measure_import() -> float:
    """Milliseconds for ``import otel_meta.auto`` in a fresh interpreter (median of 5)."""
    script = ("import time; t = time.perf_counter(); import otel_meta.auto; "
              "print((time.perf_counter() - t) * 1000)")
    times = [float(subprocess.run([sys.executable, "-c", script], cwd=REPO, check=True, capture_output=True,
                                  text=True, env=_env()).stdout) for _ in range(5)]
    return statistics.median(times)


def _median_over_passes(runs: list[dict[str, Any]], mode: str, clock: str, key: str) -> float:
    return statistics.median(run[mode][clock][key] for run in runs)


def _report(config: str, arms: list[str], runs: dict[str, list[dict[str, Any]]]) -> str:
    """Print one configuration's figures and ratios; return its verdict line on [transport, cpu]."""
    print(f"\n  === configuration: {CONFIGS[config]} ===")
    verdict = ""
    for mode in MODES:
        for clock in CLOCKS:
            print(f"  [{config}, {mode}, {clock}]")
            overheads = {arm: _median_over_passes(runs[arm], mode, clock, "overhead") for arm in arms}
            for arm in arms:
                print(f"    {arm:38s} uninstrumented {_median_over_passes(runs[arm], mode, clock, 'uninstrumented'):8.1f}"
                      f"  instrumented {_median_over_passes(runs[arm], mode, clock, 'instrumented'):8.1f}"
                      f"  overhead {overheads[arm]:7.1f}")
            others = {arm: value for arm, value in overheads.items() if arm != OURS and arm not in REFERENCES}
            if OURS in overheads and others:
                cheapest = min(others, key=lambda a: others[a])
                ratio = overheads[OURS] / others[cheapest] if others[cheapest] > 0 else float("inf")
                line = (f"otel-meta overhead / cheapest other ({cheapest}) = {ratio:.3f}   target <= 0.5   "
                        f"{'OK' if ratio <= 0.5 else 'MISSED'}")
                print(f"    {line}")
                for reference in REFERENCES:
                    if reference in overheads:
                        print(f"    {reference} / {cheapest} = {overheads[reference] / others[cheapest]:.3f};"
                              f"  otel-meta minus it = {overheads[OURS] - overheads[reference]:.1f} µs")
                if (mode, clock) == ("transport", "cpu"):
                    verdict = line
    print("  spans recorded per arm and pass (attributes patched): " + "; ".join(
        f"{arm}={[int(r['spans']) for r in runs[arm]]} ({runs[arm][0]['patched']})" for arm in arms))
    if config == DEPLOYED:
        print("  log records and metric names recorded (first pass): " + "; ".join(
            f"{arm}: {runs[arm][0]['logs']} logs, metrics {runs[arm][0]['metrics'] or 'none'}" for arm in arms))
    if verdict:
        print(f"  [{config}] judged on [transport, cpu]: {verdict}")
    return verdict


def main() -> int:
    spans = measure_spans()
    print(f"(a)/(b) span cost, CPU µs/call (median of {SPAN_ROUNDS} interleaved rounds of 5000 calls)")
    print(f"  plain function call              {spans['plain']:8.2f}")
    print(f"  (a) bare OTel SDK span           {spans['a']:8.2f}")
    print(f"  (b) @otel_meta.tool              {spans['b']:8.2f}")
    ratio_ba = spans["b"] / spans["a"]
    print(f"  (b)/(a) = {ratio_ba:.3f}   target <= 1.15   {'OK' if ratio_ba <= 1.15 else 'MISSED'}")

    configs = [a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--config=")] or list(CONFIGS)
    wanted = [a for a in sys.argv[1:] if not a.startswith("--")] or list(ARMS)
    arms = [arm for arm, (module, _, python) in ARMS.items() if arm in wanted and _available(module, python)]
    missing = [arm for arm in wanted if arm not in arms]
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {c: {arm: [] for arm in arms} for c in configs}
    for _ in range(PASSES):
        for config in configs:
            for arm in arms:
                runs[config][arm].append(_run_arm(arm, config))
    print(f"\n(c)/(d) openai chat.completions.create, µs/call; each arm in its own process, median over {PASSES}")
    print("    interleaved passes of the median paired (uninstrumented, instrumented) round difference.")
    print("    Same SDK set-up for all arms within a configuration: TracerProvider + SimpleSpanProcessor + a")
    print("    dropping exporter; \"deployed\" adds a global SDK MeterProvider (InMemoryMetricReader) and")
    print("    LoggerProvider (SimpleLogRecordProcessor + a dropping exporter), as opentelemetry-instrument has.")
    print("    otel-meta and openai-v2 run at their default (no content capture); openinference at its")
    print("    default (captures inputs/outputs) and with OPENINFERENCE_HIDE_* for message content; traceloop")
    print("    (its OpenAI instrumentor, in .venv-traceloop) at its default and with TRACELOOP_TRACE_CONTENT=false.")
    for name in missing:
        print(f"  {name}: not installed in this environment")
    verdicts = {config: _report(config, arms, runs[config]) for config in configs}
    print()
    for config, verdict in verdicts.items():
        if verdict:
            print(f"judged on [transport, cpu], {config}: {verdict}")

    print(f"\nimport otel_meta.auto: {measure_import():.1f} ms (median of 5 fresh interpreters)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--arm":
        print(json.dumps(measure_openai_arm(sys.argv[2], sys.argv[3])))
        sys.exit(0)
    sys.exit(main())
