"""``otel_meta.load_prompt``: reads the prompts repo through git and stamps the version on agent spans."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import otel_meta
from otel_meta import _runtime
from otel_meta._prompts import PromptRollout, PromptVersion
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


@pytest.fixture(autouse=True)
def _forget_active_prompt() -> Iterator[None]:
    """``load_prompt`` stamps a process-wide prompt version: forget it after each test."""
    yield
    _runtime.STATE.prompts.clear()
    _runtime._context_prompts.set(None)


@pytest.fixture
def rollout(tmp_path: Path) -> PromptsRepo:
    """``rollout``: v1.0.0 stable (its base prompt), v1.0.1 (one guideline) a candidate for half the runs."""
    repo = PromptsRepo.init(tmp_path / "rollout-prompts")
    writer = GuidelineWriter(repo, candidate_fraction=0.5)
    writer.add_agent("rollout", "You are the rollout agent.\n")
    writer.write("rollout", [make_pattern(agent="rollout")])
    return repo


def _stamp(span: ReadableSpan) -> tuple[str | None, str | None, str | None]:
    attributes = span.attributes or {}
    return (attributes.get(sc.OTEL_META_PROMPT_VERSION), attributes.get(sc.OTEL_META_PROMPT_ROLE),  # type: ignore[return-value]
            attributes.get(sc.OTEL_META_PROMPT_COMMIT))


def _runs(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name.startswith("invoke_agent")]


def test_load_inside_the_run_stamps_that_run_and_the_ones_after(
    prompts: PromptsRepo, instrumented: None, exporter: InMemorySpanExporter
) -> None:
    seen: list[str] = []

    @otel_meta.agent("loader")
    def run(ref: str | None) -> None:
        if ref is not None:
            seen.append(otel_meta.load_prompt("loader", repo=prompts.path, ref=ref).version)

    run("main")  # the first run, no load before it: stamped with what it loaded
    run(None)  # a run that loads nothing carries the last load
    run("loader/v1.0.0")  # a run that loads another version carries that one, not the previous load
    run(None)
    assert seen == ["1.0.1", "1.0.0"]
    assert [_stamp(s)[0] for s in _runs(exporter)] == ["1.0.1", "1.0.1", "1.0.0", "1.0.0"]

    @otel_meta.agent("other")
    def other() -> None:
        otel_meta.load_prompt("loader", repo=prompts.path)  # another agent's prompt: not this run's

    other()
    assert _stamp(_runs(exporter)[-1])[0] is None


def test_rollout_loaded_once_per_process_gives_each_run_its_version_by_trace_id(
    rollout: PromptsRepo, instrumented: None, exporter: InMemorySpanExporter
) -> None:
    prompt = otel_meta.load_prompt("rollout", repo=rollout.path)
    assert isinstance(prompt, PromptRollout) and prompt.fraction == 0.5
    assert (prompt.stable.version, prompt.candidate.version) == ("1.0.0", "1.0.1")
    assert prompt.version == "1.0.0" and prompt.role == "stable"  # outside a run: the stable version
    texts: dict[str, str] = {}

    @otel_meta.agent("rollout")
    def run() -> None:
        texts[format(trace.get_current_span().get_span_context().trace_id, "032x")] = prompt.text

    for _ in range(200):
        run()
    spans = _runs(exporter)
    for span in spans:
        chosen = prompt.for_trace(span.context.trace_id)
        assert _stamp(span) == (chosen.version, chosen.role, chosen.commit)
        assert texts[format(span.context.trace_id, "032x")] == chosen.text
    roles = [_stamp(s)[1] for s in spans]
    assert 0.35 < roles.count("candidate") / len(roles) < 0.65, roles.count("candidate")
    assert "## Learned guidelines" in prompt.candidate.text and "##" not in prompt.stable.text


def test_rollout_loaded_per_run_before_it_or_inside_it_agrees_with_the_stamp(
    rollout: PromptsRepo, instrumented: None, exporter: InMemorySpanExporter
) -> None:
    inside: list[tuple[int, str, str | None]] = []

    @otel_meta.agent("rollout")
    def run(loaded: PromptVersion | PromptRollout | None) -> None:
        prompt = loaded or otel_meta.load_prompt("rollout", repo=rollout.path)
        assert isinstance(prompt, PromptVersion) or loaded is not None
        inside.append((trace.get_current_span().get_span_context().trace_id, prompt.version, prompt.role))

    for i in range(60):
        run(otel_meta.load_prompt("rollout", repo=rollout.path) if i % 2 else None)
    stamps = {s.context.trace_id: _stamp(s)[:2] for s in _runs(exporter)}
    assert all(stamps[tid] == (version, role) for tid, version, role in inside)
    assert {role for _, _, role in inside} == {"stable", "candidate"}


def test_rollout_in_threads_and_asyncio_tasks_stamps_each_run_with_its_own_version(
    rollout: PromptsRepo, instrumented: None, exporter: InMemorySpanExporter
) -> None:
    got: dict[int, str] = {}
    lock = threading.Lock()

    @otel_meta.agent("rollout")
    def threaded() -> None:
        version = otel_meta.load_prompt("rollout", repo=rollout.path).version
        with lock:
            got[trace.get_current_span().get_span_context().trace_id] = version

    with ThreadPoolExecutor(max_workers=4) as pool:
        for future in [pool.submit(threaded) for _ in range(24)]:
            future.result()

    shared = otel_meta.load_prompt("rollout", repo=rollout.path)

    @otel_meta.agent("rollout")
    async def task(i: int) -> None:
        await asyncio.sleep(0)  # interleave the tasks
        prompt = shared if i % 2 else otel_meta.load_prompt("rollout", repo=rollout.path)
        await asyncio.sleep(0)
        got[trace.get_current_span().get_span_context().trace_id] = prompt.version

    async def main() -> None:
        await asyncio.gather(*(task(i) for i in range(24)))

    asyncio.run(main())
    spans = _runs(exporter)
    assert len(spans) == len(got) == 48
    assert all(_stamp(s)[0] == got[s.context.trace_id] for s in spans)
    assert {_stamp(s)[1] for s in spans} == {"stable", "candidate"}


def test_rollout_only_for_a_branch_and_a_candidate_with_a_fraction(
    rollout: PromptsRepo, instrumented: None
) -> None:
    pinned = otel_meta.load_prompt("rollout", repo=rollout.path, ref="rollout/v1.0.1")
    assert isinstance(pinned, PromptVersion) and pinned.version == "1.0.1" and pinned.role is None
    # promoted: the stable tag on the branch head, every run gets it
    git(rollout.path, "tag", "-f", "-a", "rollout/stable", "-m", "promoted", "main")
    promoted = otel_meta.load_prompt("rollout", repo=rollout.path)
    assert isinstance(promoted, PromptVersion) and (promoted.version, promoted.role) == ("1.0.1", "stable")
