"""Loading an agent's prompt from the git prompts repo (DESIGN.md §1 Prompts).

``load_prompt(agent, repo=DIR, ref="main")`` reads ``<agent>.yaml`` through git at ``ref`` (never the
working tree), renders the base prompt plus the "Learned guidelines" section, and stamps the version
and commit on the agent spans that follow. ``render_prompt`` is the one definition of the rendered
text; the analyzer's guideline writer uses it too.

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

_logger = logging.getLogger(__name__)

#: The heading of the section the writer manages, as it appears in the rendered prompt.
GUIDELINES_HEADING = "## Learned guidelines"
#: Agent names: ``^[a-z0-9][a-z0-9_-]{0,63}$``, written with ``\Z`` so that ``match`` also refuses a
#: trailing newline (``$`` matches before one, and a name ends up in file, tag and branch names).
AGENT_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}\Z")
_GIT_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class PromptVersion:
    """An agent's prompt at one version: the rendered ``text``, its semver ``version`` (no leading
    "v") and the git ``commit`` it was read from."""

    agent: str
    text: str
    version: str
    commit: str


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


def load_prompt(agent: str, repo: str | os.PathLike[str] = ".", ref: str = "main") -> PromptVersion:
    """Read ``<agent>.yaml`` from the prompts repo at ``ref`` (a branch, tag or commit) and return the
    rendered prompt with its version and commit.

    ``@otel_meta.agent(agent)`` spans started afterwards in this context carry
    ``otel_meta.prompt.version`` and ``otel_meta.prompt.commit``. Raises ``ValueError`` for a
    malformed agent name or file, ``FileNotFoundError`` when ``repo`` does not exist, ``LookupError``
    when the ref or the agent's file is not in the repo.
    """
    if not isinstance(agent, str) or not AGENT_NAME_RE.fullmatch(agent):
        raise ValueError(f"agent name {agent!r} must match ^[a-z0-9][a-z0-9_-]{{0,63}}$")
    if ref.startswith("-"):
        raise ValueError(f"ref {ref!r} must not start with '-'")
    path = Path(repo)
    if not path.is_dir():
        raise FileNotFoundError(f"prompts repo {path} does not exist")
    yaml = _yaml()
    commit = _git(path, "rev-parse", "--verify", "--end-of-options", f"{ref}^{{commit}}").decode().strip()
    raw = _git(path, "show", f"{commit}:{agent}.yaml")
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
    prompt = PromptVersion(
        agent=agent, text=render_prompt(base, texts), version=data["version"], commit=commit
    )
    from otel_meta import _runtime

    _runtime.set_active_prompt(prompt.version, prompt.commit, agent)
    _logger.debug("loaded prompt %s v%s at %s", agent, prompt.version, commit[:12])
    return prompt
