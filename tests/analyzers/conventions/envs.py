"""The separate virtualenvs that run the agent-framework clients, one per framework.

Each framework pins its own ``openai``, ``pydantic`` and OpenTelemetry ranges, and the instrumentations
patch libraries globally, so each framework's client runs in its own venv under ``.venv-frameworks/``
(ignored by git; traceloop-sdk's in ``.venv-traceloop``), built once: a stamp file holds the
requirements it was built from, and a venv is filled again only when they change. ``make test-deps``
builds them all, three at a time (``python -m tests.analyzers.conventions.envs``); a test builds the
one it needs when it is missing.

traceloop-sdk 0.62.4 cannot be resolved with pip: it requires ~40 unpinned
``opentelemetry-instrumentation-*`` packages, and the contrib ones it names have no release matching a
current ``opentelemetry-instrumentation`` (pip answers ResolutionImpossible after minutes of
backtracking). Its clients only need the SDK, its OpenAI and LangChain instrumentations and the two
contrib modules it imports at start-up, so that venv installs exactly those: the resolvable part with
dependencies, the rest with ``--no-deps``.
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
ROOT = REPO / ".venv-frameworks"
_EXPORTER = "opentelemetry-exporter-otlp-proto-http>=1.38,<2"


@dataclass(frozen=True)
class FrameworkEnv:
    """One framework's venv: pinned requirements, and packages installed without their dependencies."""

    name: str
    requirements: tuple[str, ...]
    no_deps: tuple[str, ...] = ()
    #: Where the venv lives when not under ``.venv-frameworks/`` (``benchmarks/overhead.py`` runs its
    #: traceloop arm from ``.venv-traceloop``).
    path: Path | None = None

    @property
    def venv(self) -> Path:
        return self.path or ROOT / self.name

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def _expected(self) -> str:
        return "\n".join(self.requirements + self.no_deps)

    def ready(self) -> bool:
        stamp = self.venv / ".installed-stamp"
        return self.python.exists() and stamp.exists() and stamp.read_text() == self._expected()

    def ensure(self) -> Path:
        """Create and fill the venv unless it is already complete; return its python."""
        if self.ready():
            return self.python
        if not self.python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True)
        pip = [str(self.python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run(pip + list(self.requirements), check=True)
        if self.no_deps:
            subprocess.run(pip + ["--no-deps"] + list(self.no_deps), check=True)
        (self.venv / ".installed-stamp").write_text(self._expected())
        return self.python


ENVS: dict[str, FrameworkEnv] = {env.name: env for env in (
    FrameworkEnv("langgraph", (
        "langchain==1.5.0",
        "langgraph==1.2.22",
        "langchain-openai==1.7.4",
        "openinference-instrumentation-langchain==0.1.80",
        "openinference-instrumentation-openai==0.1.66",
        "opentelemetry-instrumentation-genai-langchain==1.3b0",
        _EXPORTER,
    )),
    FrameworkEnv("openai-agents", (
        "openai-agents==0.24.0",
        "openinference-instrumentation-openai-agents==2.6.0",
        "opentelemetry-instrumentation-genai-openai-agents==1.3b0",
        "opentelemetry-instrumentation-genai-openai==1.3b0",
        _EXPORTER,
    )),
    FrameworkEnv("pydantic-ai", ("pydantic-ai-slim[openai]==2.68.0", _EXPORTER)),
    FrameworkEnv("crewai", (
        "crewai==1.15.30",
        "openinference-instrumentation-crewai==1.1.21",
        "openinference-instrumentation-openai==0.1.66",
        _EXPORTER,
    )),
    FrameworkEnv("llama-index", (
        "llama-index-core==0.14.25",
        "llama-index-llms-openai==0.8.3",
        "openinference-instrumentation-llama-index==4.6.1",
        "opentelemetry-instrumentation-genai-llama-index==1.3b0",
        "opentelemetry-instrumentation-genai-openai==1.3b0",
        _EXPORTER,
    )),
    FrameworkEnv("smolagents", (
        "smolagents[openai]==1.26.0",
        "openinference-instrumentation-smolagents==0.1.43",
        _EXPORTER,
    )),
    # ADK talks to OpenAI-compatible servers through LiteLLM.
    FrameworkEnv("adk", ("google-adk==2.13.0", "litellm==1.110.2", _EXPORTER)),
    FrameworkEnv("traceloop", (
        "openai>=1.40",
        "httpx>=0.27",
        "langchain==1.5.0",
        "langgraph==1.2.22",
        "langchain-openai==1.7.4",
        "opentelemetry-sdk>=1.38,<2",
        "opentelemetry-exporter-otlp-proto-http>=1.38,<2",
        "opentelemetry-exporter-otlp-proto-grpc>=1.38,<2",
        "opentelemetry-instrumentation-openai==0.62.4",
        "opentelemetry-semantic-conventions-ai==0.5.1",
        "aiohttp>=3.11.11,<4",
        "colorama>=0.4.6,<0.5",
        "cuid>=0.4,<0.5",
        "deprecated>=1.2.14,<2",
        "jinja2>=3.1.5,<4",
        "pydantic>=1",
        "tenacity>=8.2.3,<10",
    ), no_deps=(
        "traceloop-sdk==0.62.4",
        "opentelemetry-instrumentation-langchain==0.62.4",
        "opentelemetry-instrumentation-logging==0.59b0",
        "opentelemetry-instrumentation-threading==0.66b1",
    ), path=REPO / ".venv-traceloop"),
)}


def ensure(name: str) -> Path:
    """The python of framework env ``name``, built first when it is missing or stale."""
    return ENVS[name].ensure()


if __name__ == "__main__":
    with ThreadPoolExecutor(max_workers=3) as pool:
        for python in pool.map(ensure, sys.argv[1:] or list(ENVS)):
            print(python)
