"""Rendering the report: data into an inline JSON block, read by the inline script of ``report.html``."""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from analyzers.mining._findings import group_findings
from analyzers.model import Pattern

_logger = logging.getLogger(__name__)
_DATA_MARKER = "/*__REPORT_DATA__*/null"
_TITLE_MARKER = "__REPORT_TITLE__"


@dataclass(frozen=True)
class VersionRate:
    """The success rate of one prompt version: ``successes`` of ``runs``, with an interval
    ``[low, high]`` (a confidence interval on the rate, as the caller computed it)."""

    version: str
    runs: int
    successes: int
    low: float
    high: float
    state: str = ""
    why: str = ""
    test_p: float | None = None
    test_against: str | None = None

    @property
    def rate(self) -> float:
        return self.successes / self.runs if self.runs else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "runs": self.runs,
            "successes": self.successes,
            "rate": round(self.rate, 4),
            "low": round(self.low, 4),
            "high": round(self.high, 4),
            "state": self.state,
            "why": self.why,
            "test_p": None if self.test_p is None else round(self.test_p, 6),
            "test_against": self.test_against,
        }


@dataclass(frozen=True)
class GuidelineChange:
    """A guideline a version added (``+``) or retired (``-``): its pattern and the evidence trace ids."""

    version: str
    sign: str
    pattern_id: str
    text: str
    evidence: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "sign": self.sign, "pattern_id": self.pattern_id, "text": self.text,
                "evidence": list(self.evidence)}


@dataclass(frozen=True)
class ReportCommit:
    """One commit of the prompts repo, as ``git log --oneline`` shows it."""

    sha: str
    subject: str

    def to_json(self) -> dict[str, str]:
        return {"sha": self.sha, "subject": self.subject}


def render_report(
    *,
    versions: Sequence[VersionRate],
    patterns: Sequence[Pattern],
    commits: Sequence[ReportCommit] = (),
    agent: str = "",
    interval_label: str = "95% interval",
    generated_at: datetime | None = None,
    changes: Sequence[GuidelineChange] = (),
) -> str:
    """The report as one HTML document (no external resources)."""
    when = (generated_at or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    data = {
        "agent": agent,
        "generated_at": when,
        "interval_label": interval_label,
        "versions": [v.to_json() for v in versions],
        "patterns": [f.to_json() for f in group_findings(patterns)],
        "commits": [c.to_json() for c in commits],
        "changes": [c.to_json() for c in changes],
    }
    # JSON inside <script>: escape "<", ">" and "&" so no text can close the element or open a comment.
    payload = (
        json.dumps(data, ensure_ascii=False, sort_keys=True)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
    template = resources.files("analyzers.report").joinpath("report.html").read_text(encoding="utf-8")
    title = f"otel-meta report: {agent}" if agent else "otel-meta report"
    return template.replace(_TITLE_MARKER, html.escape(title)).replace(_DATA_MARKER, payload)


def write_report(path: str | Path, **kwargs: Any) -> Path:
    """Render the report (``render_report``'s keyword arguments) and write it to ``path``."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(**kwargs), encoding="utf-8")
    _logger.info("report written to %s", out)
    return out
