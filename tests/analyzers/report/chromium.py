"""Open an HTML file in headless Chromium and read back the DOM its scripts produced, with sizes.

``rendered_dom(html_path, tmp_path)`` copies the page, appends a small script that records the
bounding box of every element with an ``id`` and of the chart's bars and the tables' rows into a
``<pre id="__measure">`` JSON block, and returns Chromium's ``--dump-dom`` output parsed into a
``RenderedPage``. The page under test is otherwise untouched.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
_MEASURE = """
<script>
(function () {
  function box(e) { var r = e.getBoundingClientRect(); return {w: r.width, h: r.height}; }
  var out = {ids: {}, bars: [], pattern_rows: [], version_rows: [], commit_rows: []};
  document.querySelectorAll("[id]").forEach(function (e) { out.ids[e.id] = box(e); });
  document.querySelectorAll("#rate-chart .bar").forEach(function (e) { out.bars.push(box(e)); });
  document.querySelectorAll("#patterns tbody tr.pattern").forEach(function (e) { out.pattern_rows.push(box(e)); });
  document.querySelectorAll("#versions tbody tr").forEach(function (e) { out.version_rows.push(box(e)); });
  document.querySelectorAll("#commits tbody tr").forEach(function (e) { out.commit_rows.push(box(e)); });
  out.rendered = document.body.getAttribute("data-rendered");
  var pre = document.createElement("pre"); pre.id = "__measure"; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""


@dataclass(frozen=True)
class RenderedPage:
    dom: str
    measure: dict[str, Any]


def require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: install it with `apt-get install -y chromium` (.ci/run does)")


def rendered_dom(html_path: Path, work_dir: Path) -> RenderedPage:
    """Load ``html_path`` in headless Chromium and return the DOM after its scripts ran."""
    require_chromium()
    page = work_dir / "measured.html"
    text = html_path.read_text(encoding="utf-8")
    assert "</body>" in text
    page.write_text(text.replace("</body>", _MEASURE + "</body>"), encoding="utf-8")
    profile = work_dir / "chromium-profile"
    proc = subprocess.run(
        [
            str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1200,2000",
            "--dump-dom", page.as_uri(),
        ],
        capture_output=True, text=True, timeout=90, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    match = re.search(r'<pre id="__measure">(.*?)</pre>', proc.stdout, re.DOTALL)
    assert match, f"the measuring script did not run; stderr: {proc.stderr[-1000:]}"
    raw = match.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return RenderedPage(dom=proc.stdout, measure=json.loads(raw))
