"""What grouping by ``gen_ai.conversation.id`` costs: the write path, and assembling conversations.

Three ratios, each against a baseline measured in the same run (the arms alternate ``--repeat`` times and
the best of each counts; fresh SQLite files, ``synchronous=NORMAL`` so the disk does not decide):

- **write, no ids**: ``write_spans`` of agent traces (5 spans each, no conversation id) with this code vs
  the code of ``--against`` (default ``c83da2a``, before the conversation index): the cost every write
  now pays (one index probe per written trace).
- **write, with ids**: the same traces when every span carries a conversation id vs without (index
  rows and generation bumps).
- **assembly**: ``--calls`` agent-less calls in conversations of ``--per-conversation`` calls, each call
  written and assembled as it arrives (what the receiver does), vs as many one-trace agent runs: the
  re-reading of a conversation's earlier calls at each new one (quadratic in the conversation's length).

    python benchmarks/conversations.py [--traces 4000] [--calls 2000] [--per-conversation 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

S = 10**9


def spans(traces: int, conversation: bool) -> list:
    from analyzers.model import SpanRecord
    from otel_meta import semconv as sc

    out = []
    for t in range(traces):
        tid = f"{t:032x}"
        conv = {sc.GEN_AI_CONVERSATION_ID: f"conv-{t // 10}"} if conversation else {}
        out.append(SpanRecord(tid, "1" * 16, None, "invoke_agent a", 1, t * S, t * S + S,
                              {sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: "a", **conv},
                              resource_attributes={sc.SERVICE_NAME: "svc"}))
        for i in range(2, 6):
            out.append(SpanRecord(tid, f"{i:016x}", "1" * 16, "chat m", 3, t * S + i, t * S + i + 1,
                                  {sc.GEN_AI_OPERATION_NAME: sc.OP_CHAT, sc.GEN_AI_REQUEST_MODEL: "m", **conv},
                                  resource_attributes={sc.SERVICE_NAME: "svc"}))
    return out


def time_writes(traces: int, conversation: bool) -> float:
    """Seconds to write the spans in requests of 50 traces (250 spans), as the receiver groups them."""
    from analyzers.store.sqlite import SqliteStore

    batch = spans(traces, conversation)
    with tempfile.TemporaryDirectory() as tmp, SqliteStore(Path(tmp) / "w.db", synchronous="NORMAL") as store:
        start = time.perf_counter()
        for i in range(0, len(batch), 250):
            store.write_spans(batch[i:i + 250])
        return time.perf_counter() - start


def time_assembly(calls: int, per_conversation: int | None) -> float:
    """Seconds to write and assemble ``calls`` traces one by one: agent-less calls in conversations of
    ``per_conversation`` (interleaved, as concurrent users make them), or agent runs when ``None``."""
    from analyzers.assembly import RunAssembler
    from analyzers.model import SpanRecord
    from analyzers.store.sqlite import SqliteStore
    from otel_meta import semconv as sc

    with tempfile.TemporaryDirectory() as tmp, SqliteStore(Path(tmp) / "a.db", synchronous="NORMAL") as store:
        assembler = RunAssembler(store)
        conversations = max(calls // (per_conversation or 1), 1)
        start = time.perf_counter()
        for n in range(calls):
            attrs = {sc.GEN_AI_OPERATION_NAME: sc.OP_CHAT, sc.GEN_AI_REQUEST_MODEL: "m"}
            if per_conversation is None:
                attrs = {sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: "a"}
            else:
                attrs[sc.GEN_AI_CONVERSATION_ID] = f"conv-{n % conversations}"
            store.write_spans([SpanRecord(f"{n:032x}", "1" * 16, None, "s", 1, n * S, n * S + 1, attrs,
                                          resource_attributes={sc.SERVICE_NAME: "svc"})])
            assembler.assemble_pending()
        elapsed = time.perf_counter() - start
        expected = conversations if per_conversation is not None else calls
        assert store.count_runs() == expected, (store.count_runs(), expected)
        return elapsed


def baseline_writes(tree: str, traces: int) -> float:
    """One write time of the store in ``tree`` (another revision's sources), in a subprocess."""
    code = (f"import sys; sys.path.insert(0, {tree!r}); sys.path.insert(1, {str(REPO / 'benchmarks')!r});"
            f"import conversations as b; print(b.time_writes({traces}, False))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=tree)
    return float(out.stdout.strip().splitlines()[-1])


def extract(rev: str, into: str) -> None:
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "analyzers", "otel_meta"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", into], input=archive, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=4000)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--per-conversation", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--against", default="c83da2a")
    args = parser.parse_args()
    times: dict[str, list[float]] = {"old": [], "plain": [], "with_ids": [], "runs": [], "grouped": []}
    with tempfile.TemporaryDirectory() as tree:
        extract(args.against, tree)
        for _ in range(args.repeat):  # the arms alternate, so a neighbour's burst hits them alike
            times["old"].append(baseline_writes(tree, args.traces))
            times["plain"].append(time_writes(args.traces, False))
            times["with_ids"].append(time_writes(args.traces, True))
            times["runs"].append(time_assembly(args.calls, None))
            times["grouped"].append(time_assembly(args.calls, args.per_conversation))
    old, plain, with_ids, runs, grouped = (min(times[k]) for k in ("old", "plain", "with_ids", "runs", "grouped"))
    spans_written = args.traces * 5
    print(json.dumps({
        "write_no_ids_spans_per_s": round(spans_written / plain), "write_no_ids_before_spans_per_s":
            round(spans_written / old), "write_no_ids_time_ratio_vs_before": round(plain / old, 3),
        "write_with_ids_time_ratio_vs_no_ids": round(with_ids / plain, 3),
        "assembly_calls": args.calls, "per_conversation": args.per_conversation,
        "assembly_agent_runs_s": round(runs, 3), "assembly_conversations_s": round(grouped, 3),
        "assembly_time_ratio_conversations_vs_agent_runs": round(grouped / runs, 3),
    }, indent=1))


if __name__ == "__main__":
    main()
