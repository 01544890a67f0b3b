"""``pip install otel-meta`` alone (what an agent needs) and the service's commands: a one-line hint
naming the extra, never ``ModuleNotFoundError: No module named 'yaml'``.

The environment is ``.venv-base``, a real venv with the project installed without extras, which
``make test-deps`` builds once."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from analyzers.store.sqlite import SqliteStore
from tests.analyzers.cli.console import otel_meta

ROOT = Path(__file__).resolve().parents[3]
BASE_VENV = ROOT / ".venv-base"
HINT = "pip install 'otel-meta[analyzer]'"

pytestmark = pytest.mark.skipif(not (BASE_VENV / ".installed-stamp").exists(),
                                reason=f"{BASE_VENV} (the bare `pip install otel-meta`) is absent: run `make test-deps`")


def _base_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BASE_VENV / "bin" / "python"), "-c", code], capture_output=True, text=True,
                          timeout=120, check=False, cwd=ROOT)


def test_the_bare_install_has_no_analyzer_dependencies() -> None:
    proc = _base_python("import importlib.util as u; print([m for m in ('numpy', 'yaml', 'sklearn', 'scipy') "
                        "if u.find_spec(m)])")
    assert proc.stdout.strip() == "[]", proc.stderr
    assert _base_python("import otel_meta.auto, otel_meta").returncode == 0  # what an agent needs works


@pytest.mark.parametrize(("argv", "module"), [
    (("patterns",), "numpy"),
    (("prompts", "init", "{tmp}/p"), "yaml"),
])
def test_a_command_without_the_extra_is_a_one_line_hint(tmp_path: Path, argv: tuple[str, ...], module: str) -> None:
    db = tmp_path / "s.db"
    SqliteStore(db).close()
    args = [a.format(tmp=tmp_path) for a in argv] + (["--db", str(db)] if argv[0] == "patterns" else [])
    proc = subprocess.run([str(BASE_VENV / "bin" / "otel-meta"), *args], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.strip() == (f"otel-meta {argv[0]}: the analyzer needs the 'analyzer' extra "
                                   f"(module {module!r} is missing): {HINT}")


def test_importing_the_service_without_the_extra_names_the_extra() -> None:
    proc = _base_python("from analyzers import run_cycle")
    assert proc.returncode == 1
    assert proc.stderr.rstrip().splitlines()[-1] == (
        f"ModuleNotFoundError: the analyzer needs the 'analyzer' extra (module 'yaml' is missing): {HINT}")


def test_load_prompt_without_pyyaml_names_the_prompts_extra(tmp_path: Path) -> None:
    assert otel_meta("prompts", "init", tmp_path / "p").returncode == 0
    proc = _base_python(f"import otel_meta; otel_meta.load_prompt('a', repo={str(tmp_path / 'p')!r})")
    assert proc.stderr.rstrip().splitlines()[-1] == (
        "ImportError: otel_meta.load_prompt needs PyYAML: pip install \"otel-meta[prompts]\"")
