"""The separate virtualenv that runs the traceloop-sdk (OpenLLMetry) client.

traceloop-sdk 0.62.4 cannot share the main venv: it requires ~40 unpinned
``opentelemetry-instrumentation-*`` packages, and the contrib ones it names have no release matching
the main venv's ``opentelemetry-instrumentation`` (pip answers ResolutionImpossible after minutes of
backtracking). Its client only needs the SDK, its OpenAI instrumentation and the two contrib modules it
imports at start-up, so this venv installs exactly those: the resolvable part with dependencies, the
rest with ``--no-deps``. ``make test`` builds it first (``python -m tests.analyzers.conventions.traceloop_env``);
the test builds it itself when it is missing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
VENV = REPO / ".venv-traceloop"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".installed-stamp"

REQUIREMENTS = (
    "openai>=1.40",
    "httpx>=0.27",
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
)
#: Installed without their declared dependencies (see the module docstring).
NO_DEPS = (
    "traceloop-sdk==0.62.4",
    "opentelemetry-instrumentation-logging==0.59b0",
    "opentelemetry-instrumentation-threading==0.66b1",
)


def ensure() -> Path:
    """Create and fill the venv unless it is already complete; return its python."""
    expected = "\n".join(REQUIREMENTS + NO_DEPS)
    if STAMP.exists() and STAMP.read_text() == expected and PYTHON.exists():
        return PYTHON
    if not PYTHON.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(PYTHON), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run(pip + list(REQUIREMENTS), check=True)
    subprocess.run(pip + ["--no-deps"] + list(NO_DEPS), check=True)
    STAMP.write_text(expected)
    return PYTHON


if __name__ == "__main__":
    print(ensure())
