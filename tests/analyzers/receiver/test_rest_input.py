"""REST bodies that are deep, of the wrong inner types or not Unicode get 400 with a message, never 500;
the meta-agent POST still answers when its verdict cannot be stored (as the seed does)."""

from __future__ import annotations

import json
import sqlite3

import pytest

from analyzers.receiver.otlp import decode_request
from tests.analyzers.receiver import payloads as p
from tests.analyzers.receiver.test_bad_input import post

JSON = {"Content-Type": "application/json"}
DEEP_ARRAYS = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECTS = b'{"a":' * 40_000 + b"1" + b"}" * 40_000  # under the fixture's 256 KiB body limit


@pytest.fixture
def stored_run(store) -> str:
    trace_id = p.new_trace_id()
    store.write_spans(decode_request(p.request(p.agent_span(trace_id), p.tool_span(trace_id, 2, "ls", 1))).spans)
    return trace_id.hex()


@pytest.mark.parametrize("body,needle", [
    (DEEP_ARRAYS, "nested deeper than"),
    (DEEP_OBJECTS, "nested deeper than"),
    (b'{"success": true, "submission": "\\ud800"}', "not valid Unicode"),
    (b'{"success": true, "submission": ["a"]}', "submission must be a string"),
    (b'{"success": "yes"}', "success is required"),
])
def test_bad_outcome_bodies_get_400(server, stored_run, body, needle):
    status, _, data = post(server, body, JSON, f"/api/runs/{stored_run}/outcome")
    assert status == 400 and needle in json.loads(data)["error"]


@pytest.mark.parametrize("path", ["/api/agents/meta-agent", "/api/runs/{tid}/assess"])
@pytest.mark.parametrize("body,needle", [
    (DEEP_ARRAYS, "nested deeper than"),
    (DEEP_OBJECTS, "nested deeper than"),
    (b'{"context": {}, "requestContext": {"requestId": "\\udfff"}}', "not valid Unicode"),
    (b'{"context": {}, "requestContext": ["requestId"]}', "request"),
])
def test_bad_assessment_bodies_get_400(server, stored_run, path, body, needle):
    status, _, data = post(server, body, JSON, path.format(tid=stored_run))
    assert status == 400 and needle in json.loads(data)["error"]


def test_meta_agent_post_answers_when_saving_the_assessment_fails(server, store, tmp_path):
    broken = sqlite3.connect(tmp_path / "analyzer.db")  # the fixture's store file
    broken.execute("DROP TABLE assessments")
    broken.commit()
    broken.close()
    body = {"context": {"thoughts": "check the pods, then the logs", "confidenceScore": 0.7},
            "requestContext": {"requestId": "req-unsaved"}}
    status, _, data = post(server, json.dumps(body).encode(), JSON, "/api/agents/meta-agent")
    assert status == 200
    verdict = json.loads(data)
    assert verdict["requestId"] == "req-unsaved" and 0.0 <= verdict["reasoningQuality"] <= 1.0
