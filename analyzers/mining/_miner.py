"""``PatternMiner`` and ``mine_patterns``: from runs to patterns with a stated confidence."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Iterable

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from analyzers.errors import UnknownAgentError
from analyzers.mining._advice import call_level_withheld, withheld
from analyzers.mining._candidates import (
    failure_candidates,
    success_candidates,
    thinking_candidates,
    tool_candidates,
)
from analyzers.mining._clustering import RunClusterer
from analyzers.mining._conditions import precondition_candidates, recovery_candidates
from analyzers.mining._encoding import EncodedRuns, encode_runs
from analyzers.mining._features import ToolSequenceFeaturizer, tool_run_matrix
from analyzers.mining._matching import PatternRule
from analyzers.mining._performance import hotspot_candidates, long_run_candidates, loop_candidates
from analyzers.mining._stats import holm_adjust, type_weights
from analyzers.mining._tasks import task_grouping
from analyzers.mining._templates import describe
from analyzers.mining._testing import Candidate, Members, MiningData
from analyzers.model import Pattern, Run
from analyzers.store.base import Store

logger = logging.getLogger(__name__)

RunsLike = Iterable[Run] | EncodedRuns


def pattern_id(agent: str, type_: str, key: str, tools: tuple[str, ...]) -> str:
    """A pattern's stable id: a digest of what the pattern is about, never of the runs behind it."""
    raw = "\x1f".join([agent, type_, key, "\x1e".join(tools)])
    return "pat-" + hashlib.sha1(raw.encode("utf-8")).hexdigest()[:16]


def _observed_in_direction(c: Candidate) -> bool:
    if c.qualifier == "hot_spot":
        return True
    if c.direction == "up":
        return c.success_rate > c.rest_success_rate
    return c.success_rate < c.rest_success_rate


class PatternMiner(BaseEstimator):  # type: ignore[misc]
    """Mine one agent's runs (those with a known outcome) for the five pattern types.

    ``confidence`` answers "is the effect real": one minus the weighted-Holm-adjusted p-value of a
    one-sided test of *no effect*, with all candidate patterns of the agent in one family (family-wise
    error control; each pattern type, and the precondition and recovery kinds, gets the same share of
    the error budget, split evenly among its tests):

    - rate patterns (success, failure, tool effectiveness, thinking, preconditions, recoveries, loops,
      long runs; a tool's call failures, with calls as the unit) compare the runs that show the pattern
      with the runs that do not. When the agent's runs repeat tasks (``analyzers.mining._tasks``) the
      test is the Cochran-Mantel-Haenszel test *within tasks*, on the tasks that have runs with and
      without the pattern, and the pattern's figures are those runs; otherwise one stratum (pooled
      across tasks, ``scope="pooled"``). A sequence must also beat any much more frequent, stronger part
      of it, and a transition the failed call it ends on (intersection-union tests, pooled);
    - a latency hot spot is tested with the exact binomial test of
      ``H0: P(a call of the tool is slower than the other tools' p95) <= 0.5``.

    ``effect`` (the Mantel-Haenszel difference in success rate, with its 90% Sato interval) answers
    "is it worth a guideline": ``withheld`` says why a pattern may not become one (task-confounded, an
    interval that does not clear ``min_effect``, a tool successful runs need; ``_advice``).

    Fewer runs give wider tests and so lower confidence; a pattern needs at least ``min_support`` runs
    (and as many without it) to be tested at all, and as many of each within the tasks that have both.

    Parameters: ``random_state`` (clustering), ``agent`` (mine this agent's runs; ``None``: the runs'
    one agent), ``ngram_range``, ``n_clusters``, ``min_support`` (an absolute floor of runs),
    ``min_support_fraction`` (of the runs), ``min_effect`` (the floor the effect interval must clear for
    a guideline), ``level`` (the confidence at which a pattern counts as found, for the task-confounding
    verdict), ``guideline_level`` (the family-wise confidence a guideline's claim, "the effect exceeds
    ``min_effect``", must reach; 0.95: at most a 5% chance that any of an agent's guidelines claims an
    effect it does not have), ``min_confidence`` (patterns below it are left out of ``patterns_``),
    ``max_evidence``, ``block_rows`` (the runs, or calls, the call-level tests expand at a time: memory,
    not results, depends on it).

    Learned: ``patterns_`` (most confident first), ``n_runs_``, ``baseline_success_rate_``,
    ``n_tests_`` (the size of the Holm family), ``grouped_`` (compared within tasks), ``task_grouping_``
    (what told the tasks apart: ``problem_id``, ``problem_context``, ``first_message``; ``""`` when
    pooled, ``analyzers.mining._tasks``), ``featurizer_``,
    ``clusterer_``, ``labels_``, and ``rules_`` (pattern id to its ``PatternRule``, which tells whether
    another run shows the pattern).
    """

    def __init__(
        self,
        random_state: int | None = 0,
        *,
        agent: str | None = None,
        ngram_range: tuple[int, int] = (1, 3),
        n_clusters: int = 8,
        min_support: int = 5,
        min_support_fraction: float = 0.01,
        min_effect: float = 0.03,
        level: float = 0.7,
        guideline_level: float = 0.95,
        min_confidence: float = 0.0,
        max_evidence: int = 10,
        block_rows: int = 1 << 16,
    ) -> None:
        self.random_state = random_state
        self.agent = agent
        self.ngram_range = ngram_range
        self.n_clusters = n_clusters
        self.min_support = min_support
        self.min_support_fraction = min_support_fraction
        self.min_effect = min_effect
        self.level = level
        self.guideline_level = guideline_level
        self.min_confidence = min_confidence
        self.max_evidence = max_evidence
        self.block_rows = block_rows

    def fit(self, X: RunsLike, y: object = None) -> PatternMiner:
        """Mine ``X``: an iterable of ``Run`` (consumed once) or ``EncodedRuns``."""
        if not 0.0 <= self.min_effect < 1.0:
            raise ValueError(f"min_effect must be in [0, 1), got {self.min_effect!r}")
        if self.max_evidence < 0:
            raise ValueError(f"max_evidence must be >= 0, got {self.max_evidence!r}")
        if self.block_rows < 1:
            raise ValueError(f"block_rows must be >= 1, got {self.block_rows!r}")
        enc = X if isinstance(X, EncodedRuns) else encode_runs(X, self.agent)
        agent = self.agent or enc.agent or ""
        n = enc.n_runs
        self.n_runs_ = n
        self.baseline_success_rate_ = float(enc.outcome.mean()) if n else 0.0
        support = max(int(self.min_support), int(np.ceil(self.min_support_fraction * n)))
        self.featurizer_ = ToolSequenceFeaturizer(self.ngram_range, min_support=max(support, 1))
        ngrams = self.featurizer_.fit_transform(enc)
        self.clusterer_ = RunClusterer(self.n_clusters, random_state=self.random_state).fit(ngrams)
        self.labels_ = self.clusterer_.labels_
        tool_runs = tool_run_matrix(enc)
        strata, self.task_grouping_ = task_grouping(enc)
        self.grouped_ = bool(self.task_grouping_)
        data = MiningData(
            enc=enc,
            ngrams=ngrams.tocsc(),
            ngram_names=self.featurizer_.ngrams_,
            labels=self.labels_,
            tool_runs=tool_runs.tocsc(),
            min_support=support,
            strata=strata,
            grouped=self.grouped_,
            block_rows=self.block_rows,
        )
        del ngrams, tool_runs  # the tests read the CSC copies; at a million runs each CSR one is 100s of MB
        candidates: list[Candidate] = []
        if n >= 2 * support and 0 < enc.outcome.sum() < n:
            for generate in (
                success_candidates,
                failure_candidates,
                tool_candidates,
                thinking_candidates,
                precondition_candidates,
                recovery_candidates,
                hotspot_candidates,
                loop_candidates,
                long_run_candidates,
            ):
                candidates.extend(_evidence_members(data, generate(data), self.max_evidence))
        elif n:
            logger.info("%d runs of %r with an outcome, or only one outcome: nothing to mine", n, agent)
        self.n_tests_ = len(candidates)
        p_values = np.asarray([c.p_value for c in candidates], dtype=np.float64)
        weights = type_weights([c.group or c.type for c in candidates])
        confidence = 1.0 - holm_adjust(p_values, weights)
        pooled = np.asarray([c.p_value if c.pooled_p is None else c.pooled_p for c in candidates], dtype=np.float64)
        pooled_confidence = 1.0 - holm_adjust(pooled, weights) if self.grouped_ else confidence
        floors = np.asarray([c.floor_p(self.min_effect) for c in candidates], dtype=np.float64)
        floor_confidence = 1.0 - holm_adjust(floors, weights)
        self.patterns_ = self._patterns(agent, enc, candidates, confidence, pooled_confidence, floor_confidence)
        logger.info(
            "mined %d runs of %r: %d tests, %d patterns", n, agent, self.n_tests_, len(self.patterns_)
        )
        return self

    def _patterns(
        self,
        agent: str,
        enc: EncodedRuns,
        candidates: list[Candidate],
        confidence: np.ndarray,
        pooled_confidence: np.ndarray,
        floor_confidence: np.ndarray,
    ) -> list[Pattern]:
        best: dict[str, tuple[float, Candidate]] = {}
        verdicts: dict[int, tuple[bool, str]] = {}
        for c, conf, pooled, floor in zip(
            candidates, confidence.tolist(), pooled_confidence.tolist(), floor_confidence.tolist()
        ):
            confounded, reason = withheld(
                c, conf, pooled, grouped=self.grouped_, level=self.level, min_effect=self.min_effect,
                floor_confidence=floor, guideline_level=max(self.level, self.guideline_level),
            )
            shown = max(conf, pooled) if confounded else conf
            if shown <= 0.0 or shown < self.min_confidence or not _observed_in_direction(c):
                continue
            pid = pattern_id(agent, c.type, c.qualifier, c.tools)
            if pid not in best or conf > best[pid][0]:
                best[pid] = (conf, c)
                verdicts[id(c)] = (confounded, reason)
        kept = _prune_nested_sequences(best)
        consequential = {
            c.tools: conf for conf, c in best.values() if c.qualifier == "failed_call" and not verdicts[id(c)][1]
        }
        for conf, c in best.values():
            if c.qualifier in ("call_failures", "precondition") and not verdicts[id(c)][1]:
                tool = c.tools[-1:]
                verdicts[id(c)] = (False, call_level_withheld(consequential.get(tool, 0.0), self.level))
        patterns = []
        self.rules_ = {pid: PatternRule(c.qualifier, c.tools, dict(c.figures)) for pid, (_, c) in kept.items()}
        for pid, (conf, c) in kept.items():
            description, recommendations = describe(c, self.task_grouping_)
            patterns.append(
                Pattern(
                    id=pid,
                    type=c.type,
                    agent=agent,
                    description=description,
                    tools=c.tools,
                    confidence=float(min(max(conf, 0.0), 1.0)),
                    frequency=int(c.frequency),
                    success_rate=float(c.success_rate),
                    baseline_success_rate=self.baseline_success_rate_,
                    comparison_rate=float(c.rest_success_rate),
                    evidence=self._evidence(enc, c),
                    recommendations=recommendations,
                    kind=c.qualifier,
                    unit=c.unit,
                    measures={k: float(v) for k, v in c.figures.items()},
                    effect=c.effect,
                    effect_low=c.effect_low,
                    effect_high=c.effect_high,
                    scope=c.scope if c.effect is not None else "",
                    tasks=c.tasks,
                    task_grouping=self.task_grouping_ if c.scope == "within_task" else "",
                    task_confounded=verdicts[id(c)][0],
                    withheld=verdicts[id(c)][1],
                )
            )
        patterns.sort(key=lambda p: (-p.confidence, p.type, -p.frequency, p.id))
        return patterns

    def _evidence(self, enc: EncodedRuns, c: Candidate) -> tuple[str, ...]:
        rows = c.members.rows()
        wanted = 1 if c.direction == "up" else 0
        first = rows[enc.outcome[rows] == wanted]
        ordered = np.concatenate([first, rows[enc.outcome[rows] != wanted]])[: self.max_evidence]
        return tuple(enc.trace_ids[i] for i in ordered.tolist())


def _evidence_members(data: MiningData, found: Iterable[Candidate], max_evidence: int) -> list[Candidate]:
    """``found`` with each member matrix of its own (not one ``data`` keeps) cut to the runs its
    evidence is drawn from: the first ``max_evidence`` runs of the candidate's outcome, then of the
    other, as ``_evidence`` picks them (so it picks the same). A million runs' precondition matrices
    would otherwise be held, all of them, until the patterns are written; a generator (as
    ``precondition_candidates``) has only the matrices of the candidates it is yielding held."""
    shared = (data.ngrams, data.tool_runs)
    out = []
    for c in found:
        m = c.members
        if m.matrix is None or any(m.matrix is s for s in shared):
            out.append(c)
            continue
        rows = m.rows()
        wanted = rows[data.outcome[rows] == (1 if c.direction == "up" else 0)][:max_evidence]
        rest = rows[data.outcome[rows] != (1 if c.direction == "up" else 0)][: max_evidence - len(wanted)]
        kept = np.sort(np.concatenate([wanted, rest]))
        column = sp.csc_matrix((np.ones(len(kept), np.float32), kept, [0, len(kept)]),
                               shape=(data.enc.n_runs, 1))
        out.append(dataclasses.replace(c, members=Members(matrix=column, column=0)))
    return out


def _contains(outer: tuple[str, ...], inner: tuple[str, ...]) -> bool:
    k = len(inner)
    return any(outer[i : i + k] == inner for i in range(len(outer) - k + 1))


def _prune_nested_sequences(best: dict[str, tuple[float, Candidate]]) -> dict[str, tuple[float, Candidate]]:
    """Drop a success sequence when a longer one containing it is about as confident and covers most
    of its runs: the longer sequence is the pattern, its parts are not separate findings."""
    seqs = [(pid, conf, c) for pid, (conf, c) in best.items() if c.type == "success_pattern"]
    drop = set()
    for pid, conf, c in seqs:
        for pid2, conf2, c2 in seqs:
            if (
                len(c2.tools) > len(c.tools)
                and _contains(c2.tools, c.tools)
                and c2.frequency >= 0.8 * c.frequency
                and conf2 >= conf - 0.05
            ):
                drop.add(pid)
                break
    return {pid: v for pid, v in best.items() if pid not in drop}


def mine_patterns(runs: Iterable[Run], agent: str, *, random_state: int = 0) -> list[Pattern]:
    """The patterns of ``agent``'s runs (other agents' runs and runs without an outcome are skipped),
    most confident first. See ``PatternMiner`` for the statistic behind ``confidence``."""
    return PatternMiner(random_state=random_state, agent=agent).fit(runs).patterns_


def mine_store(
    store: Store, agent: str | None = None, *, min_confidence: float = 0.0, random_state: int = 0
) -> list[Pattern]:
    """Mine the runs in ``store`` now: one agent's, or every agent's (each agent mined on its own).
    ``min_confidence`` keeps the patterns at or above it, and the task-confounded ones (whose pooled
    test reached the level: they are shown with that label).

    Raises ``UnknownAgentError`` when ``agent`` has no runs in the store.
    """
    agents = store.agents()
    if agent is not None:
        if agent not in agents:
            raise UnknownAgentError.naming(agent, agents)
        agents = [agent]
    patterns: list[Pattern] = []
    for name in agents:
        found = mine_patterns(store.iter_runs(name), name, random_state=random_state)
        patterns.extend(p for p in found if p.confidence >= min_confidence or p.task_confounded)
    return patterns
