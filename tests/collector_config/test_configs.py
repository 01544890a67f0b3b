"""The Collector configs in ``collector_config/`` parse and hang together (no collector binary here).

``check_config`` applies the rules the Collector itself enforces at start-up (every component a
pipeline names is defined, every pipeline has receivers and exporters, component ids are ``type`` or
``type/name``) plus the house rules of STYLE.md (memory_limiter first, batch last, receivers on
localhost, settings from ``${env:VAR}``). The negative tests break a loaded config one rule at a time
and check the rule catches it, so a green run means the checks are live.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from otel_meta import semconv

CONFIG_DIR = Path(__file__).resolve().parents[2] / "collector_config"
SECTIONS = ("extensions", "receivers", "processors", "exporters", "connectors")
KNOWN_TYPES = {
    "extensions": {"health_check", "pprof", "zpages", "bearertokenauth"},
    "receivers": {"otlp"},
    "processors": {"memory_limiter", "batch", "filter", "attributes", "resource", "transform"},
    "exporters": {"otlp", "otlphttp", "loadbalancing", "debug"},
    "connectors": set(),
}
COMPONENT_ID = re.compile(r"^([a-z][a-z0-9_]*)(?:/[A-Za-z0-9_.-]+)?$")
PIPELINE_ID = re.compile(r"^(traces|metrics|logs)(?:/[A-Za-z0-9_.-]+)?$")
ENV_REF = re.compile(r"\$\{env:([A-Z_][A-Z0-9_]*)(?::-[^}]*)?\}")
ANY_DOLLAR_BRACE = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_]")
NIL_CLAUSE = re.compile(r'^attributes\["([^"]+)"\] == nil$')


def load(name: str) -> dict[str, Any]:
    with (CONFIG_DIR / name).open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict), f"{name}: top level must be a mapping"
    return data


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return []


def check_config(cfg: dict[str, Any]) -> list[str]:
    """Every problem found in a Collector config, as readable messages (empty when it is sound)."""
    problems: list[str] = []
    unknown = set(cfg) - set(SECTIONS) - {"service"}
    if unknown:
        problems.append(f"unknown top-level sections {sorted(unknown)}")
    for section in SECTIONS:
        for cid in cfg.get(section) or {}:
            match = COMPONENT_ID.match(cid)
            if not match:
                problems.append(f"{section}: id {cid!r} is not type or type/name")
            elif match.group(1) not in KNOWN_TYPES[section]:
                problems.append(f"{section}: unknown component type {match.group(1)!r}")
    service = cfg.get("service") or {}
    used: dict[str, set[str]] = {section: set() for section in SECTIONS}
    for ext in service.get("extensions") or []:
        used["extensions"].add(ext)
        if ext not in (cfg.get("extensions") or {}):
            problems.append(f"service.extensions: {ext!r} is not defined")
    pipelines = service.get("pipelines") or {}
    if not pipelines:
        problems.append("service.pipelines is empty")
    for pid, pipeline in pipelines.items():
        if not PIPELINE_ID.match(pid):
            problems.append(f"pipeline {pid!r}: name must be traces|metrics|logs[/name]")
        pipeline = pipeline or {}
        for section in ("receivers", "exporters"):
            if not pipeline.get(section):
                problems.append(f"pipeline {pid!r}: no {section}")
        for section in ("receivers", "processors", "exporters"):
            for cid in pipeline.get(section) or []:
                used[section].add(cid)
                if cid not in (cfg.get(section) or {}):
                    problems.append(f"pipeline {pid!r}: {section[:-1]} {cid!r} is not defined")
        processors = [p.split("/")[0] for p in pipeline.get("processors") or []]
        if "memory_limiter" not in processors or processors[0] != "memory_limiter":
            problems.append(f"pipeline {pid!r}: memory_limiter must be the first processor")
        if "batch" not in processors or processors[-1] != "batch":
            problems.append(f"pipeline {pid!r}: batch must be the last processor")
    for section in SECTIONS:
        for cid in set(cfg.get(section) or {}) - used[section]:
            problems.append(f"{section}: {cid!r} is defined but no pipeline uses it")
    for cid, receiver in (cfg.get("receivers") or {}).items():
        for protocol, settings in ((receiver or {}).get("protocols") or {}).items():
            endpoint = str((settings or {}).get("endpoint", ""))
            if not endpoint.startswith(("localhost:", "127.0.0.1:")):
                problems.append(f"receiver {cid} {protocol}: endpoint {endpoint!r} is not on localhost")
    for text in _strings(cfg):
        for ref in ANY_DOLLAR_BRACE.findall(text):
            if not ENV_REF.fullmatch(ref):
                problems.append(f"setting {text!r}: use ${{env:VAR}} (found {ref!r})")
    return problems


def span_dropped(condition: str, attributes: dict[str, str]) -> bool:
    """Evaluate our filter's condition shape: a conjunction of ``attributes["k"] == nil`` clauses."""
    clauses = [c.strip() for c in " ".join(condition.split()).split(" and ")]
    names = []
    for clause in clauses:
        match = NIL_CLAUSE.match(clause)
        assert match, f"unexpected filter clause {clause!r}"
        names.append(match.group(1))
    return all(name not in attributes for name in names)


@pytest.mark.parametrize("name", ["tee.yaml", "loadbalancing.yaml"])
def test_config_is_complete_and_follows_house_rules(name: str) -> None:
    assert check_config(load(name)) == []


@pytest.mark.parametrize("name", ["tee.yaml", "loadbalancing.yaml"])
def test_genai_filter_keeps_only_genai_spans(name: str) -> None:
    cfg = load(name)
    conditions = cfg["processors"]["filter/genai-only"]["traces"]["span"]
    assert len(conditions) == 1
    condition = conditions[0]
    markers = {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_INVOKE_AGENT,
        semconv.OPENINFERENCE_SPAN_KIND: semconv.OPENINFERENCE_KIND_TOOL,
        semconv.TRACELOOP_SPAN_KIND: semconv.TRACELOOP_KIND_AGENT,
    }
    for key, value in markers.items():
        assert not span_dropped(condition, {key: value}), f"a span with {key} must reach the analyzer"
    assert span_dropped(condition, {"http.request.method": "GET"})
    assert span_dropped(condition, {})


def test_tee_sends_everything_to_backend_and_genai_to_analyzer() -> None:
    cfg = load("tee.yaml")
    pipelines = cfg["service"]["pipelines"]
    by_exporter = {tuple(p["exporters"]): p for p in pipelines.values()}
    backend = by_exporter[("otlphttp/backend",)]
    analyzer = by_exporter[("otlphttp/analyzer",)]
    assert backend["receivers"] == analyzer["receivers"] == ["otlp"]
    assert not any(p.startswith("filter") for p in backend["processors"])
    assert "filter/genai-only" in analyzer["processors"]
    assert cfg["exporters"]["otlphttp/analyzer"]["endpoint"] == "${env:OTEL_META_ANALYZER_ENDPOINT}"
    assert cfg["exporters"]["otlphttp/analyzer"]["retry_on_failure"]["enabled"] is True


def test_loadbalancing_routes_by_trace_id_with_one_resolver() -> None:
    cfg = load("loadbalancing.yaml")
    exporter = cfg["exporters"]["loadbalancing/analyzers"]
    assert exporter["routing_key"] == "traceID"
    assert list(exporter["protocol"]) == ["otlp"]
    assert len(exporter["resolver"]) == 1, "the loadbalancing exporter takes exactly one resolver"
    assert ENV_REF.fullmatch(exporter["resolver"]["dns"]["hostname"])


BREAKAGES = [
    ("undefined exporter", lambda c: c["exporters"].pop(next(iter(c["exporters"]))), "is not defined"),
    ("no receivers", lambda c: next(iter(c["service"]["pipelines"].values())).update(receivers=[]), "no receivers"),
    (
        "batch first",
        lambda c: next(iter(c["service"]["pipelines"].values()))["processors"].reverse(),
        "must be the",
    ),
    ("public receiver", lambda c: c["receivers"]["otlp"]["protocols"]["grpc"].update(endpoint="0.0.0.0:4317"),
     "not on localhost"),
    ("shell-style env", lambda c: c["processors"]["batch"].update(timeout="${TIMEOUT}"), "use ${env:VAR}"),
    ("unused component", lambda c: c["exporters"].update({"debug": {}}), "no pipeline uses it"),
    ("bad id", lambda c: c["processors"].update({"Batch//x": {}}), "is not type or type/name"),
    ("undefined extension", lambda c: c["service"]["extensions"].append("zpages"), "is not defined"),
]


@pytest.mark.parametrize("name", ["tee.yaml", "loadbalancing.yaml"])
@pytest.mark.parametrize(("label", "breakage", "message"), BREAKAGES, ids=[b[0] for b in BREAKAGES])
def test_check_config_catches_each_breakage(name: str, label: str, breakage: Any, message: str) -> None:
    cfg = copy.deepcopy(load(name))
    breakage(cfg)
    problems = check_config(cfg)
    assert any(message in p for p in problems), f"{label}: {problems}"
