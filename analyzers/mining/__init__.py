"""Pattern mining over agent runs with scikit-learn (DESIGN.md section 2, "mining").

``mine_patterns(runs, agent)`` is what the learning cycle calls; ``PatternMiner`` is the estimator
behind it. The pieces follow scikit-learn's estimator contract: ``ToolSequenceFeaturizer`` (tool
n-grams to a sparse matrix), ``RunClusterer`` (MiniBatchKMeans over those rows) and ``encode_runs``
(one streaming pass over the runs into compact arrays).

``Pattern.tools`` by type: a success pattern's ordered tool sequence; a failure pattern's failing tool
(a failed call, or the last tool before the run gave up) or the transition ``[from, to]`` into a failed
call; the tool concerned for tool effectiveness and performance patterns (empty for a long-run
pattern); empty for thinking patterns; ``[P, X]`` for a precondition (P before X), ``[X, R]`` for a
recovery (R after a failed X). ``confidence`` and ``effect`` are defined in ``PatternMiner``'s
docstring; ``group_findings`` groups the patterns that say one thing (listings and the report).
"""

from __future__ import annotations

from analyzers.mining._clustering import RunClusterer
from analyzers.mining._encoding import EncodedRuns, encode_runs
from analyzers.mining._features import ToolSequenceFeaturizer
from analyzers.mining._findings import Finding, group_findings, strength
from analyzers.mining._matching import PatternRule
from analyzers.mining._miner import PatternMiner, mine_patterns, mine_store, pattern_id

__all__ = [
    "EncodedRuns",
    "Finding",
    "PatternMiner",
    "PatternRule",
    "RunClusterer",
    "ToolSequenceFeaturizer",
    "encode_runs",
    "group_findings",
    "mine_patterns",
    "mine_store",
    "pattern_id",
    "strength",
]
