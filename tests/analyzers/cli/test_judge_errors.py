"""The LLM judge's connection error says where its URL is set, in one sentence (no "..")."""

from __future__ import annotations

import socket

import pytest

from analyzers.assessor import JudgeConfig, assess
from analyzers.errors import JudgeError


def test_an_unreachable_judge_names_every_place_its_url_comes_from() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago and is closed now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    judge = JudgeConfig(model="m", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0, timeout=5)
    with pytest.raises(JudgeError) as caught:
        assess({"thoughts": "Check the pods first, then the logs of the failing one."}, judge=judge, save=False)
    message = str(caught.value)
    assert f"LLM judge 'm' at http://127.0.0.1:{port}/v1 could not be reached (Connection error)" in message
    assert "--judge-base-url, judge_base_url in the config file, or OTEL_META_JUDGE_BASE_URL" in message
    assert ".." not in message
