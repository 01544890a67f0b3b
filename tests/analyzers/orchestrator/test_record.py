"""The one record of learning cycles under concurrent writers (several processes end cycles at once)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

_WRITER = """
import sys, time
from pathlib import Path
from analyzers.orchestrator.cycle import CycleReport
from analyzers.orchestrator.record import record_cycle
from analyzers.store.sqlite import SqliteStore

state_file, db, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
store = SqliteStore(db)
for _ in range(n):
    record_cycle(state_file, CycleReport("2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z"), store, {},
                 started=time.time())
store.close()
"""


def test_cycles_ended_by_concurrent_processes_are_all_counted(tmp_path: Path) -> None:
    state_file = tmp_path / "state" / "meta_agent_state.json"
    writers, cycles_each = 4, 25
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(state_file), str(tmp_path / "runs.db"),
                          str(cycles_each)])
        for _ in range(writers)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0] * writers
    state = json.loads(state_file.read_text())["learning_state"]
    assert state["learning_cycles"] == writers * cycles_each
    assert [c["cycle"] for c in state["cycles"]] == list(range(1, writers * cycles_each + 1))
