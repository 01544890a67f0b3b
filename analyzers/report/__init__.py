"""A self-contained HTML report of a learning run: success rate per prompt version and the patterns.

``write_report(path, versions=..., patterns=...)`` writes one HTML file with everything inline (data as
JSON, the chart drawn as SVG by an inline script, no external resources), so it opens from disk, from
a CI artifact or an e-mail attachment alike. ``agent_report`` builds one agent's report from its runs
and its prompts repo (``otel-meta report``).
"""

from __future__ import annotations

from analyzers.report._build import agent_report
from analyzers.report._html import GuidelineChange, ReportCommit, VersionRate, render_report, write_report

__all__ = ["GuidelineChange", "ReportCommit", "VersionRate", "agent_report", "render_report", "write_report"]
