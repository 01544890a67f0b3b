from __future__ import annotations

import analyzers
from analyzers.assessor import JudgeConfig, assess
from analyzers.orchestrator import MetaAgent, MetaAgentConfig


def test_meta_agent_names_are_exported_from_analyzers() -> None:
    assert {"MetaAgent", "MetaAgentConfig", "assess", "JudgeConfig"} <= set(analyzers.__all__)
    assert analyzers.MetaAgent is MetaAgent and analyzers.MetaAgentConfig is MetaAgentConfig
    assert analyzers.assess is assess and analyzers.JudgeConfig is JudgeConfig


def test_meta_agent_config_has_the_seed_defaults() -> None:
    c = MetaAgentConfig()
    assert (c.learning_interval, c.min_traces_for_analysis, c.confidence_threshold, c.enable_auto_updates,
            c.backup_original_prompts) == (3600, 10, 0.7, True, True)
    assert (c.replan_threshold, c.deepen_threshold) == (0.4, 0.6)
