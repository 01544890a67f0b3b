"""Compact integer encoding of runs: what the featurizer, the clusterer and the tests read.

``encode_runs`` consumes an iterable of ``Run`` objects exactly once (a store's ``iter_runs`` streams
them) and keeps only flat numpy arrays: one entry per tool step and one per run. A million runs of
twenty steps take a few hundred megabytes this way, instead of the many gigabytes the ``Run`` objects
themselves would need.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from analyzers.model import Run

logger = logging.getLogger(__name__)

#: Steps buffered in Python lists before they are flushed into numpy chunks.
_FLUSH_STEPS = 1 << 16


@dataclass(frozen=True, eq=False)
class EncodedRuns:
    """Runs with a known outcome, as flat arrays.

    Per run (length ``n_runs``): ``trace_ids``, ``outcome`` (1 success, 0 failure),
    ``duration_ms``, ``think_count`` (thinking steps), ``think_first`` (a thinking step came before
    the first tool step), ``think_chars`` (total reasoning length, 0 when unknown) and
    ``offsets`` (``n_runs + 1`` boundaries into the step arrays) and ``problem_ids`` (the task key,
    ``otel_meta.problem.id``, or ``None``; empty when unknown for every run); ``task_keys`` and
    ``task_key_sources`` (the fallback task key ``Run.task_key`` and its source; empty when unknown for
    every run).
    Per tool step (length ``n_steps``, in run order): ``step_tool`` (index into ``tools``),
    ``step_ok``, ``step_duration_ms`` and ``step_digest`` (a hash of the arguments digest, 0 when the
    spans carried none).
    """

    agent: str | None
    tools: tuple[str, ...]
    trace_ids: tuple[str, ...]
    outcome: np.ndarray
    duration_ms: np.ndarray
    think_count: np.ndarray
    think_first: np.ndarray
    think_chars: np.ndarray
    offsets: np.ndarray
    step_tool: np.ndarray
    step_ok: np.ndarray
    step_duration_ms: np.ndarray
    step_digest: np.ndarray
    problem_ids: tuple[str | None, ...] = ()
    task_keys: tuple[str | None, ...] = ()
    task_key_sources: tuple[str | None, ...] = ()

    @property
    def n_runs(self) -> int:
        return len(self.trace_ids)

    @property
    def n_steps(self) -> int:
        return int(self.step_tool.shape[0])

    def step_run(self) -> np.ndarray:
        """The run index of every tool step."""
        return np.repeat(np.arange(self.n_runs, dtype=np.int64), np.diff(self.offsets))

    def tool_sequences(self) -> list[list[str]]:
        """Each run's tool names, in order (for small inputs and tests)."""
        names = self.tools
        return [
            [names[t] for t in self.step_tool[self.offsets[i] : self.offsets[i + 1]]]
            for i in range(self.n_runs)
        ]


class _StepBuffer:
    """Appends steps to Python lists and flushes them into numpy chunks to stay compact."""

    def __init__(self) -> None:
        self.tool: list[int] = []
        self.ok: list[bool] = []
        self.dur: list[float] = []
        self.digest: list[int] = []
        self.chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def flush(self) -> None:
        if not self.tool:
            return
        self.chunks.append(
            (
                np.asarray(self.tool, dtype=np.int32),
                np.asarray(self.ok, dtype=np.bool_),
                np.asarray(self.dur, dtype=np.float32),
                np.asarray(self.digest, dtype=np.int64),
            )
        )
        self.tool, self.ok, self.dur, self.digest = [], [], [], []

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        self.flush()
        if not self.chunks:
            return (
                np.zeros(0, np.int32),
                np.zeros(0, np.bool_),
                np.zeros(0, np.float32),
                np.zeros(0, np.int64),
            )
        parts = list(zip(*self.chunks))
        self.chunks = []
        return tuple(np.concatenate(p) for p in parts)  # type: ignore[return-value]


def encode_runs(runs: Iterable[Run], agent: str | None = None) -> EncodedRuns:
    """Encode the runs of one agent whose outcome is known, consuming ``runs`` once.

    With ``agent`` given, runs of other agents are skipped; with ``agent=None`` every run must belong
    to the same agent (``ValueError`` otherwise). Runs with an unknown outcome are skipped.
    """
    vocab: dict[str, int] = {}
    digests: dict[str, int] = {}
    steps = _StepBuffer()
    trace_ids: list[str] = []
    outcome: list[int] = []
    duration: list[float] = []
    think_count: list[int] = []
    think_first: list[bool] = []
    think_chars: list[int] = []
    offsets: list[int] = [0]
    problem_ids: list[str | None] = []
    task_keys: list[str | None] = []
    task_key_sources: list[str | None] = []
    n_steps = 0
    seen_agent = agent
    skipped = 0
    for run in runs:
        if run.outcome is None:
            skipped += 1
            continue
        if seen_agent is None:
            seen_agent = run.agent
        elif run.agent != seen_agent:
            if agent is not None:
                continue
            raise ValueError(
                f"runs of several agents ({seen_agent!r}, {run.agent!r}): mine one agent at a time "
                "(pass agent=...)"
            )
        thinks = 0
        chars = 0
        first = False
        tool_seen = False
        for step in run.steps:
            kind = step.kind
            if kind == "tool":
                tid = vocab.get(step.name)
                if tid is None:
                    tid = vocab[step.name] = len(vocab)
                steps.tool.append(tid)
                steps.ok.append(step.ok)
                steps.dur.append(step.duration_ms)
                dg = step.args_digest
                if dg is None:
                    steps.digest.append(0)
                else:
                    did = digests.get(dg)
                    if did is None:
                        did = digests[dg] = len(digests) + 1
                    steps.digest.append(did)
                n_steps += 1
                tool_seen = True
            elif kind == "thinking":
                thinks += 1
                if step.chars:
                    chars += step.chars
                if not tool_seen:
                    first = True
        trace_ids.append(run.trace_id)
        problem_ids.append(run.problem_id)
        task_keys.append(run.task_key)
        task_key_sources.append(run.task_key_source)
        outcome.append(1 if run.outcome else 0)
        duration.append(run.duration_ms)
        think_count.append(thinks)
        think_first.append(first)
        think_chars.append(chars)
        offsets.append(n_steps)
        if len(steps.tool) >= _FLUSH_STEPS:
            steps.flush()
    if skipped:
        logger.debug("skipped %d runs without a known outcome", skipped)
    tool, ok, dur, digest = steps.arrays()
    return EncodedRuns(
        agent=seen_agent,
        tools=tuple(vocab),
        trace_ids=tuple(trace_ids),
        outcome=np.asarray(outcome, dtype=np.int8),
        duration_ms=np.asarray(duration, dtype=np.float64),
        think_count=np.asarray(think_count, dtype=np.int32),
        think_first=np.asarray(think_first, dtype=np.bool_),
        think_chars=np.asarray(think_chars, dtype=np.int64),
        offsets=np.asarray(offsets, dtype=np.int64),
        step_tool=tool,
        step_ok=ok,
        step_duration_ms=dur,
        step_digest=digest,
        problem_ids=tuple(problem_ids) if any(p is not None for p in problem_ids) else (),
        task_keys=tuple(task_keys) if any(k is not None for k in task_keys) else (),
        task_key_sources=tuple(task_key_sources) if any(k is not None for k in task_keys) else (),
    )
