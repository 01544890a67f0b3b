"""The ``<agent>.yaml`` file of the prompts repo: its schema, parsing, writing and version bumps.

agent: diagnosis
version: 1.0.3                 # semver, no leading "v"
base_prompt: |                 # written by humans; the writer never changes it
  You are an SRE agent ...
tools: [get_pods, get_logs]    # optional, written by humans: the only tools guidelines may name
candidate_fraction: 0.5        # optional: the share of runs this version gets while it is a candidate
guidelines:                    # managed by the writer
  - text: Prefer get_pods -> get_logs (success 85% over 34 runs vs 60% baseline, confidence 0.82)
    pattern_id: sp-3f2a
    pattern_type: success_pattern
    confidence: 0.82
    support: 34
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from analyzers.errors import InvalidAgentNameError, PromptsRepoError
from analyzers.model import PATTERN_TYPES
from otel_meta._prompts import AGENT_NAME_RE, STABLE_TAG_SUFFIX, render_prompt

SEMVER_RE = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)\Z")
#: A pattern id as it may appear in a prompt file and a commit message.
PATTERN_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,80}\Z")
INITIAL_VERSION = "1.0.0"


def validate_agent_name(agent: str) -> str:
    """Return ``agent`` when it is a valid agent name, else raise ``InvalidAgentNameError``."""
    if not isinstance(agent, str) or not AGENT_NAME_RE.match(agent):
        raise InvalidAgentNameError(
            f"agent name {agent!r} is not allowed: use 1-64 characters of a-z, 0-9, '_' and '-', "
            "starting with a letter or digit"
        )
    return agent


def validate_version(version: str) -> str:
    """Return ``version`` when it is ``MAJOR.MINOR.PATCH`` (no leading "v"), else raise ``ValueError``."""
    if not isinstance(version, str) or not SEMVER_RE.match(version):
        raise ValueError(f"version {version!r} is not MAJOR.MINOR.PATCH (write it without a leading 'v')")
    return version


def bump_patch(version: str) -> str:
    """``1.2.3`` -> ``1.2.4``."""
    major, minor, patch = (int(p) for p in validate_version(version).split("."))
    return f"{major}.{minor}.{patch + 1}"


def version_key(version: str) -> tuple[int, int, int]:
    """A sort key for semver strings."""
    major, minor, patch = (int(p) for p in validate_version(version).split("."))
    return (major, minor, patch)


def tag_name(agent: str, version: str) -> str:
    """The annotated tag of one version: ``<agent>/v<version>``."""
    return f"{agent}/v{version}"


def stable_tag(agent: str) -> str:
    """The tag that marks the version served to every run outside a candidate's share."""
    return f"{agent}/{STABLE_TAG_SUFFIX}"


@dataclass(frozen=True)
class Guideline:
    """One managed guideline line and the pattern behind it (figures as of when it was applied)."""

    text: str
    pattern_id: str
    pattern_type: str
    confidence: float
    support: int

    def to_yaml(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "pattern_id": self.pattern_id,
            "pattern_type": self.pattern_type,
            "confidence": round(float(self.confidence), 4),
            "support": int(self.support),
        }


@dataclass(frozen=True)
class PromptFile:
    """The parsed content of ``<agent>.yaml``."""

    agent: str
    version: str
    base_prompt: str = ""
    guidelines: tuple[Guideline, ...] = field(default_factory=tuple)
    candidate_fraction: float | None = None
    tools: tuple[str, ...] = ()

    @property
    def filename(self) -> str:
        return f"{self.agent}.yaml"

    def render(self) -> str:
        """The prompt the agent sees: base prompt plus the "Learned guidelines" section."""
        return render_prompt(self.base_prompt, [g.text for g in self.guidelines])

    def with_changes(self, **changes: Any) -> PromptFile:
        return replace(self, **changes)

    def dump(self) -> bytes:
        """The YAML text of this file (stable key order, block style, UTF-8)."""
        data: dict[str, Any] = {
            "agent": self.agent,
            "version": self.version,
            "base_prompt": _Literal(self.base_prompt) if "\n" in self.base_prompt else self.base_prompt,
            **({"tools": list(self.tools)} if self.tools else {}),
        }
        if self.candidate_fraction is not None:
            data["candidate_fraction"] = round(float(self.candidate_fraction), 4)
        data["guidelines"] = [g.to_yaml() for g in self.guidelines]
        return yaml.dump(
            data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000, default_flow_style=False
        ).encode("utf-8")

    @classmethod
    def parse(cls, raw: bytes, *, expected_agent: str, where: str) -> PromptFile:
        """Parse and validate a prompt file; ``PromptsRepoError`` says what is wrong and where."""
        try:
            data = yaml.safe_load(raw.decode("utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise PromptsRepoError(f"{where} is not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise PromptsRepoError(f"{where} must be a mapping with agent, version, base_prompt, guidelines")
        agent = data.get("agent", expected_agent)
        if agent != expected_agent:
            raise PromptsRepoError(f"{where} says agent {agent!r}, expected {expected_agent!r}")
        version = data.get("version")
        try:
            validate_version(version)  # type: ignore[arg-type]
        except ValueError as exc:
            raise PromptsRepoError(f"{where}: {exc}") from None
        base = data.get("base_prompt") or ""
        if not isinstance(base, str):
            raise PromptsRepoError(f"{where}: base_prompt must be text")
        items = data.get("guidelines") or []
        if not isinstance(items, list):
            raise PromptsRepoError(f"{where}: guidelines must be a list")
        guidelines = tuple(_parse_guideline(item, where, i) for i, item in enumerate(items))
        tools = data.get("tools") or []
        if not isinstance(tools, list) or not all(isinstance(t, str) for t in tools):
            raise PromptsRepoError(f"{where}: tools must be a list of tool names")
        fraction = data.get("candidate_fraction")
        if fraction is not None and (
            isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.0 <= fraction <= 1.0
        ):
            raise PromptsRepoError(f"{where}: candidate_fraction must be a number in [0, 1]")
        return cls(agent=expected_agent, version=str(version), base_prompt=base, guidelines=guidelines,
                   tools=tuple(tools), candidate_fraction=None if fraction is None else float(fraction))


def _parse_guideline(item: Any, where: str, index: int) -> Guideline:
    if not isinstance(item, dict):
        raise PromptsRepoError(f"{where}: guidelines[{index}] must be a mapping")
    try:
        guideline = Guideline(
            text=str(item["text"]),
            pattern_id=str(item["pattern_id"]),
            pattern_type=str(item.get("pattern_type", "")),
            confidence=float(item.get("confidence", 0.0)),
            support=int(item.get("support", 0)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PromptsRepoError(f"{where}: guidelines[{index}] is malformed ({exc!r})") from None
    if not PATTERN_ID_RE.match(guideline.pattern_id) or not math.isfinite(guideline.confidence):
        raise PromptsRepoError(f"{where}: guidelines[{index}] has a malformed pattern_id or confidence")
    if guideline.pattern_type and guideline.pattern_type not in PATTERN_TYPES:
        raise PromptsRepoError(f"{where}: guidelines[{index}] has unknown pattern_type")
    return guideline


class _Literal(str):
    """A string dumped in YAML's literal block style (``|``), so multi-line prompts stay readable."""


class _Dumper(yaml.SafeDumper):
    pass


def _literal_representer(dumper: yaml.SafeDumper, value: _Literal) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style="|")


_Dumper.add_representer(_Literal, _literal_representer)
