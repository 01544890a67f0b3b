"""``otel_meta.load_prompt``: reads the prompts repo through git and stamps the version on agent spans."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_meta
from analyzers.guidelines import GuidelineWriter, PromptsRepo
from otel_meta import semconv as sc
from tests.analyzers.guidelines.prompts_repo import git, make_pattern
from tests.otel_meta.conftest import only_span

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def prompts(tmp_path: Path) -> PromptsRepo:
    repo = PromptsRepo.init(tmp_path / "prompts")
    writer = GuidelineWriter(repo)
    writer.add_agent("loader", "You are the loader agent.\n")
    writer.write("loader", [make_pattern(agent="loader")])
    return repo


def test_load_prompt_reads_through_git_and_stamps_agent_spans(
    prompts: PromptsRepo, instrumented: None, exporter: InMemorySpanExporter
) -> None:
    # an uncommitted edit in the working tree, even staged, is not what the agent gets
    (prompts.path / "loader.yaml").write_text("agent: loader\nversion: 9.9.9\nbase_prompt: hacked\n")
    git(prompts.path, "add", "loader.yaml")
    prompt = otel_meta.load_prompt("loader", repo=prompts.path)

    assert prompt == otel_meta.PromptVersion(
        agent="loader",
        text="You are the loader agent.\n\n## Learned guidelines\n"
        "- Prefer get_pods -> get_logs (success 85% over 34 runs vs 60% baseline, confidence 0.82)\n",
        version="1.0.1",
        commit=git(prompts.path, "rev-parse", "main"),
        role="stable",  # the writer here has rollout off: each version is stable at once
    )

    @otel_meta.agent("loader")
    def run() -> None:
        otel_meta.set_outcome(True)

    run()
    span = only_span(exporter, "invoke_agent")
    assert span.attributes is not None
    assert span.attributes[sc.OTEL_META_PROMPT_VERSION] == "1.0.1"
    assert span.attributes[sc.OTEL_META_PROMPT_COMMIT] == prompt.commit

    older = otel_meta.load_prompt("loader", repo=prompts.path, ref="loader/v1.0.0")
    assert older.version == "1.0.0" and older.text == "You are the loader agent.\n"
    run()
    latest = exporter.get_finished_spans()[-1]
    assert latest.attributes is not None and latest.attributes[sc.OTEL_META_PROMPT_VERSION] == "1.0.0"


def test_load_prompt_errors_say_what_is_wrong(prompts: PromptsRepo, tmp_path: Path) -> None:
    for bad in ("../etc/passwd", "loader\n", "Loader", "a" * 65, ""):
        with pytest.raises(ValueError, match=r"must match \^\[a-z0-9\]\[a-z0-9_-\]\{0,63\}\$"):
            otel_meta.load_prompt(bad, repo=prompts.path)
    with pytest.raises(ValueError, match="must not start with"):
        otel_meta.load_prompt("loader", repo=prompts.path, ref="--output=/tmp/x")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        otel_meta.load_prompt("loader", repo=tmp_path / "nowhere")
    with pytest.raises(LookupError, match="git show"):
        otel_meta.load_prompt("unknown", repo=prompts.path)
    with pytest.raises(LookupError, match="git rev-parse"):
        otel_meta.load_prompt("loader", repo=prompts.path, ref="no-such-branch")


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_load_prompt_without_pyyaml_says_what_to_install(prompts: PromptsRepo) -> None:
    proc = _python(f"""
        import sys
        sys.modules["yaml"] = None
        import otel_meta
        try:
            otel_meta.load_prompt("loader", repo={str(prompts.path)!r})
        except ImportError as exc:
            print(exc)
        """)
    assert 'pip install "otel-meta[prompts]"' in proc.stdout, proc.stderr


def test_load_prompt_imports_nothing_from_analyzers(prompts: PromptsRepo) -> None:
    proc = _python(f"""
        import sys
        import otel_meta
        print(otel_meta.load_prompt("loader", repo={str(prompts.path)!r}).version)
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("analyzers", "numpy", "sklearn")))
        """)
    assert proc.stdout.split() == ["1.0.1", "[]"], proc.stderr
