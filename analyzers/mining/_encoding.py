"""Compact integer encoding of runs: what the featurizer, the clusterer and the tests read.

``encode_runs`` consumes an iterable of ``Run`` objects exactly once (a store's ``iter_runs`` streams
them in batches) and keeps only flat numpy arrays of small dtypes: one entry per tool step and one per
run, buffered as Python objects a few thousand at a time; trace ids are kept as one byte string
(``TraceIds``), not a million ``str`` objects. A million runs of 22 steps take about 350 MB this way
(13 bytes a step, 70 a run), instead of the many gigabytes the ``Run`` objects themselves would need.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np

from analyzers.model import Run

logger = logging.getLogger(__name__)

#: Steps, and runs, buffered in Python lists before they are flushed into numpy chunks.
_FLUSH_STEPS = 1 << 16
_FLUSH_RUNS = 1 << 14


class TraceIds(Sequence[str]):
    """The runs' trace ids as one UTF-8 byte string and the end offset of each (a read-only sequence of
    ``str``, equal to any sequence of the same ids)."""

    __slots__ = ("_data", "_ends")

    def __init__(self, data: bytes, ends: np.ndarray) -> None:
        self._data = data
        self._ends = ends

    @classmethod
    def of(cls, ids: Iterable[str]) -> TraceIds:
        """The ``TraceIds`` of ``ids``."""
        parts = [i.encode("utf-8") for i in ids]
        return cls(b"".join(parts), np.cumsum([len(p) for p in parts], dtype=np.int64))

    def __len__(self) -> int:
        return int(self._ends.shape[0])

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> tuple[str, ...]: ...
    def __getitem__(self, i: int | slice) -> str | tuple[str, ...]:
        if isinstance(i, slice):
            return tuple(self[k] for k in range(*i.indices(len(self))))
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"trace id index {i} out of range for {n} runs")
        i %= n
        start = int(self._ends[i - 1]) if i else 0
        return self._data[start : int(self._ends[i])].decode("utf-8")

    def __iter__(self) -> Iterator[str]:
        start = 0
        data = self._data
        for end in self._ends.tolist():
            yield data[start:end].decode("utf-8")
            start = end

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TraceIds):
            return self._data == other._data and np.array_equal(self._ends, other._ends)
        return isinstance(other, Sequence) and not isinstance(other, str) and tuple(self) == tuple(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TraceIds({len(self)} runs)"


@dataclass(frozen=True, eq=False)
class EncodedRuns:
    """Runs with a known outcome, as flat arrays.

    Per run (length ``n_runs``): ``trace_ids`` (a ``TraceIds`` from ``encode_runs``), ``outcome``
    (1 success, 0 failure),
    ``duration_ms``, ``think_count`` (thinking steps), ``think_first`` (a thinking step came before
    the first tool step), ``think_chars`` (total reasoning length, 0 when unknown) and
    ``offsets`` (``n_runs + 1`` boundaries into the step arrays) and ``problem_ids`` (the task key,
    ``otel_meta.problem.id``, or ``None``; empty when unknown for every run); ``task_keys`` and
    ``task_key_sources`` (the fallback task key ``Run.task_key`` and its source; empty when unknown for
    every run).
    Per tool step (length ``n_steps``, in run order): ``step_tool`` (int32 index into ``tools``),
    ``step_ok``, ``step_duration_ms`` (float32) and ``step_digest`` (int32: within a run, the same number
    for the same arguments digest, 0 when the spans carried none; numbered per run, so that distinct
    digests across a million runs are never all held at once).
    """

    agent: str | None
    tools: tuple[str, ...]
    trace_ids: Sequence[str]
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

    def step_owner(self, steps: np.ndarray) -> np.ndarray:
        """The run index of each of the tool steps ``steps`` (``step_run()[steps]`` without it)."""
        return np.searchsorted(self.offsets, steps, side="right").astype(np.int64) - 1

    def tool_sequences(self) -> list[list[str]]:
        """Each run's tool names, in order (for small inputs and tests)."""
        names = self.tools
        return [
            [names[t] for t in self.step_tool[self.offsets[i] : self.offsets[i + 1]]]
            for i in range(self.n_runs)
        ]


class _Columns:
    """Columns appended to as Python lists and flushed into numpy chunks of fixed dtypes, so that
    only the last few thousand entries are ever Python objects."""

    def __init__(self, **dtypes: type) -> None:
        self._dtypes = dtypes
        self._chunks: list[list[np.ndarray]] = []
        self._start()

    def _start(self) -> None:
        for name in self._dtypes:
            setattr(self, name, [])

    def __len__(self) -> int:
        return len(getattr(self, next(iter(self._dtypes))))

    def flush(self) -> None:
        if not len(self):
            return
        self._chunks.append([np.asarray(getattr(self, name), dtype=dt) for name, dt in self._dtypes.items()])
        self._start()

    def arrays(self) -> list[np.ndarray]:
        """Every column as one array (the buffer is emptied)."""
        self.flush()
        chunks, self._chunks = self._chunks, []
        if not chunks:
            return [np.zeros(0, dt) for dt in self._dtypes.values()]
        return [np.concatenate(parts) for parts in zip(*chunks)]


def encode_runs(runs: Iterable[Run], agent: str | None = None) -> EncodedRuns:
    """Encode the runs of one agent whose outcome is known, consuming ``runs`` once.

    With ``agent`` given, runs of other agents are skipped; with ``agent=None`` every run must belong
    to the same agent (``ValueError`` otherwise). Runs with an unknown outcome are skipped.
    """
    vocab: dict[str, int] = {}
    digests: dict[str, int] = {}
    steps: Any = _Columns(tool=np.int32, ok=np.bool_, dur=np.float32, digest=np.int32)
    per_run: Any = _Columns(outcome=np.int8, duration=np.float64, think_count=np.int32,
                            think_first=np.bool_, think_chars=np.int64, offset=np.int64, id_end=np.int64)
    ids = bytearray()
    problem_ids: list[str | None] = []
    task_keys: list[str | None] = []
    task_key_sources: list[str | None] = []
    tasks: dict[str, str] = {}  # one str object per distinct task key, however many runs repeat it
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
        if digests:
            digests.clear()
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
        ids += run.trace_id.encode("utf-8")
        pid = run.problem_id
        problem_ids.append(None if pid is None else tasks.setdefault(pid, pid))
        key = run.task_key
        task_keys.append(None if key is None else tasks.setdefault(key, key))
        task_key_sources.append(run.task_key_source)
        per_run.outcome.append(1 if run.outcome else 0)
        per_run.duration.append(run.duration_ms)
        per_run.think_count.append(thinks)
        per_run.think_first.append(first)
        per_run.think_chars.append(chars)
        per_run.offset.append(n_steps)
        per_run.id_end.append(len(ids))
        if len(steps.tool) >= _FLUSH_STEPS:
            steps.flush()
        if len(per_run.offset) >= _FLUSH_RUNS:
            per_run.flush()
    if skipped:
        logger.debug("skipped %d runs without a known outcome", skipped)
    tool, ok, dur, digest = steps.arrays()
    outcome, duration, think_count, think_first, think_chars, ends, id_ends = per_run.arrays()
    return EncodedRuns(
        agent=seen_agent,
        tools=tuple(vocab),
        trace_ids=TraceIds(bytes(ids), id_ends),
        outcome=outcome,
        duration_ms=duration,
        think_count=think_count,
        think_first=think_first,
        think_chars=think_chars,
        offsets=np.concatenate([np.zeros(1, np.int64), ends]),
        step_tool=tool,
        step_ok=ok,
        step_duration_ms=dur,
        step_digest=digest,
        problem_ids=tuple(problem_ids) if any(p is not None for p in problem_ids) else (),
        task_keys=tuple(task_keys) if any(k is not None for k in task_keys) else (),
        task_key_sources=tuple(task_key_sources) if any(k is not None for k in task_keys) else (),
    )
