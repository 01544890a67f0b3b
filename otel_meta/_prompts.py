"""Loading an agent's prompt from the git prompts repo (DESIGN.md §1 Prompts).

``PromptVersion`` is the value ``otel_meta.load_prompt`` returns. The loader itself is built with the
guideline writer (it reads ``<agent>.yaml`` through git at a ref, renders base prompt + learned
guidelines, and stamps the version on the agent spans that follow).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PromptVersion:
    """An agent's prompt at one version: the rendered ``text``, its semver ``version`` (no leading
    "v") and the git ``commit`` it was read from."""

    agent: str
    text: str
    version: str
    commit: str
