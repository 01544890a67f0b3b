"""Fixtures of the guideline writer's tests: a real git prompts repo in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from analyzers.guidelines import GuidelineWriter, PromptsRepo
from otel_meta import _runtime
from tests.analyzers.guidelines.prompts_repo import BASE_PROMPT


@pytest.fixture
def repo(tmp_path: Path) -> PromptsRepo:
    """A fresh prompts repo with the agent ``diagnosis`` at version 1.0.0."""
    prompts = PromptsRepo.init(tmp_path / "prompts")
    GuidelineWriter(prompts).add_agent("diagnosis", BASE_PROMPT)
    return prompts


@pytest.fixture(autouse=True)
def _forget_active_prompt() -> Iterator[None]:
    """``load_prompt`` (called by some of these tests) stamps a process-wide prompt version on the agent
    runs that follow: forget it, so no later test in this worker records runs under it."""
    yield
    _runtime.STATE.prompts.clear()
    _runtime._context_prompts.set(None)
