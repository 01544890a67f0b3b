"""The git prompts repository: reading agent files at a ref, and committing through git's plumbing.

Commits are built without touching the working tree or the index (``hash-object``, a temporary
index, ``write-tree``, ``commit-tree``) and published with ``update-ref <ref> <new> <old>``, a
compare-and-swap: when the branch moved since it was read, nothing is published. When the updated
branch is the one checked out, the working tree is then moved forward with ``read-tree -m -u``.
Git always runs with hooks disabled, signing off, and an explicit author and committer identity.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from analyzers.errors import PromptsRepoError, UnknownAgentError
from analyzers.guidelines.prompt_file import PromptFile, validate_agent_name

_logger = logging.getLogger(__name__)

_GIT_TIMEOUT_S = 60.0
_IN_PROGRESS = ("MERGE_HEAD", "rebase-merge", "rebase-apply", "CHERRY_PICK_HEAD", "REVERT_HEAD")


@dataclass(frozen=True)
class GitIdentity:
    """The author and committer of the writer's commits and tags."""

    name: str = "otel-meta"
    email: str = "otel-meta@localhost"


class PromptsRepo:
    """A git repository holding one ``<agent>.yaml`` per agent; ``branch`` is where versions live."""

    def __init__(
        self, path: str | os.PathLike[str], *, branch: str = "main", identity: GitIdentity | None = None
    ) -> None:
        self.path = Path(path)
        self.branch = branch
        self.identity = identity or GitIdentity()
        if not self.path.is_dir():
            raise PromptsRepoError(
                f"prompts repo {self.path} does not exist; create it with `otel-meta prompts init`"
            )
        top = self._run("rev-parse", "--is-inside-work-tree", "--is-bare-repository", check=False)
        if top.returncode != 0:
            raise PromptsRepoError(
                f"{self.path} is not a git repository; create it with `otel-meta prompts init`"
            )
        self.bare = top.stdout.decode().split()[-1] == "true"

    # --- creating -----------------------------------------------------------------------------------
    @classmethod
    def init(
        cls, path: str | os.PathLike[str], *, branch: str = "main", identity: GitIdentity | None = None
    ) -> PromptsRepo:
        """Create a prompts repo at ``path`` with one empty initial commit on ``branch``."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        if (folder / ".git").exists():
            raise PromptsRepoError(f"{folder} is already a git repository")
        subprocess.run(
            ["git", "-c", "core.hooksPath=/dev/null", "init", "-q", "-b", branch, str(folder)],
            check=True,
            capture_output=True,
            timeout=_GIT_TIMEOUT_S,
        )
        repo = cls(folder, branch=branch, identity=identity)
        repo._run("commit", "-q", "--allow-empty", "-m", "Initialise the prompts repository")
        return repo

    # --- git ----------------------------------------------------------------------------------------
    def _env(self) -> dict[str, str]:
        return dict(
            os.environ,
            GIT_AUTHOR_NAME=self.identity.name,
            GIT_AUTHOR_EMAIL=self.identity.email,
            GIT_COMMITTER_NAME=self.identity.name,
            GIT_COMMITTER_EMAIL=self.identity.email,
            GIT_TERMINAL_PROMPT="0",
            LC_ALL="C",
        )

    def _run(
        self, *args: str, input: bytes | None = None, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        cmd = [
            "git",
            "-c",
            "core.hooksPath=/dev/null",
            "-c",
            "commit.gpgSign=false",
            "-c",
            "tag.gpgSign=false",
            "-C",
            str(self.path),
            *args,
        ]
        try:
            return subprocess.run(
                cmd,
                input=input,
                capture_output=True,
                check=check,
                env=env or self._env(),
                timeout=_GIT_TIMEOUT_S,
            )
        except subprocess.CalledProcessError as exc:
            message = exc.stderr.decode(errors="replace").strip()
            raise PromptsRepoError(f"git {' '.join(args[:2])} failed in {self.path}: {message}") from None

    def _out(self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None) -> str:
        return self._run(*args, input=input, env=env).stdout.decode().strip()

    def resolve(self, ref: str) -> str | None:
        """The commit ``ref`` points at, or ``None`` when it does not exist."""
        proc = self._run("rev-parse", "--verify", "-q", "--end-of-options", f"{ref}^{{commit}}", check=False)
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    def head(self, branch: str | None = None) -> str:
        """The commit at the tip of ``branch`` (the repo's branch by default)."""
        commit = self.resolve(f"refs/heads/{branch or self.branch}")
        if commit is None:
            raise PromptsRepoError(f"branch {branch or self.branch!r} does not exist in {self.path}")
        return commit

    def tag_exists(self, tag: str) -> bool:
        return self.resolve(f"refs/tags/{tag}") is not None

    def branch_exists(self, branch: str) -> bool:
        return self.resolve(f"refs/heads/{branch}") is not None

    # --- reading ------------------------------------------------------------------------------------
    def read_bytes(self, filename: str, ref: str) -> bytes | None:
        """A file's content at ``ref`` (a commit, branch or tag), ``None`` when it is not there."""
        proc = self._run("cat-file", "blob", f"{ref}:{filename}", check=False)
        return proc.stdout if proc.returncode == 0 else None

    def read(self, agent: str, ref: str | None = None) -> PromptFile | None:
        """The agent's prompt file at ``ref`` (the branch head by default); ``None`` if it has none."""
        validate_agent_name(agent)
        at = ref or self.head()
        raw = self.read_bytes(f"{agent}.yaml", at)
        if raw is None:
            return None
        return PromptFile.parse(raw, expected_agent=agent, where=f"{agent}.yaml at {at[:12]}")

    def require(self, agent: str, ref: str | None = None) -> PromptFile:
        """Like ``read`` but raises ``UnknownAgentError`` when the agent has no file."""
        found = self.read(agent, ref)
        if found is None:
            raise UnknownAgentError(
                f"no {agent}.yaml on {ref or self.branch} in {self.path}; "
                "add it with `otel-meta prompts add-agent`"
            )
        return found

    def agents(self, ref: str | None = None) -> list[str]:
        """Agent names that have a file at ``ref`` (the branch head by default)."""
        out = self._out("ls-tree", "--name-only", ref or self.head())
        return sorted(name[:-5] for name in out.splitlines() if name.endswith(".yaml"))

    # --- safety -------------------------------------------------------------------------------------
    def check_writable(self) -> None:
        """Raise ``PromptsRepoError`` when a merge/rebase is in progress or the working tree is dirty."""
        for name in _IN_PROGRESS:
            marker = Path(self._out("rev-parse", "--git-path", name))
            marker = marker if marker.is_absolute() else self.path / marker
            if marker.exists():
                raise PromptsRepoError(
                    f"{self.path} is in the middle of a merge, rebase, cherry-pick or revert ({name}); "
                    "finish or abort it, then run again. Nothing was written."
                )
        if self.bare:
            return
        status = self._out("status", "--porcelain=v1", "--untracked-files=all")
        if status:
            first = status.splitlines()[0]
            raise PromptsRepoError(
                f"{self.path} has uncommitted changes ({first.strip()!r} ...); commit or remove them, "
                "then run again. Nothing was written."
            )

    def checked_out_branch(self) -> str | None:
        proc = self._run("symbolic-ref", "-q", "--short", "HEAD", check=False)
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    # --- writing ------------------------------------------------------------------------------------
    def make_commit(self, parent: str, filename: str, content: bytes, message: str) -> str:
        """Create (not publish) a commit on top of ``parent`` where ``filename`` has ``content``."""
        blob = self._out("hash-object", "-w", "--stdin", input=content)
        with tempfile.TemporaryDirectory(prefix="otel-meta-index-") as scratch:
            env = dict(self._env(), GIT_INDEX_FILE=os.path.join(scratch, "index"))
            self._run("read-tree", parent, env=env)
            self._run("update-index", "--add", "--cacheinfo", f"100644,{blob},{filename}", env=env)
            tree = self._out("write-tree", env=env)
        return self._out("commit-tree", tree, "-p", parent, "-F", "-", input=message.encode("utf-8"))

    def publish(self, branch: str, commit: str, expected_old: str | None) -> None:
        """Point ``branch`` at ``commit`` if it still is at ``expected_old`` (``None``: must not exist).

        Raises ``PromptsRepoError`` when the branch moved under the writer. When ``branch`` is checked
        out, the index and working tree follow.
        """
        ref = f"refs/heads/{branch}"
        old = expected_old or "0" * 40
        proc = self._run("update-ref", "-m", "otel-meta", ref, commit, old, check=False)
        if proc.returncode != 0:
            raise PromptsRepoError(
                f"branch {branch!r} moved while the writer worked (expected {old[:12]}); "
                "nothing was written; run again"
            )
        if expected_old and not self.bare and self.checked_out_branch() == branch:
            self._run("read-tree", "-m", "-u", expected_old, commit)

    def tag(self, name: str, commit: str, message: str, *, force: bool = False) -> None:
        """Create the annotated tag ``name`` at ``commit`` (it must not exist yet, unless ``force``
        moves it)."""
        self._run("tag", "-a", *(("-f",) if force else ()), name, "-m", message, commit)

    def tags(self, pattern: str) -> list[str]:
        """The names of the tags that match the glob ``pattern``."""
        return self._out("tag", "--list", pattern).splitlines()

    def commit_time(self, commit: str) -> int:
        """The committer time of ``commit`` in Unix seconds."""
        return int(self._out("show", "-s", "--format=%ct", commit))

    def delete_tag(self, name: str) -> None:
        self._run("tag", "-d", name, check=False)

    # --- history ------------------------------------------------------------------------------------
    def log(self, filename: str, ref: str | None = None) -> list[tuple[str, str, str, str]]:
        """``(commit, iso date, subject, body)`` of the commits that changed ``filename``, oldest first."""
        out = self._run(
            "log", "--reverse", "--format=%H%x1f%cI%x1f%s%x1f%b%x1e", ref or self.head(), "--", filename
        ).stdout.decode("utf-8", errors="replace")
        entries = []
        for record in out.split("\x1e"):
            record = record.strip("\n")
            if not record:
                continue
            commit, date, subject, body = record.split("\x1f", 3)
            entries.append((commit, date, subject, body))
        return entries

    def diff(self, old: str, new: str, filename: str) -> str:
        """A unified diff of ``filename`` between two commits."""
        return self._run("diff", "--no-color", "--no-ext-diff", old, new, "--", filename).stdout.decode(
            "utf-8", errors="replace"
        )
