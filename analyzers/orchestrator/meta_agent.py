"""``MetaAgent``: the seed's orchestrator over the learning cycle, with state and the assess step."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from analyzers.assessor import JudgeConfig, assess
from analyzers.errors import JudgeError, OtelMetaError, UnknownAgentError
from analyzers.model import Run
from analyzers.orchestrator.config import MetaAgentConfig
from analyzers.orchestrator.record import record_cycle
from analyzers.orchestrator.state import LearningState, read_state, write_state
from analyzers.store.base import Store

logger = logging.getLogger(__name__)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class MetaAgent:
    """Learns from agent runs and improves their guidelines (DESIGN.md §2, orchestrator).

    ``MetaAgent(MetaAgentConfig(...))`` opens (or creates) the store at ``config.db`` and the git
    prompts repo at ``config.prompts_repo``, and reads its state file. ``embedded=True`` (the default
    when no ``store`` is handed in) also stores the spans this process records (otel_meta's recorder,
    decorators and instrumentations) into that store, with no server. In the service, ``otel-meta
    serve --learn-every`` hands in its store and runs ``start()`` / ``stop()`` beside the receiver.
    """

    def __init__(
        self,
        config: MetaAgentConfig | None = None,
        *,
        store: Store | None = None,
        embedded: bool | None = None,
        tracer_provider: Any = None,
    ) -> None:
        self.config = config or MetaAgentConfig.load()
        self.judge: JudgeConfig = self.config.judge()
        self._owns_store = store is None
        if store is None:
            from analyzers.store import db_location, open_store

            store = open_store(db_location(str(self.config.db)), create_parent=True)
        self.store: Store = store
        self.prompts_repo = self._open_repo(Path(self.config.prompts_repo))
        self.state_file = self.config.resolved_state_file()
        self.state = read_state(self.state_file) or LearningState()
        self._stop = threading.Event()
        self._cycle_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._capture = None
        #: set by the server this agent runs beside: waits until the runs of every acknowledged span
        #: are assembled, so a cycle sees them (``analyzers.receiver.assembler``)
        self.read_barrier: Callable[[], object] | None = None
        if embedded if embedded is not None else self._owns_store:
            from analyzers.orchestrator.embedded import EmbeddedCapture

            self._capture = EmbeddedCapture(self.store, tracer_provider)

    @staticmethod
    def _open_repo(path: Path) -> Any:
        from analyzers.guidelines import PromptsRepo

        if not (path / ".git").exists() and not (path.is_dir() and any(path.iterdir())):
            logger.info("creating the prompts repo %s", path)
            return PromptsRepo.init(path)
        return PromptsRepo(path)

    # --- the seed's recorder API (delegates to otel_meta) --------------------------------------------
    def collect_agent_trace(self, trace_id: str, agent_type: Any, problem_context: Any = None) -> str | None:
        """Start recording an agent run (``otel_meta.collect_agent_trace``); returns its OTel trace id."""
        import otel_meta

        return otel_meta.collect_agent_trace(trace_id, agent_type, problem_context)

    def add_tool_call(self, trace_id: str, tool_name: str, arguments: Any = None, success: bool = True,
                      response: Any = None, duration: float = 0.0) -> None:
        """Record a tool call of the run (``otel_meta.add_tool_call``)."""
        import otel_meta

        otel_meta.add_tool_call(trace_id, tool_name, arguments, success, response, duration)

    def add_thinking_step(self, trace_id: str, reasoning: str, tool_choice: str | None = None,
                          justification: str | None = None) -> None:
        """Record a thinking step of the run (``otel_meta.add_thinking_step``)."""
        import otel_meta

        otel_meta.add_thinking_step(trace_id, reasoning, tool_choice, justification)

    def end_agent_trace(self, trace_id: str, success: bool, final_submission: Any = None) -> None:
        """Close the run with its outcome (``otel_meta.end_agent_trace``)."""
        import otel_meta

        otel_meta.end_agent_trace(trace_id, success, final_submission)

    # --- learning ---------------------------------------------------------------------------------
    def flush(self) -> None:
        """Commit the spans recorded in this process to the store (embedded mode); beside a server, wait
        until the runs of the spans it acknowledged are assembled."""
        if self._capture is not None and not self._capture.flush():
            logger.warning("flushing recorded spans to the store timed out")
        if self.read_barrier is not None:
            self.read_barrier()

    def _assess_new_runs(self, agents: list[str], since_ns: int | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.config.assessments_per_cycle == 0:
            return out
        for agent in agents:
            runs = self.store.list_runs(agent, limit=self.config.assessments_per_cycle, since_unix_nano=since_ns)
            verdicts = []
            for run in runs:
                try:
                    verdicts.append(assess(run, judge=self.judge, store=self.store))
                except JudgeError as exc:
                    logger.warning("%s: judging run %s failed: %s", agent, run.trace_id, exc)
            if verdicts:
                labels = Counter(v.label for v in verdicts)
                out[agent] = {
                    "assessed": len(verdicts),
                    "mean_reasoning_quality": round(sum(v.reasoning_quality for v in verdicts) / len(verdicts), 4),
                    "should_replan": labels["replan"],
                    "should_deepen_reasoning": labels["replan"] + labels["deepen"],
                }
        return out

    def start_learning_cycle(self) -> dict[str, Any]:
        """Flush recorded spans, run one learning cycle (mine, write guidelines, optional auto-rollback),
        judge the runs that arrived since the last cycle, and save the state.

        Returns ``{cycle, started_at, finished_at, runs_analysed: {agent: n}, patterns_found: {agent: n},
        total_patterns_found, guidelines_applied: [...], guidelines_retired: [...], commits: [...],
        rollbacks: [...], rollouts: [{agent, action, candidate, stable, reason}], skipped: {agent: reason},
        assessments: {agent: {...}}}`` (the same summary ``otel-meta learn`` records). Raises
        ``PromptsRepoError`` (nothing written) when the prompts repo is dirty or mid-merge.
        """
        from analyzers.orchestrator.cycle import run_cycle

        with self._cycle_lock:
            self.flush()
            started = time.time()
            # `otel-meta learn` may have run cycles since: the state file is the one record
            self.state = read_state(self.state_file) or self.state
            since_ns = int(self.state.last_learning_time * 1e9) if self.state.last_learning_time else None
            report = run_cycle(
                self.store, self.prompts_repo,
                agents=list(self.config.agents) if self.config.agents is not None else None,
                min_traces=self.config.min_traces_for_analysis,
                confidence_threshold=self.config.confidence_threshold,
                auto_update=self.config.enable_auto_updates,
                backup_original=self.config.backup_original_prompts,
                auto_rollback=self.config.enable_auto_rollback,
                rollout=self.config.rollout(),
            )
            agents = [a.agent for a in report.agents]
            assessments = self._assess_new_runs(agents, since_ns)
            self.state, result = record_cycle(self.state_file, report, self.store, self.config.to_json(),
                                              started=started, assessments=assessments)
            cycle = self.state.learning_cycles
            logger.info("learning cycle %d: %d patterns, %d commits, %d agents skipped", cycle,
                        result["total_patterns_found"], len(result["commits"]), len(result["skipped"]))
            return result

    def get_learning_status(self) -> dict[str, Any]:
        """``learning_cycles``, ``total_patterns_learned``, ``last_learning_time`` (ISO or ``None``),
        ``ready_for_learning`` (at least ``min_traces_for_analysis`` new runs) and
        ``runs_since_last_cycle``."""
        self.flush()
        last = self.state.last_learning_time
        since = self.store.count_runs(since_unix_nano=int(last * 1e9) if last else None)
        return {
            "learning_cycles": self.state.learning_cycles,
            "total_patterns_learned": self.state.total_patterns_learned,
            "last_learning_time": _iso(last) if last else None,
            "ready_for_learning": since >= self.config.min_traces_for_analysis,
            "runs_since_last_cycle": since,
        }

    def get_pattern_summary(self) -> dict[str, Any]:
        """The patterns the agents' current runs show (mined now): ``total_patterns``,
        ``high_confidence_patterns`` (at or above ``confidence_threshold``), ``by_type``, ``by_agent``."""
        from analyzers.mining import mine_patterns

        self.flush()
        by_type: Counter[str] = Counter()
        by_agent: Counter[str] = Counter()
        high = 0
        agents = list(self.config.agents) if self.config.agents is not None else self.store.agents()
        for agent in agents:
            runs = [r for r in self.store.iter_runs(agent) if r.outcome is not None]
            if len(runs) < self.config.min_traces_for_analysis:
                continue
            for p in mine_patterns(runs, agent):
                by_type[p.type] += 1
                by_agent[agent] += 1
                high += p.confidence >= self.config.confidence_threshold
        return {
            "total_patterns": sum(by_type.values()),
            "high_confidence_patterns": high,
            "by_type": dict(sorted(by_type.items())),
            "by_agent": dict(sorted(by_agent.items())),
        }

    def get_guideline_history(self) -> list[dict[str, Any]]:
        """Every version of every agent's prompt, oldest first:
        ``{agent_type, version, patterns_applied, commit, date, state, why}`` (``state``: stable,
        candidate, rejected, rolled back or superseded, as ``otel-meta history`` shows it)."""
        from analyzers.guidelines.history import prompt_history

        out: list[dict[str, Any]] = []
        for agent in self.prompts_repo.agents():
            try:
                entries = prompt_history(self.prompts_repo, agent)
            except UnknownAgentError:
                continue
            out.extend({"agent_type": agent, "version": e.version, "patterns_applied": list(e.patterns_applied),
                        "commit": e.commit, "date": e.date, "state": e.state, "why": e.why} for e in entries)
        return sorted(out, key=lambda e: (e["date"], e["agent_type"]))

    # --- running continuously ---------------------------------------------------------------------
    def run_continuous_learning(self, max_cycles: int | None = None) -> int:
        """Run a cycle every ``learning_interval`` seconds until ``stop()``, SIGTERM or Ctrl-C (SIGINT),
        which stop it after the cycle in progress. Returns the number of cycles run. A failed cycle
        (e.g. a dirty prompts repo) is logged and retried at the next interval."""
        self._stop.clear()
        previous: dict[signal.Signals, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, lambda *_: self._stop.set())
        cycles = 0
        try:
            while not self._stop.is_set():
                try:
                    self.start_learning_cycle()
                except OtelMetaError as exc:
                    logger.error("learning cycle failed: %s", exc)
                except Exception:
                    # the loop is the service's learning thread: a bug in one cycle must not end it
                    logger.exception("learning cycle failed unexpectedly")
                cycles += 1
                if max_cycles is not None and cycles >= max_cycles:
                    break
                self._stop.wait(self.config.learning_interval)
        except KeyboardInterrupt:
            logger.info("interrupted; stopping")
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return cycles

    def start(self) -> MetaAgent:
        """Run ``run_continuous_learning`` in a background thread (the service's ``--learn-every``)."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self.run_continuous_learning, name="otel-meta-learning",
                                            daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Ask the loop to stop after the cycle in progress and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # --- state ------------------------------------------------------------------------------------
    def save_state(self, path: str | Path | None = None) -> None:
        """Write ``{config, learning_state, performance_history}`` to the state file (atomically)."""
        write_state(Path(path) if path else self.state_file, self.state, self.config.to_json())

    def load_state(self, path: str | Path) -> None:
        """Replace the learning state with the one in ``path`` (a ``StateFileError`` if unreadable)."""
        state = read_state(Path(path))
        if state is None:
            raise FileNotFoundError(f"no MetaAgent state file at {path}")
        self.state = state

    def close(self) -> None:
        """Stop the loop, flush and detach embedded capture, and close the store when this object opened it."""
        self.stop()
        if self._capture is not None:
            self._capture.close()
            self._capture = None
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> MetaAgent:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
