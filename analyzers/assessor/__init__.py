"""The reasoning judge (the seed's meta-agent assessor).

``assess(context, request_id=...)`` judges the seed's context (thoughts, plan, critique, confidence
score) or a stored run and returns an ``Assessment``. With a ``JudgeConfig`` that names a model and
an OpenAI-compatible base URL it asks that LLM; otherwise it uses the heuristic documented in
``analyzers.assessor.heuristic``.
"""

from __future__ import annotations

from analyzers.assessor.config import JudgeConfig
from analyzers.assessor.evidence import ReasoningContext, RunEvidence, neutralise
from analyzers.assessor.judge import AGENT_NAME, assess, complete_request_context
from analyzers.assessor.parsing import ParsedVerdict, parse_verdict

__all__ = [
    "AGENT_NAME",
    "JudgeConfig",
    "ParsedVerdict",
    "ReasoningContext",
    "RunEvidence",
    "assess",
    "complete_request_context",
    "neutralise",
    "parse_verdict",
]
