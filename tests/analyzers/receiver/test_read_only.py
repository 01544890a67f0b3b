"""``/healthz`` of a running ``otel-meta serve`` whose file system turns read-only under it.

The store lives on a real ext4 file system (a loop-mounted image, ``errors=remount-ro``); the kernel's
own error path (``/sys/fs/ext4/<dev>/trigger_fs_error``, the ext4 error a failing disk raises) remounts
it read-only while SQLite holds the file open for writing, as a disk error does in production. (A
plain ``mount -o remount,ro`` is refused with EBUSY while a file is open for writing, on tmpfs and ext4
alike.) Needs root for ``mount``; skipped, with the reason, where that is not allowed.
"""

from __future__ import annotations

import errno
import http.client
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.analyzers.receiver import payloads as p
from tests.analyzers.receiver.test_cli import post, start_serve


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=False, timeout=60)


@pytest.fixture
def ext4_dir(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A directory on a fresh ext4 file system and the file that raises an ext4 error on it."""
    if os.geteuid() != 0:
        pytest.skip("needs root (CAP_SYS_ADMIN) to loop-mount an ext4 image")
    if shutil.which("mkfs.ext4") is None:
        pytest.skip("mkfs.ext4 (e2fsprogs) is not installed")
    image, mnt = tmp_path / "fs.img", tmp_path / "mnt"
    mnt.mkdir()
    with image.open("wb") as f:
        f.truncate(32 << 20)
    made = _run("mkfs.ext4", "-q", "-F", str(image))
    assert made.returncode == 0, made.stderr
    mounted = _run("mount", "-o", "loop,errors=remount-ro", str(image), str(mnt))
    if mounted.returncode != 0:
        pytest.skip(f"cannot loop-mount an ext4 image here: {mounted.stderr.strip()}")
    try:
        device = Path(_run("findmnt", "-n", "-o", "SOURCE", str(mnt)).stdout.strip()).name
        trigger = Path("/sys/fs/ext4", device, "trigger_fs_error")
        if not trigger.exists():
            pytest.skip(f"this kernel has no {trigger} to raise an ext4 error")
        yield mnt, trigger
    finally:
        if _run("umount", str(mnt)).returncode != 0:
            _run("umount", "-l", str(mnt))


def _read_only(directory: Path) -> bool:
    try:
        (directory / "probe").touch()
    except OSError as exc:
        return exc.errno == errno.EROFS
    return False


def get(port: int, path: str) -> tuple[int, dict | list]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def test_healthz_says_the_file_system_went_read_only_and_accepted_runs_stay_readable(ext4_dir):
    mnt, trigger = ext4_dir
    db = mnt / "analyzer.db"
    proc, port = start_serve(db)
    try:
        trace_id = p.new_trace_id()
        assert post(port, p.body(p.agent_span(trace_id, "ro"), p.tool_span(trace_id, 2, "get_pods", 1))) == 200
        assert get(port, "/healthz") == (200, {"status": "ok"})
        status, runs = get(port, "/api/runs")
        assert status == 200 and [r["trace_id"] for r in runs] == [trace_id.hex()]

        trigger.write_text("otel-meta test: the disk failed\n")  # ext4: abort the journal, remount read-only
        deadline = time.monotonic() + 10
        while not _read_only(mnt):
            assert time.monotonic() < deadline, "the file system did not turn read-only"
            time.sleep(0.01)

        status, health = get(port, "/healthz")
        assert status == 503 and health["status"] == "not ready"
        assert "read-only file system" in health["reason"] and str(db) in health["reason"]
        assert post(port, p.body(p.agent_span(p.new_trace_id(), "refused"))) == 503  # never a false ack
        status, runs = get(port, "/api/runs")  # what was accepted before stays readable
        assert status == 200 and [r["trace_id"] for r in runs] == [trace_id.hex()]
        status, run = get(port, f"/api/runs/{trace_id.hex()}")
        assert status == 200 and [s["name"] for s in run["steps"]] == ["get_pods"]
        assert get(port, "/healthz")[0] == 503  # and it stays not ready
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        assert proc.stdout is not None
        proc.stdout.close()
    assert proc.returncode == 0
