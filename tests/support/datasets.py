"""Where the shared real datasets live, and a skip for when that folder is absent.

The datasets are never copied into the repository: they sit next to the checkout, in
``<repo>/../shared/datasets`` (see their README.md files for provenance and counts).
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATASETS = REPO_ROOT.parent / "shared" / "datasets"
TAU_BENCH_AIRLINE = SHARED_DATASETS / "tau-bench-airline-gpt4o" / "historical_trajectories" / "gpt-4o-airline.json"
MINI_SWE_AGENT = SHARED_DATASETS / "swebench-verified-mini-swe-agent-gemini3pro"

_REASON = (
    f"the shared datasets folder {SHARED_DATASETS} is absent: it lives next to the repository checkout "
    "(../shared/datasets), outside the repository"
)

#: Marks a test that reads the shared datasets; it is skipped, with the reason, when they are absent.
requires_datasets = pytest.mark.skipif(not SHARED_DATASETS.is_dir(), reason=_REASON)


def dataset(path: Path) -> Path:
    """``path`` (one of the constants above), or skip the calling test when it does not exist."""
    if not path.exists():
        pytest.skip(_REASON if not SHARED_DATASETS.is_dir() else f"dataset {path} is missing")
    return path
