"""Mining runs streamed from a store, in batches, finds exactly what mining the same runs in memory finds."""

from __future__ import annotations

from dataclasses import astuple, replace

import numpy as np
import pytest

from analyzers.mining import PatternMiner, encode_runs, mine_patterns, mine_store
from analyzers.mining.synthetic import planted_runs, task_runs
from analyzers.model import Run
from analyzers.store import open_store


def _with_digests(run: Run) -> Run:
    """Every tool call gets an arguments digest that repeats across calls and runs (as identical
    calls do), so repeated-call detection reads digests that came through the store."""
    steps = tuple(replace(s, args_digest=f"d{(j + len(run.steps)) % 3}") if s.kind == "tool" else s
                  for j, s in enumerate(run.steps))
    return replace(run, steps=steps)


def _runs() -> list[Run]:
    """Two agents: pooled planted effects, and tasks repeated (within-task tests), with digests and
    thinking steps, ordered as a store streams them (start time, trace id)."""
    runs = [*planted_runs(1300, seed=4), *map(_with_digests, task_runs(900, seed=2))]
    return sorted(runs, key=lambda r: (r.started_at_unix_nano, r.trace_id))


@pytest.fixture(params=["sqlite", "postgres"])
def filled_store_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    url = str(tmp_path / "s.db") if request.param == "sqlite" else str(request.getfixturevalue("postgres_url"))
    with open_store(url) as s:
        s.import_runs(_runs(), batch=500)  # type: ignore[attr-defined]
    return url


def test_streamed_mining_equals_in_memory_mining(filled_store_url: str) -> None:
    runs = _runs()
    with open_store(filled_store_url) as store:
        streamed = mine_store(store)
        assert [r.trace_id for r in store.iter_runs("planted-agent", batch=97)] == [
            r.trace_id for r in runs if r.agent == "planted-agent"]
    in_memory = [p for agent in ("planted-agent", "task-agent") for p in mine_patterns(list(runs), agent)]
    assert len(streamed) >= 15 and {p.agent for p in streamed} == {"planted-agent", "task-agent"}
    assert [p.id for p in streamed] == [p.id for p in in_memory]
    assert [astuple(p) for p in streamed] == [astuple(p) for p in in_memory]  # every figure, every evidence id


def test_encoding_a_stream_in_batches_equals_encoding_a_list(store) -> None:  # type: ignore[no-untyped-def]
    runs = [r for r in _runs() if r.agent == "task-agent"]
    store.import_runs(runs, batch=64)
    whole = encode_runs(runs)
    streamed = encode_runs(store.iter_runs("task-agent", batch=13))
    assert whole.n_runs == streamed.n_runs == 900 and whole.n_steps > 5000
    for name in ("outcome", "duration_ms", "think_count", "think_first", "think_chars", "offsets",
                 "step_tool", "step_ok", "step_duration_ms", "step_digest"):
        a, b = getattr(whole, name), getattr(streamed, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    assert (whole.tools, whole.trace_ids, whole.problem_ids) == (streamed.tools, streamed.trace_ids, streamed.problem_ids)
    assert whole.step_tool.dtype == np.int32 and whole.step_digest.dtype == np.int32
    assert (whole.step_digest > 0).all() and whole.think_count.sum() > 0
    miner = PatternMiner().fit(store.iter_runs("task-agent", batch=50))
    assert [p.id for p in miner.patterns_] == [p.id for p in PatternMiner().fit(whole).patterns_]


def test_trace_ids_are_kept_as_one_byte_string_and_read_back_as_str() -> None:
    from analyzers.mining._encoding import TraceIds

    runs = [Run(tid, "ag", True, 0, 1.0, ()) for tid in ("a" * 32, "ünïcode", "", "b1")]
    ids = encode_runs(runs).trace_ids
    assert isinstance(ids, TraceIds) and isinstance(ids[1], str)
    assert len(ids) == 4 and list(ids) == ["a" * 32, "ünïcode", "", "b1"] and ids == tuple(ids)
    assert (ids[-1], ids[1:3], ids[::-2]) == ("b1", ("ünïcode", ""), ("b1", "ünïcode"))
    assert ids != ("a" * 32,) and ids != "a" * 32 and ids == TraceIds.of(list(ids))
    with pytest.raises(IndexError, match="out of range for 4 runs"):
        ids[4]


@pytest.mark.parametrize("agent", ["planted-agent", "task-agent"])
def test_call_level_tests_in_small_blocks_find_exactly_what_one_block_finds(agent: str) -> None:
    enc = encode_runs(_runs(), agent)
    one = PatternMiner(agent=agent, block_rows=10**9).fit(enc)
    blocks = PatternMiner(agent=agent, block_rows=7).fit(enc)
    kinds = {p.kind for p in one.patterns_}
    assert "call_failures" in kinds and ("precondition" in kinds or agent == "planted-agent")
    assert one.n_tests_ == blocks.n_tests_
    assert [astuple(p) for p in blocks.patterns_] == [astuple(p) for p in one.patterns_]


def test_first_calls_hold_the_step_of_each_runs_first_call_of_each_tool() -> None:
    from analyzers.mining._conditions import first_calls

    enc = encode_runs(_runs(), "task-agent")
    first = first_calls(enc, 5).toarray()
    for r in range(0, enc.n_runs, 37):
        tools = enc.step_tool[enc.offsets[r] : enc.offsets[r + 1]]
        for t in range(len(enc.tools)):
            at = np.flatnonzero(tools == t)
            assert first[r, t] == (enc.offsets[r] + at[0] if at.shape[0] else 0)
