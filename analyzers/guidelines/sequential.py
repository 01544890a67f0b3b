"""An always-valid test of a candidate version against the stable one, for a look every cycle.

The runs of the two versions from the same period are paired in start-time order (the i-th candidate
run with the i-th stable run; an order chosen without looking at outcomes). Only *discordant* pairs,
where one run succeeded and the other failed, say anything about the difference. Under the null
hypothesis (both versions succeed with the same probability p, whatever p is) each discordant pair is
won by the candidate with probability exactly 1/2, independently of the others. The e-value is the
likelihood ratio of a uniform mixture (Beta(1, 1)) over that probability against 1/2:

    E = 2^m * k! (m - k)! / (m + 1)!        m discordant pairs, k of them won by the candidate

It is a nonnegative martingale under the null, so by Ville's inequality the chance that it *ever*
reaches 1/alpha is at most alpha: the test may be looked at after every cycle (or every run) and stays
valid, with no fixed sample size (a mixture sequential probability ratio test, an e-process). It is
exact for any sample size (no normal approximation) and two-sided; the sign of the difference says
which way a significant result goes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

TEST_NAME = "mixture SPRT on discordant pairs (e-value, Beta(1,1) mixture; always valid)"


@dataclass(frozen=True)
class PairedEvidence:
    """The sequential test's state: pairs formed, discordant pairs, those the candidate won, the e-value."""

    pairs: int
    discordant: int
    candidate_wins: int
    e_value: float

    @property
    def p_value(self) -> float:
        """The always-valid p-value ``min(1, 1/E)``."""
        return min(1.0, 1.0 / self.e_value) if self.e_value > 0 else 1.0

    def significant(self, alpha: float) -> bool:
        return self.e_value >= 1.0 / alpha

    def to_json(self) -> dict[str, Any]:
        return {
            "pairs": self.pairs,
            "discordant": self.discordant,
            "candidate_wins": self.candidate_wins,
            "e_value": round(self.e_value, 4),
            "p_value": round(self.p_value, 6),
            "test": TEST_NAME,
        }


def mixture_e_value(discordant: int, candidate_wins: int) -> float:
    """``2^m k! (m-k)! / (m+1)!``, computed in logs (1.0 for no discordant pair)."""
    m, k = discordant, candidate_wins
    if not 0 <= k <= m:
        raise ValueError(f"candidate_wins {k} must be between 0 and discordant {m}")
    log_e = m * math.log(2.0) + math.lgamma(k + 1) + math.lgamma(m - k + 1) - math.lgamma(m + 2)
    return math.exp(min(log_e, 700.0))


def paired_evidence(candidate: Sequence[bool], stable: Sequence[bool]) -> PairedEvidence:
    """The test over outcomes in start-time order (the shorter sequence sets how many pairs)."""
    pairs = list(zip(candidate, stable))
    discordant = [c for c, s in pairs if c != s]
    wins = sum(1 for c in discordant if c)
    return PairedEvidence(len(pairs), len(discordant), wins, mixture_e_value(len(discordant), wins))
