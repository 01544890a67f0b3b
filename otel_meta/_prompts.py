"""Loading an agent's prompt from the git prompts repo (DESIGN.md §1 Prompts).

``load_prompt(agent, repo=DIR, ref="main")`` reads ``<agent>.yaml`` through git at ``ref`` (never the
working tree), renders the base prompt plus the "Learned guidelines" section, and stamps the version,
commit and role on the agent runs: the run it is called in, and those that follow. While a candidate
version rolls out beside the stable one (``<agent>/stable``), each run's version is decided by its
trace id (docs/guidelines.md, "Candidate rollout"). ``render_prompt`` is the one definition of the
rendered text; the analyzer's guideline writer uses it too.

Reading YAML needs PyYAML, which the core install leaves out: ``pip install "otel-meta[prompts]"``.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from otel_meta import semconv

_logger = logging.getLogger(__name__)

#: The heading of the section the writer manages, as it appears in the rendered prompt.
GUIDELINES_HEADING = "## Learned guidelines"
#: Agent names: ``^[a-z0-9][a-z0-9_-]{0,63}$``, written with ``\Z`` so that ``match`` also refuses a
#: trailing newline (``$`` matches before one, and a name ends up in file, tag and branch names).
AGENT_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}\Z")
_GIT_TIMEOUT_S = 30.0
#: The tag of an agent's stable version is ``<agent>/stable``.
STABLE_TAG_SUFFIX = "stable"
ROLE_STABLE = semconv.PROMPT_ROLE_STABLE
ROLE_CANDIDATE = semconv.PROMPT_ROLE_CANDIDATE
_SHARE_MASK = (1 << 56) - 1


@dataclass(frozen=True)
class PromptVersion:
    """An agent's prompt at one version: the rendered ``text``, its semver ``version`` (no leading
    "v"), the git ``commit`` it was read from, and its ``role`` while the agent has a stable tag
    (``"stable"`` or ``"candidate"``; ``None`` when the repo has no ``<agent>/stable`` tag)."""

    agent: str
    text: str
    version: str
    commit: str
    role: str | None = None


def candidate_share(trace_id: int) -> float:
    """Where a trace id falls in [0, 1): its 56 right-most bits (the random part of a W3C trace id)."""
    return (trace_id & _SHARE_MASK) / float(_SHARE_MASK + 1)


@dataclass(frozen=True)
class PromptRollout:
    """A candidate version rolling out beside the stable one; what ``load_prompt`` returns outside a run
    while a candidate is out.

    Each agent run gets the candidate when ``candidate_share(trace id) < fraction``, else the stable
    version, so a run keeps its version however often it loads. ``text``, ``version``, ``commit`` and
    ``role`` are those of the current agent run (read them inside the run); outside a run, the stable
    version's. ``for_trace`` gives the version of any trace id.
    """

    stable: PromptVersion
    candidate: PromptVersion
    fraction: float

    def for_trace(self, trace_id: int) -> PromptVersion:
        return self.candidate if candidate_share(trace_id) < self.fraction else self.stable

    def current(self) -> PromptVersion:
        """The version of the agent run in progress in this context (the stable one outside a run)."""
        from otel_meta import _runtime

        frame = _runtime.current_agent()
        if frame is None:
            return self.stable
        return self.for_trace(frame.span.get_span_context().trace_id)

    @property
    def agent(self) -> str:
        return self.stable.agent

    @property
    def text(self) -> str:
        return self.current().text

    @property
    def version(self) -> str:
        return self.current().version

    @property
    def commit(self) -> str:
        return self.current().commit

    @property
    def role(self) -> str | None:
        return self.current().role


def render_prompt(base_prompt: str, guidelines: Sequence[str]) -> str:
    """The prompt an agent uses: ``base_prompt``, then (when there are guidelines) a blank line, the
    ``## Learned guidelines`` heading and one ``- <text>`` line per guideline."""
    base = base_prompt.rstrip()
    if not guidelines:
        return base + "\n" if base else ""
    section = GUIDELINES_HEADING + "\n" + "".join(f"- {text}\n" for text in guidelines)
    return f"{base}\n\n{section}" if base else section


def _yaml() -> Any:
    try:
        import yaml
    except ImportError:
        raise ImportError('otel_meta.load_prompt needs PyYAML: pip install "otel-meta[prompts]"') from None
    return yaml


def _git(repo: Path, *args: str) -> bytes:
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    proc = subprocess.run(
        ["git", "-c", "core.hooksPath=/dev/null", "-C", str(repo), *args],
        capture_output=True,
        check=False,
        env=env,
        timeout=_GIT_TIMEOUT_S,
    )
    if proc.returncode != 0:
        message = proc.stderr.decode(errors="replace").strip()
        raise LookupError(f"git {' '.join(args)} failed in {repo}: {message}")
    return proc.stdout


@dataclass(frozen=True)
class _FileAt:
    version: str
    text: str
    fraction: float


def _read_file(repo: Path, commit: str, agent: str, ref: str) -> _FileAt:
    yaml = _yaml()
    raw = _git(repo, "show", f"{commit}:{agent}.yaml")
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ValueError(f"{agent}.yaml at {ref} is not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("version"), str):
        raise ValueError(f"{agent}.yaml at {ref} has no 'version' string")
    base = data.get("base_prompt") or ""
    items = data.get("guidelines") or []
    if not isinstance(base, str) or not isinstance(items, list):
        raise ValueError(f"{agent}.yaml at {ref}: 'base_prompt' must be text and 'guidelines' a list")
    texts = [str(item["text"]) for item in items if isinstance(item, dict) and item.get("text")]
    fraction = data.get("candidate_fraction") or 0.0
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.0 <= fraction <= 1.0:
        raise ValueError(f"{agent}.yaml at {ref}: 'candidate_fraction' must be a number in [0, 1]")
    return _FileAt(data["version"], render_prompt(base, texts), float(fraction))


def _refs(repo: Path, agent: str, ref: str) -> tuple[str | None, str | None]:
    """``(commit of branch ref, commit of <agent>/stable)``; ``None`` where there is no such ref."""
    branch, stable = f"refs/heads/{ref}", f"refs/tags/{agent}/{STABLE_TAG_SUFFIX}"
    out = _git(repo, "for-each-ref", "--format=%(refname) %(objectname) %(*objectname)", branch, stable)
    found: dict[str, str] = {}
    for line in out.decode().splitlines():
        name, *objects = line.split()
        found[name] = objects[-1]  # the tagged commit for an annotated tag
    return found.get(branch), found.get(stable)


def load_prompt(
    agent: str, repo: str | os.PathLike[str] = ".", ref: str = "main"
) -> PromptVersion | PromptRollout:
    """Read ``<agent>.yaml`` from the prompts repo at ``ref`` (a branch, tag or commit) and return the
    rendered prompt with its version and commit.

    When ``ref`` is a branch and the agent has a ``<agent>/stable`` tag, the branch's version is a
    *candidate* if it differs from the stable one and its file sets ``candidate_fraction``: each run
    then gets the candidate with that probability, decided by its trace id (``PromptRollout``). Called
    inside an ``@otel_meta.agent(agent)`` run, it returns that run's version and stamps the run;
    either way the runs started afterwards in this context carry ``otel_meta.prompt.version``,
    ``otel_meta.prompt.commit`` and ``otel_meta.prompt.role`` (each run its own, in a rollout).
    Raises ``ValueError`` for a malformed agent name or file, ``FileNotFoundError`` when ``repo``
    does not exist, ``LookupError`` when the ref or the agent's file is not in the repo.
    """
    if not isinstance(agent, str) or not AGENT_NAME_RE.fullmatch(agent):
        raise ValueError(f"agent name {agent!r} must match ^[a-z0-9][a-z0-9_-]{{0,63}}$")
    if ref.startswith("-"):
        raise ValueError(f"ref {ref!r} must not start with '-'")
    path = Path(repo)
    if not path.is_dir():
        raise FileNotFoundError(f"prompts repo {path} does not exist")
    _yaml()
    commit = _git(path, "rev-parse", "--verify", "--end-of-options", f"{ref}^{{commit}}").decode().strip()
    head = _read_file(path, commit, agent, ref)
    branch, stable_commit = _refs(path, agent, ref)
    served: PromptVersion | PromptRollout
    if branch != commit or stable_commit is None:
        served = PromptVersion(agent, head.text, head.version, commit)
    else:
        stable = _read_file(path, stable_commit, agent, f"{agent}/{STABLE_TAG_SUFFIX}")
        if stable.version == head.version or head.fraction <= 0.0:
            role = ROLE_STABLE if stable.version == head.version else None
            served = PromptVersion(agent, head.text, head.version, commit, role)
        else:
            served = PromptRollout(
                PromptVersion(agent, stable.text, stable.version, stable_commit, ROLE_STABLE),
                PromptVersion(agent, head.text, head.version, commit, ROLE_CANDIDATE),
                head.fraction,
            )
    _activate(served)
    _logger.debug("loaded prompt %s v%s at %s", agent, head.version, commit[:12])
    if isinstance(served, PromptRollout):
        from otel_meta import _runtime

        if _runtime.current_agent() is not None:
            return served.current()
    return served


def _active(prompt: PromptVersion) -> Any:
    from otel_meta import _runtime

    return _runtime.ActivePrompt(prompt.version, prompt.commit, prompt.role)


def _activate(served: PromptVersion | PromptRollout) -> None:
    """Stamp the run in progress (when it is this agent's) and the runs that follow."""
    from otel_meta import _runtime

    if isinstance(served, PromptRollout):
        stable, candidate = _active(served.stable), _active(served.candidate)
        fraction = served.fraction

        def choose(trace_id: int) -> Any:
            return candidate if candidate_share(trace_id) < fraction else stable

        _runtime.set_active_prompt(stable.version, stable.commit, served.agent, role=stable.role, choose=choose)
    else:
        _runtime.set_active_prompt(served.version, served.commit, served.agent, role=served.role)
    frame = _runtime.current_agent()
    if frame is not None and frame.name == served.agent:
        _runtime.stamp_prompt(frame.span, _runtime.active_prompt(served.agent))
