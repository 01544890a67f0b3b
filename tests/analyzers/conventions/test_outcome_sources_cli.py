"""``otel-meta runs`` shows where each run's outcome came from."""

from __future__ import annotations

from analyzers.assembly import RunAssembler
from analyzers.model import EvaluationRecord, SpanRecord
from analyzers.store.sqlite import SqliteStore
from otel_meta import semconv as sc
from tests.support.cli import cli


def agent(trace: str, outcome: str | None = None) -> SpanRecord:
    attrs = {sc.GEN_AI_OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.GEN_AI_AGENT_NAME: "triage"}
    if outcome:
        attrs[sc.OTEL_META_OUTCOME] = outcome
    return SpanRecord(trace, "1" * 16, None, "invoke_agent triage", 1, 10**9, 2 * 10**9, attrs)


def test_runs_lists_the_source_of_each_outcome(tmp_path, capsys):
    db = tmp_path / "runs.db"
    with SqliteStore(db) as store:
        store.write_spans([agent("1" * 32, "success"), agent("2" * 32), agent("3" * 32), agent("4" * 32)])
        assert store.set_outcome("2" * 32, False, "CI red")
        store.write_evaluations([EvaluationRecord("3" * 32, None, "task_success", None, "pass", None, 5, {})])
        RunAssembler(store).assemble_pending()
    code, out, _ = cli(capsys, "runs", "--db", str(db))
    assert code == 0 and out.splitlines()[0].split()[3:5] == ["OUTCOME", "FROM"]
    rows = {line.split()[0][0]: line.split()[2:4] for line in out.splitlines()[1:]}
    assert rows == {"1": ["success", "span"], "2": ["failure", "api"], "3": ["success", "evaluation"],
                    "4": ["-", "-"]}
