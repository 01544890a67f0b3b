"""Runs over REST: out-of-order batches, pending runs, late outcomes, the JSON shape."""

from __future__ import annotations

import http.client
import json

from otel_meta import semconv as sc
from tests.analyzers.receiver import payloads as p
from tests.analyzers.receiver.test_bad_input import PROTOBUF, post

RUN_KEYS = {"trace_id", "agent", "outcome", "outcome_source", "prompt_version", "started_at", "duration_ms",
            "steps"}
STEP_KEYS = {"kind", "name", "ok", "duration_ms", "error_type"}


def get(server, path: str) -> tuple[int, object]:
    host, port = server.http_address
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("GET", path)
    resp = conn.getresponse()
    data = json.loads(resp.read())
    conn.close()
    return resp.status, data


def test_out_of_order_batches_make_a_pending_run_then_a_complete_one(server):
    trace_id = p.new_trace_id()
    tid = trace_id.hex()
    assert post(server, p.body(p.tool_span(trace_id, 4, "restart", 30)), PROTOBUF)[0] == 200
    assert post(server, p.body(p.tool_span(trace_id, 2, "get_pods", 10),
                               p.tool_span(trace_id, 3, "get_logs", 20)), PROTOBUF)[0] == 200
    status, run = get(server, f"/api/runs/{tid}")
    assert status == 200 and [s["name"] for s in run["steps"]] == ["get_pods", "get_logs", "restart"]
    assert get(server, "/api/runs")[1] == []
    assert [r["trace_id"] for r in get(server, "/api/runs?pending=1")[1]] == [tid]
    assert post(server, p.body(p.agent_span(trace_id, "sre", outcome="success")), PROTOBUF)[0] == 200
    [listed] = get(server, "/api/runs?agent=sre&limit=5")[1]
    assert set(listed) == RUN_KEYS and all(set(s) == STEP_KEYS for s in listed["steps"])
    assert (listed["agent"], listed["outcome"]) == ("sre", "success")
    assert [s["name"] for s in listed["steps"]] == ["get_pods", "get_logs", "restart"]
    assert post(server, p.body(p.tool_span(trace_id, 5, "verify", 40)), PROTOBUF)[0] == 200
    assert [s["name"] for s in get(server, f"/api/runs/{tid}")[1]["steps"]][-1] == "verify"


def test_late_outcome_sets_and_overrides_and_404s_for_unknown_traces(server, store):
    trace_id = p.new_trace_id()
    tid = trace_id.hex()
    assert post(server, p.body(p.agent_span(trace_id, outcome="success")), PROTOBUF)[0] == 200
    status, _, data = post(server, json.dumps({"success": False, "submission": "gave up"}).encode(),
                           {"Content-Type": "application/json"}, f"/api/runs/{tid}/outcome")
    assert status == 200 and json.loads(data)["outcome"] == "failure"
    assert get(server, f"/api/runs/{tid}")[1]["outcome"] == "failure"
    assert get(server, f"/api/runs/{tid}")[1]["outcome_source"] == "api"
    assert store.submission(tid) == "gave up"
    # A late span re-assembles the run; the override stays.
    assert post(server, p.body(p.tool_span(trace_id, 7, "ls", 3)), PROTOBUF)[0] == 200
    assert server.await_runs() and store.get_run(tid).outcome is False
    unknown = "ab" * 16
    status, _, data = post(server, b'{"success": true}', {"Content-Type": "application/json"},
                           f"/api/runs/{unknown}/outcome")
    assert status == 404 and unknown in json.loads(data)["error"]
    assert get(server, f"/api/runs/{unknown}")[0] == 404
    status, _, data = post(server, b'{"success": "yes"}', {"Content-Type": "application/json"},
                           f"/api/runs/{tid}/outcome")
    assert status == 400 and "success" in json.loads(data)["error"]
    assert get(server, "/api/runs?limit=zero")[0] == 400
    assert get(server, "/api/nothing-here")[0] == 404


def test_runs_cli_json_and_rest_give_the_same_documented_shape(server, store, tmp_path, capsys):
    from datetime import datetime

    from analyzers.cli import main

    trace_id = p.new_trace_id()
    tid = trace_id.hex()
    agent = p.agent_span(trace_id, "shape", outcome="failure")
    agent.attributes.append(p.kv(sc.OTEL_META_PROMPT_VERSION, "1.0.3"))
    failing = p.span(trace_id, 3, "execute_tool restart_pod", parent=1, start=9, status_code=2,
                     attrs={sc.GEN_AI_OPERATION_NAME: sc.OP_EXECUTE_TOOL, sc.GEN_AI_TOOL_NAME: "restart_pod",
                            sc.ERROR_TYPE: "PodNotFound"})
    assert post(server, p.body(agent, p.tool_span(trace_id, 2, "get_pods", 2), failing), PROTOBUF)[0] == 200
    assert server.await_runs()  # the CLI reads the file itself, beside the server: the run must be assembled
    assert main(["runs", "--db", str(tmp_path / "analyzer.db"), "--agent", "shape", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    rest = get(server, "/api/runs?agent=shape")[1]
    assert cli == rest == [get(server, f"/api/runs/{tid}")[1]]
    [run] = cli
    assert list(run) == ["trace_id", "agent", "outcome", "outcome_source", "prompt_version", "started_at",
                         "duration_ms", "steps"]
    assert (run["trace_id"], run["agent"], run["outcome"], run["prompt_version"]) == (tid, "shape", "failure", "1.0.3")
    assert datetime.fromisoformat(run["started_at"]).tzinfo is not None
    assert run["duration_ms"] == 5.0
    assert run["steps"] == [
        {"kind": "tool", "name": "get_pods", "ok": True, "duration_ms": 5.0, "error_type": None},
        {"kind": "tool", "name": "restart_pod", "ok": False, "duration_ms": 5.0, "error_type": "PodNotFound"},
    ]
