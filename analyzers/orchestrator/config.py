"""``MetaAgentConfig``: the MetaAgent's settings, from code, a YAML file, or both."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzers import config as env
from analyzers.assessor import JudgeConfig
from analyzers.store import is_postgres_url

if TYPE_CHECKING:  # the guidelines package needs pyyaml; `serve --help` must not (the bare-install hint)
    from analyzers.guidelines.rollout import RolloutSettings


@dataclass(frozen=True)
class MetaAgentConfig:
    """The seed's five settings plus where the store, prompts repo and state live, and the judge.

    - ``learning_interval``: seconds between cycles of ``run_continuous_learning`` (3600).
    - ``min_traces_for_analysis``: runs with a known outcome an agent needs before it is mined (10).
    - ``confidence_threshold``: the lowest pattern confidence turned into a guideline (0.7).
    - ``enable_auto_updates``: commit guideline changes to the branch (``True``), or to a
      ``proposals/<agent>/<version>`` branch for review (``False``).
    - ``backup_original_prompts``: keep the human-written prompt as the first tagged version (``True``).
    - ``enable_auto_rollback``: roll a version back when it is significantly worse than the previous
      one (one-sided Fisher's exact test, p < 0.05) (``False``).
    - ``db``: the SQLite store; ``prompts_repo``: the git prompts repo (created when missing);
      ``state_file``: the JSON state (default ``META_AGENT_STATE_FILE``, else ``<db stem>.state.json``
      next to the store).
    - ``judge_model`` / ``judge_base_url``: the LLM judge (default ``OTEL_META_JUDGE_MODEL`` /
      ``OTEL_META_JUDGE_BASE_URL``; the heuristic judge when unset; the API key comes only from the
      environment); ``replan_threshold`` (0.4) and ``deepen_threshold`` (0.6); ``judge_on_error``:
      ``raise`` or ``heuristic`` (default ``OTEL_META_JUDGE_ON_ERROR``, else ``raise``).
    - ``assessments_per_cycle``: how many of the newest runs per agent each cycle judges (50).
    - ``agents``: the agents to learn for (default every agent in the store).
    - ``candidate_fraction`` (0.5), ``rollout_alpha`` (0.05), ``rollout_max_runs`` (200): how a new
      version rolls out as a candidate beside ``<agent>/stable`` and is decided
      (``analyzers.guidelines.rollout.RolloutSettings``; docs/guidelines.md).
    """

    learning_interval: float = 3600.0
    min_traces_for_analysis: int = 10
    confidence_threshold: float = 0.7
    enable_auto_updates: bool = True
    backup_original_prompts: bool = True
    enable_auto_rollback: bool = False
    db: str = "meta_agent/otel_meta.db"
    prompts_repo: str = "meta_agent/prompts"
    state_file: str | None = None
    judge_model: str | None = None
    judge_base_url: str | None = None
    judge_on_error: str | None = None
    replan_threshold: float = 0.4
    deepen_threshold: float = 0.6
    assessments_per_cycle: int = 50
    agents: tuple[str, ...] | None = None
    candidate_fraction: float = 0.5
    rollout_alpha: float = 0.05
    rollout_max_runs: int = 200

    def __post_init__(self) -> None:
        if self.learning_interval <= 0:
            raise ValueError(f"learning_interval must be positive seconds, got {self.learning_interval}")
        if self.min_traces_for_analysis < 1:
            raise ValueError(f"min_traces_for_analysis must be at least 1, got {self.min_traces_for_analysis}")
        if not 0.0 <= self.confidence_threshold <= 1.0:
            raise ValueError(f"confidence_threshold must be in [0, 1], got {self.confidence_threshold}")
        if self.assessments_per_cycle < 0:
            raise ValueError(f"assessments_per_cycle must be >= 0, got {self.assessments_per_cycle}")
        if self.agents is not None and not isinstance(self.agents, tuple):
            object.__setattr__(self, "agents", tuple(self.agents))
        self.judge()  # validates the thresholds and judge_on_error
        self.rollout()

    def rollout(self) -> RolloutSettings:
        """How new versions roll out and are decided."""
        from analyzers.guidelines.rollout import RolloutSettings

        return RolloutSettings(self.candidate_fraction, self.rollout_alpha, self.rollout_max_runs)

    def judge(self) -> JudgeConfig:
        """The reasoning judge these settings describe (API key from the environment)."""
        return JudgeConfig(
            model=self.judge_model or env.judge_model(),
            base_url=self.judge_base_url or env.judge_base_url(),
            api_key=env.judge_api_key(),
            replan_threshold=self.replan_threshold,
            deepen_threshold=self.deepen_threshold,
            on_error=(self.judge_on_error or env.judge_on_error()),  # type: ignore[arg-type]
        )

    def resolved_state_file(self) -> Path:
        """Where the state lives: ``state_file``, else ``META_AGENT_STATE_FILE``, else next to the db
        (for a PostgreSQL ``db``: ``<dbname>.state.json`` in the working directory)."""
        if self.state_file:
            return Path(self.state_file)
        from_env = env.meta_agent_state_file()
        if from_env:
            return Path(from_env)
        if is_postgres_url(self.db):
            return Path(f"{self.db.rsplit('/', 1)[-1].split('?')[0] or 'otel_meta'}.state.json")
        db = Path(self.db)
        return db.with_name(f"{db.stem}.state.json")

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["agents"] = list(self.agents) if self.agents is not None else None
        return out

    def replace(self, **changes: Any) -> MetaAgentConfig:
        """A copy with the given fields replaced; ``None`` values are ignored."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_mapping(cls, data: Any, *, source: str = "configuration") -> MetaAgentConfig:
        """From a mapping of field names (unknown names are an error that lists the known ones)."""
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise ValueError(  # noqa: TRY004 - a bad configuration value, reported like the others
                f"{source} must be a mapping of MetaAgentConfig fields, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{source}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        try:
            return cls(**data)
        except TypeError as exc:
            raise ValueError(f"{source}: {exc}") from None

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> MetaAgentConfig:
        """From a YAML file of field names (under a ``meta_agent:`` top-level key, or at the top level)."""
        return cls.from_mapping(ConfigFile.read(path).meta_agent, source=str(path))

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None, **overrides: Any) -> MetaAgentConfig:
        """From ``path``, else ``META_AGENT_CONFIG_FILE``, else the defaults; then ``overrides``
        (``None`` values ignored)."""
        chosen = config_file_path(path)
        base = cls.from_file(chosen) if chosen else cls()
        return base.replace(**overrides)


#: The ``serve:`` section's settings of the config file, with their types (``otel-meta serve``'s flags).
SERVE_SETTINGS: dict[str, tuple[type, ...]] = {
    "host": (str,),
    "http_port": (int,),
    "grpc_port": (int,),
    "token": (str,),
    "max_body_mb": (int, float),
}


def config_file_path(path: str | os.PathLike[str] | None = None) -> Path | None:
    """The config file to read: ``path`` (``--config``), else ``META_AGENT_CONFIG_FILE``, else none."""
    chosen = path or env.meta_agent_config_file()
    return Path(chosen) if chosen else None


@dataclass(frozen=True)
class ConfigFile:
    """The settings a YAML config file sets, as written: ``meta_agent`` (``MetaAgentConfig`` fields) and
    ``serve`` (``SERVE_SETTINGS``; ``null`` means the default). A file of bare ``MetaAgentConfig`` fields is a ``meta_agent`` section.

    Only what the file sets is here, so a caller can tell a setting the file chose from a default."""

    path: Path | None = None
    meta_agent: dict[str, Any] = dataclasses.field(default_factory=dict)
    serve: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def read(cls, path: str | os.PathLike[str] | None) -> ConfigFile:
        """Read ``path`` (``None``: an empty ``ConfigFile``); ``ValueError`` saying what is wrong and where."""
        if path is None:
            return cls()
        import yaml

        file = Path(path)
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ValueError(f"cannot read the config file {file}: {exc.strerror}") from None
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ValueError(f"the config file {file} is not valid YAML: {exc}") from None
        if data is None:
            return cls(file)
        if not isinstance(data, dict):
            raise ValueError(  # noqa: TRY004 - a bad config file, reported like the others
                f"{file} must be a mapping of settings, got {type(data).__name__}")
        if set(data) & {"meta_agent", "serve"}:
            unknown = sorted(set(data) - {"meta_agent", "serve"})
            if unknown:
                raise ValueError(f"{file}: unknown section(s) {', '.join(map(str, unknown))}; "
                                 "known: meta_agent, serve")
            meta, serve = data.get("meta_agent") or {}, data.get("serve") or {}
        else:
            meta, serve = data, {}
        for name, section in (("meta_agent", meta), ("serve", serve)):
            if not isinstance(section, dict):
                raise ValueError(  # noqa: TRY004 - a bad config file, reported like the others
                    f"{file}: {name} must be a mapping of settings, got {type(section).__name__}")
        _check_serve_section(file, serve)
        return cls(file, dict(meta), dict(serve))


def _check_serve_section(file: Path, serve: dict[str, Any]) -> None:
    unknown = sorted(set(serve) - set(SERVE_SETTINGS))
    if unknown:
        raise ValueError(f"{file}: unknown serve setting(s) {', '.join(map(str, unknown))}; "
                         f"known: {', '.join(SERVE_SETTINGS)}")
    for name, value in serve.items():
        types = SERVE_SETTINGS[name]
        if value is None:  # written out to say "the default"
            continue
        if isinstance(value, bool) or not isinstance(value, types):
            raise ValueError(  # noqa: TRY004 - a bad config file, reported like the others
                f"{file}: serve.{name} must be {' or '.join(t.__name__ for t in types)}, got {value!r}")
