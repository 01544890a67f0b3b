"""The SRE agent is instrumented only by ``import otel_meta.auto`` and otel-meta's decorators.

No module of ``examples/sre_agent`` sets up OpenTelemetry itself (no SDK, exporter or processor, no
tracer of its own): where the spans go is the standard ``OTEL_*`` environment's business. The only
OpenTelemetry API the agent touches is the global provider's ``force_flush`` before it exits.
"""

from __future__ import annotations

import ast
from pathlib import Path

AGENT_DIR = Path(__file__).resolve().parents[2] / "examples" / "sre_agent"
OTEL_META_CALLS = {"tool", "thinking", "set_outcome", "agent", "ProblemContext", "load_prompt", "PromptVersion",
                   "PromptRollout"}


def _imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_only_otel_meta_auto_and_decorators_instrument_the_agent() -> None:
    trees = {path.name: ast.parse(path.read_text(encoding="utf-8")) for path in AGENT_DIR.glob("*.py")}
    assert {"agent.py", "__main__.py", "policy.py", "cluster.py"} <= set(trees)
    imports = {name: _imports(tree) for name, tree in trees.items()}
    assert {"otel_meta", "otel_meta.auto"} <= imports["agent.py"]
    for name, found in imports.items():
        otel = {i for i in found if i.split(".")[0] == "opentelemetry"}
        assert otel <= {"opentelemetry.trace"}, f"{name} sets up OpenTelemetry itself: {otel}"
        if name not in ("agent.py", "__main__.py"):
            assert not {i for i in found if i.split(".")[0] in ("otel_meta", "opentelemetry")}, name
    used = {node.attr for node in ast.walk(trees["agent.py"])
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "otel_meta"}
    assert used and used <= OTEL_META_CALLS, used
    otel_api = {node.attr for node in ast.walk(trees["__main__.py"])
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "trace"}
    assert otel_api == {"get_tracer_provider"}
