"""Fixtures of the guideline writer's tests: a real git prompts repo in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzers.guidelines import GuidelineWriter, PromptsRepo
from tests.analyzers.guidelines.prompts_repo import BASE_PROMPT


@pytest.fixture
def repo(tmp_path: Path) -> PromptsRepo:
    """A fresh prompts repo with the agent ``diagnosis`` at version 1.0.0."""
    prompts = PromptsRepo.init(tmp_path / "prompts")
    GuidelineWriter(prompts).add_agent("diagnosis", BASE_PROMPT)
    return prompts
