"""The travel agent every framework client runs: three tools, twelve plans, 36 runs.

Stdlib only: the framework clients import this module in their own venvs (``sys.path``), the test in
the main one. A plan is the sequence of model turns the loopback model plays back: each turn is the
tool calls the model requests at once (two in a turn run in parallel where the framework does that).
After the last turn the model answers with text; ``LLM_ERROR`` plans get an HTTP 400 on that request
instead, so the framework's run raises. Five plans make a tool raise (by their arguments).

Every run's first user message carries ``[plan NN run R]``: the stand-in model reads it to pick the
run's next turn, and counts the LLM requests each run made (the ground truth for LLM steps).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

AGENT_NAME = "travel_agent"
TOOLS = ("get_weather", "get_forecast", "book_hotel")
RUNS_PER_PLAN = 3
LLM_ERROR = "llm_error"
FINAL_TEXT = "Final Answer: the trip is planned."
TAG = re.compile(r"\[plan (\d\d) run (\d)\]")

Call = tuple[str, dict[str, Any]]

PLANS: tuple[tuple[tuple[Call, ...], ...], ...] = (
    ((("get_weather", {"city": "Paris"}),),),
    ((("get_weather", {"city": "Rome"}),), (("book_hotel", {"city": "Rome"}),)),
    ((("get_forecast", {"city": "Oslo", "days": 3}),),),
    ((("get_weather", {"city": "Atlantis"}),),),  # raises
    ((("get_weather", {"city": "Lima"}),), (("get_forecast", {"city": "Lima", "days": 10}),)),  # raises
    ((("get_weather", {"city": "Kyiv"}), ("get_forecast", {"city": "Kyiv", "days": 2})),),  # parallel
    ((("book_hotel", {"city": "Nowhere"}),),),  # raises
    ((("get_weather", {"city": "Cairo"}),), (("get_weather", {"city": "Cairo"}),),
     (("book_hotel", {"city": "Cairo"}),)),
    ((("get_weather", {"city": "Atlantis"}),), (("get_weather", {"city": "Athens"}),)),  # raises, recovers
    (),  # answers without tools
    ((("get_weather", {"city": "Bern"}),),),  # then the model request fails: the run raises
    ((("get_forecast", {"city": "Quito", "days": 9}), ("book_hotel", {"city": "Quito"})),),  # parallel, raises
)
#: Plans whose last model request answers HTTP 400 (the agent run raises).
ERROR_PLANS = frozenset({10})


def prompt(plan: int, run: int) -> str:
    return f"[plan {plan:02d} run {run}] Plan a trip and check the weather."


def runs() -> list[tuple[int, int]]:
    return [(p, r) for p in range(len(PLANS)) for r in range(RUNS_PER_PLAN)]


# --- the tools (they raise by their arguments) ---------------------------------------------------------

@dataclass
class Recorder:
    """What really ran: per run, the tools called in order with their ok flag.

    A tool is filed under the trace of the span it runs in, so a call that a framework cancelled but
    whose worker thread finished later still lands on its own run; without a span, under the run
    being played.
    """

    current: str | None = None
    tools: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, name: str, ok: bool) -> None:
        with self._lock:
            self.tools.setdefault(_current_trace() or self.current or "?", []).append((name, ok))

    def ran(self, key: str, traces: list[str]) -> list[tuple[str, bool]]:
        with self._lock:
            return [call for tid in [key, *traces] for call in self.tools.get(tid, [])]


def _current_trace() -> str | None:
    try:
        from opentelemetry import trace
    except ImportError:
        return None
    trace_id = trace.get_current_span().get_span_context().trace_id
    return format(trace_id, "032x") if trace_id else None


RECORDER = Recorder()


def _traced(name: str, body: Callable[..., str]) -> Callable[..., str]:
    def call(**kwargs: Any) -> str:
        try:
            result = body(**kwargs)
        except Exception:
            RECORDER.record(name, False)
            raise
        RECORDER.record(name, True)
        return result
    return call


def _weather(city: str) -> str:
    if city == "Atlantis":
        raise LookupError(f"unknown city {city}")
    return f"sunny in {city}"


def _forecast(city: str, days: int) -> str:
    if int(days) > 7:
        raise ValueError("forecasts reach 7 days at most")
    return f"{city}: dry for {days} days"


def _hotel(city: str) -> str:
    if city == "Nowhere":
        raise RuntimeError("no hotel found")
    return f"booked a hotel in {city}"


def get_weather(city: str) -> str:
    """Current weather in a city.

    Args:
        city: The city.
    """
    return _traced("get_weather", _weather)(city=city)


def get_forecast(city: str, days: int) -> str:
    """Weather forecast for a city, for a number of days.

    Args:
        city: The city.
        days: How many days ahead.
    """
    return _traced("get_forecast", _forecast)(city=city, days=days)


def book_hotel(city: str) -> str:
    """Book a hotel in a city.

    Args:
        city: The city.
    """
    return _traced("book_hotel", _hotel)(city=city)


TOOL_FUNCTIONS = (get_weather, get_forecast, book_hotel)
#: JSON schemas of the tools, for clients that declare them by hand.
TOOL_SCHEMAS: dict[str, dict[str, Any]] = {
    "get_weather": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    "get_forecast": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                     "required": ["city", "days"]},
    "book_hotel": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def run_all(run_one: Callable[[int, int], None], flush: Callable[[], None],
            trace_ids: Callable[[], list[str]]) -> None:
    """Run every plan ``RUNS_PER_PLAN`` times and print one JSON line of ground truth per run.

    ``trace_ids()`` returns (and forgets) the ids of the traces whose root spans started since the last
    call; ``run_one(plan, run)`` runs the agent once and may raise (recorded as ``raised``).
    """
    results = []
    for plan, run in runs():
        key = f"{plan:02d}-{run}"
        RECORDER.current = key
        raised = None
        try:
            run_one(plan, run)
        except Exception as exc:  # noqa: BLE001 - the run's own failure is what we record
            raised = type(exc).__name__
        results.append({"key": key, "plan": plan, "raised": raised, "traces": trace_ids()})
    flush()
    for line in results:
        print(json.dumps({**line, "tools": RECORDER.ran(line["key"], line["traces"])}))
