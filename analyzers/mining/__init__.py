"""Pattern mining over agent runs with scikit-learn (DESIGN.md section 2, "mining").

``mine_patterns(runs, agent)`` is what the learning cycle calls; ``PatternMiner`` is the estimator
behind it. The pieces follow scikit-learn's estimator contract: ``ToolSequenceFeaturizer`` (tool
n-grams to a sparse matrix), ``RunClusterer`` (MiniBatchKMeans over those rows) and ``encode_runs``
(one streaming pass over the runs into compact arrays).

``Pattern.tools`` by type: a success pattern's ordered tool sequence; a failure pattern's failing tool
(a failed call, or the last tool before the run gave up) or the transition ``[from, to]`` into a failed
call; the tool concerned for tool effectiveness and performance patterns (empty for a long-run
pattern); empty for thinking patterns. ``confidence`` is defined in ``PatternMiner``'s docstring.
"""

from __future__ import annotations

from analyzers.mining._clustering import RunClusterer
from analyzers.mining._encoding import EncodedRuns, encode_runs
from analyzers.mining._features import ToolSequenceFeaturizer
from analyzers.mining._matching import PatternRule
from analyzers.mining._miner import PatternMiner, mine_patterns, mine_store, pattern_id

__all__ = [
    "EncodedRuns",
    "PatternMiner",
    "PatternRule",
    "RunClusterer",
    "ToolSequenceFeaturizer",
    "encode_runs",
    "mine_patterns",
    "mine_store",
    "pattern_id",
]
