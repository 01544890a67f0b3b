"""The guideline writer: confident patterns in, one reviewable commit per change out.

``GuidelineWriter.plan`` reads the agent's file at the branch head and computes the new guideline set
(added / kept / retired); ``apply`` commits it (and tags it, or puts it on a proposals branch), and
refuses when the branch moved since the plan was made. ``write`` does both. ``rollback`` restores an
earlier version as a new commit. The writer only changes ``version`` and ``guidelines``; ``base_prompt``
is the humans' and is carried over from the branch head as it is.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from analyzers.errors import PromptsRepoError
from analyzers.guidelines.coherence import resolve_lines
from analyzers.guidelines.messages import (
    TRAILER_BLOCKED,
    PatternChange,
    change_message,
    create_message,
    parse_trailers,
    rollback_message,
)
from analyzers.guidelines.prompt_file import (
    INITIAL_VERSION,
    PATTERN_ID_RE,
    SEMVER_RE,
    Guideline,
    PromptFile,
    bump_patch,
    stable_tag,
    tag_name,
    validate_agent_name,
    validate_version,
    version_key,
)
from analyzers.guidelines.repo import PromptsRepo
from analyzers.guidelines.rewrite import GuidelineRewriter, RewriteOutcome
from analyzers.guidelines.templates import applied_note, guideline_text, refusal
from analyzers.model import Pattern

_logger = logging.getLogger(__name__)

TextSource = Literal["template", "llm"]


@dataclass(frozen=True)
class GuidelinePlan:
    """What ``apply`` will commit. ``base_commit`` is the branch head the plan was computed from."""

    agent: str
    base_commit: str
    current: PromptFile | None
    new: PromptFile
    applied: tuple[PatternChange, ...]
    retired: tuple[PatternChange, ...]
    text_source: TextSource = "template"
    text_note: str = ""
    message: str = ""
    kind: Literal["guidelines", "rollback", "create"] = "guidelines"

    @property
    def changed(self) -> bool:
        return self.current is None or self.current.dump() != self.new.dump()


@dataclass(frozen=True)
class WriteResult:
    """What the writer did for one agent. ``commit``/``tag``/``branch`` are ``None`` when unchanged."""

    agent: str
    changed: bool
    version: str
    commit: str | None = None
    tag: str | None = None
    branch: str | None = None
    applied: tuple[PatternChange, ...] = ()
    retired: tuple[PatternChange, ...] = ()
    text_source: TextSource = "template"
    original_tag: str | None = None
    created_commits: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "changed": self.changed,
            "version": self.version,
            "commit": self.commit,
            "tag": self.tag,
            "branch": self.branch,
            "applied": [c.to_json() for c in self.applied],
            "retired": [c.to_json() for c in self.retired],
            "text_source": self.text_source,
            "original_tag": self.original_tag,
        }


def proposal_branch(agent: str, version: str) -> str:
    return f"proposals/{agent}/v{version}"


class GuidelineWriter:
    """Writes learned guidelines into a ``PromptsRepo``.

    ``confidence_threshold``: patterns at or above it are applied, guidelines whose pattern fell below
    it (or disappeared) are retired. ``auto_update=False`` puts each change on a new branch
    ``proposals/<agent>/v<version>`` (untagged) and leaves the main branch alone.
    ``backup_original`` tags the human original ``<agent>/original`` before the first change.
    ``rewriter`` (off by default) rewrites new guideline lines with an LLM, validated.
    ``candidate_fraction`` > 0 commits each new version as a candidate served to that share of runs
    beside ``<agent>/stable`` (``analyzers.guidelines.rollout`` decides it later); 0 (the default here;
    ``learn`` and the MetaAgent default to 0.5) moves ``<agent>/stable`` to the new version at once.
    """

    def __init__(
        self,
        repo: PromptsRepo,
        *,
        confidence_threshold: float = 0.7,
        auto_update: bool = True,
        backup_original: bool = True,
        rewriter: GuidelineRewriter | None = None,
        max_guidelines: int = 20,
        candidate_fraction: float = 0.0,
    ) -> None:
        self.repo = repo
        self.confidence_threshold = confidence_threshold
        self.auto_update = auto_update
        self.backup_original = backup_original
        self.rewriter = rewriter
        self.max_guidelines = max_guidelines
        self.candidate_fraction = candidate_fraction

    # --- planning -----------------------------------------------------------------------------------
    def plan(
        self,
        agent: str,
        patterns: Sequence[Pattern],
        *,
        known_tools: Collection[str] = (),
        supported_again: Collection[str] = (),
        trusted_tools: Collection[str] | None = None,
    ) -> GuidelinePlan:
        """Compute the new guideline set for ``agent`` from ``patterns`` (nothing is written).

        ``known_tools`` (every tool name of the agent's runs) lets the LLM rewrite check refuse a line
        that names a tool outside the patterns. ``trusted_tools`` (``templates.trusted_tools``; the
        prompt file's ``tools:`` list wins when it has one): a pattern naming any other tool is refused,
        and so is one the miner withheld (``templates.refusal``); the commit body lists them.
        ``supported_again``: blocked pattern ids that the runs recorded after their blocking commit
        support again (see ``blocks``); they may return."""
        validate_agent_name(agent)
        head = self.repo.head()
        current = self.repo.read(agent, head)
        start = current or PromptFile(agent=agent, version=INITIAL_VERSION)
        blocked = (self.blocked_patterns(agent, head) if current else set()) - set(supported_again)
        candidates = [p for p in patterns if p.agent == agent and PATTERN_ID_RE.match(p.id)]
        by_id = {p.id: p for p in candidates}
        confident = {
            p.id: p for p in candidates if p.confidence >= self.confidence_threshold and p.id not in blocked
        }
        trusted = start.tools or trusted_tools
        refused = {pid: why for pid, p in confident.items() if (why := refusal(p, trusted, declared=bool(start.tools)))}
        refused_changes = [PatternChange.from_pattern(confident.pop(pid), why) for pid, why in refused.items()]
        kept: list[Guideline] = []
        retired: list[PatternChange] = []
        for g in start.guidelines:
            if g.pattern_id in confident:
                kept.append(g)
                continue
            now = by_id.get(g.pattern_id)
            if g.pattern_id in blocked:
                reason = "rolled back earlier"
            elif g.pattern_id in refused:
                reason = refused[g.pattern_id]
            elif now is not None:
                reason = f"below threshold {self.confidence_threshold:.2f}"
            else:
                reason = "pattern no longer found"
            retired.append(
                PatternChange.from_pattern(now, reason) if now else PatternChange.from_guideline(g, reason)
            )
        have_ids = {g.pattern_id for g in kept}
        fresh = [
            (p, text)
            for p in sorted(confident.values(), key=lambda p: (-p.confidence, p.id))
            if p.id not in have_ids and (text := guideline_text(p)) is not None
        ]
        coherent = resolve_lines([(g, confident[g.pattern_id]) for g in kept], fresh)
        kept = list(coherent.kept)
        retired.extend(coherent.retired)
        added: list[Guideline] = []
        added_changes: list[PatternChange] = []
        left_out = [c for c in refused_changes if c.pattern_id not in {g.pattern_id for g in start.guidelines}]
        left_out += coherent.left_out
        for p, text in coherent.added:
            if len(kept) + len(added) >= self.max_guidelines:
                left_out.append(PatternChange.from_pattern(p, f"over the limit of {self.max_guidelines} guidelines"))
                continue
            added.append(Guideline(text, p.id, p.type, float(p.confidence), int(p.frequency)))
            added_changes.append(PatternChange.from_pattern(p, applied_note(p)))
        outcome = RewriteOutcome.template()
        if added and self.rewriter is not None:
            allowed = {t for p in confident.values() for t in p.tools}
            outcome = self.rewriter.rewrite(
                [g.text for g in added], allowed_tools=allowed, known_tools=known_tools
            )
            if outcome.lines is not None:
                added = [
                    Guideline(text, g.pattern_id, g.pattern_type, g.confidence, g.support)
                    for g, text in zip(added, outcome.lines)
                ]
        if not added and not retired:
            if current is None:
                message = create_message(agent, INITIAL_VERSION, "created by `otel-meta learn`")
                return GuidelinePlan(agent, head, None, start, (), (), message=message, kind="create")
            return GuidelinePlan(agent, head, current, start, (), ())
        version = next_version(self.repo, agent, start.version)
        fraction = self.candidate_fraction if self.auto_update and self.candidate_fraction > 0 else None
        new = start.with_changes(version=version, guidelines=tuple(kept + added), candidate_fraction=fraction)
        message = change_message(
            agent,
            version,
            tuple(added_changes),
            tuple(retired),
            self.confidence_threshold,
            outcome.source,
            outcome.note,
            left_out=tuple(left_out),
        )
        return GuidelinePlan(
            agent,
            head,
            current,
            new,
            tuple(added_changes),
            tuple(retired),
            outcome.source,
            outcome.note,
            message,
        )

    def blocked_patterns(self, agent: str, ref: str | None = None) -> set[str]:
        """Pattern ids a rollback or a rejected candidate removed; not applied again unless supported
        again (``plan(supported_again=...)``)."""
        return set(self.blocks(agent, ref))

    def blocks(self, agent: str, ref: str | None = None) -> dict[str, int]:
        """Each blocked pattern id and the time (Unix seconds) of the latest commit that blocked it."""
        blocked: dict[str, int] = {}
        for commit, _, _, body in self.repo.log(f"{agent}.yaml", ref):
            ids = parse_trailers(body).get(TRAILER_BLOCKED, "").split()
            if ids:
                when = self.repo.commit_time(commit)
                blocked.update(dict.fromkeys(ids, when))
        return blocked

    # --- applying -----------------------------------------------------------------------------------
    def apply(self, plan: GuidelinePlan) -> WriteResult:
        """Commit ``plan``: on the branch (tagged) or on a proposals branch. Refuses, writing nothing,
        when the repo is dirty or mid-merge/rebase, or the branch moved since the plan was made."""
        if not plan.changed:
            version = plan.current.version if plan.current else plan.new.version
            return WriteResult(plan.agent, False, version)
        self.repo.check_writable()
        head = self.repo.head()
        if head != plan.base_commit:
            raise PromptsRepoError(
                f"branch {self.repo.branch!r} moved while the writer worked "
                f"(planned on {plan.base_commit[:12]}, now {head[:12]}); nothing was written; run again"
            )
        agent, filename = plan.agent, plan.new.filename
        steps: list[tuple[PromptFile, str]] = []
        if plan.current is None and plan.kind != "create":
            created = PromptFile(agent=agent, version=INITIAL_VERSION)
            steps.append((created, create_message(agent, INITIAL_VERSION, "created by `otel-meta learn`")))
        steps.append((plan.new, plan.message))
        branch = self.repo.branch
        expected_old: str | None = head
        parent = head
        if not self.auto_update:
            branch = proposal_branch(agent, plan.new.version)
            tip = self.repo.resolve(f"refs/heads/{branch}")
            if tip is not None:
                if self.repo.read_bytes(filename, tip) == plan.new.dump():
                    return WriteResult(
                        agent,
                        False,
                        plan.new.version,
                        branch=branch,
                        applied=plan.applied,
                        retired=plan.retired,
                    )
                steps = steps[-1:]
            expected_old, parent = tip, tip or head
        tags = [tag_name(agent, f.version) for f, _ in steps] if self.auto_update else []
        for tag in tags:
            if self.repo.tag_exists(tag):
                raise PromptsRepoError(
                    f"tag {tag} already exists; the version in {filename} on {self.repo.branch} is behind "
                    "its tags. Set 'version' to the latest released version, commit, and run again. "
                    "Nothing was written."
                )
        commits: list[str] = []
        for prompt_file, message in steps:
            parent = self.repo.make_commit(parent, filename, prompt_file.dump(), message)
            commits.append(parent)
        self.repo.publish(branch, parent, expected_old)
        for tag, commit, (_, message) in zip(tags, commits, steps):
            self.repo.tag(tag, commit, message)
        if self.auto_update:
            self._move_stable(plan, head, commits)
        original = None
        original_tag = f"{agent}/original"
        if self.backup_original and plan.kind == "guidelines" and not self.repo.tag_exists(original_tag):
            at = commits[0] if len(commits) > 1 else head
            self.repo.tag(original_tag, at, f"{agent}: the prompt as it was before otel-meta's first change")
            original = original_tag
        _logger.info("%s v%s committed %s on %s", agent, plan.new.version, parent[:12], branch)
        return WriteResult(
            agent,
            True,
            plan.new.version,
            commit=parent,
            tag=tags[-1] if tags else None,
            branch=branch if not self.auto_update else None,
            applied=plan.applied,
            retired=plan.retired,
            text_source=plan.text_source,
            original_tag=original,
            created_commits=tuple(commits),
        )

    def _move_stable(self, plan: GuidelinePlan, head: str, commits: list[str]) -> None:
        """A person's change (a new agent, a rollback) and a version without rollout are stable at
        once; a candidate leaves ``<agent>/stable`` where it was (on the version served so far)."""
        tag = stable_tag(plan.agent)
        if plan.kind in ("create", "rollback") or not plan.new.candidate_fraction:
            self.repo.tag(tag, commits[-1], f"{plan.agent}: v{plan.new.version} is stable\n", force=True)
        elif not self.repo.tag_exists(tag):
            served = commits[0] if len(commits) > 1 else head
            self.repo.tag(tag, served, f"{plan.agent}: the version served before the first candidate\n")

    def write(
        self,
        agent: str,
        patterns: Sequence[Pattern],
        *,
        known_tools: Collection[str] = (),
        trusted_tools: Collection[str] | None = None,
        supported_again: Collection[str] = (),
    ) -> WriteResult:
        """``apply(plan(agent, patterns))``; refuses up front on a dirty or mid-merge repo."""
        self.repo.check_writable()
        return self.apply(self.plan(agent, patterns, known_tools=known_tools, trusted_tools=trusted_tools,
                                    supported_again=supported_again))

    # --- adding an agent and rolling back -----------------------------------------------------------
    def add_agent(self, agent: str, base_prompt: str = "") -> WriteResult:
        """Add ``<agent>.yaml`` as version 1.0.0 (one commit and the tag ``<agent>/v1.0.0``).

        Always on the main branch: it is a human's action."""
        validate_agent_name(agent)
        self.repo.check_writable()
        head = self.repo.head()
        if self.repo.read(agent, head) is not None:
            raise PromptsRepoError(f"{agent}.yaml already exists on {self.repo.branch}")
        new = PromptFile(agent=agent, version=INITIAL_VERSION, base_prompt=base_prompt)
        plan = GuidelinePlan(
            agent, head, None, new, (), (), message=create_message(agent, INITIAL_VERSION), kind="create"
        )
        return _on_main(self).apply(plan)

    def rollback(
        self, agent: str, to_version: str, *, reason: str | None = None, block_removed: bool = True
    ) -> WriteResult:
        """Restore ``to_version``'s guidelines as a new commit with the next free patch version and its
        tag; it becomes ``<agent>/stable`` (a candidate out is withdrawn). The branch's ``base_prompt``
        is kept (a person's edit made after ``to_version`` is not lost; the message says so).

        ``block_removed`` (the default) records the patterns this rollback removes in the commit: later
        cycles apply them again only once runs recorded after it support them (``messages.BLOCK_RULE``).
        History is never rewritten."""
        validate_agent_name(agent)
        to_version = validate_version(to_version.removeprefix("v"))
        self.repo.check_writable()
        head = self.repo.head()
        current = self.repo.require(agent, head)
        target_commit = find_version_commit(self.repo, agent, to_version)
        target = self.repo.require(agent, target_commit)
        if target.guidelines == current.guidelines:
            return WriteResult(agent, False, current.version)
        version = next_version(self.repo, agent, current.version)
        kept_base = target.base_prompt != current.base_prompt
        new = target.with_changes(version=version, base_prompt=current.base_prompt, candidate_fraction=None)
        now_ids = {g.pattern_id for g in current.guidelines}
        then_ids = {g.pattern_id for g in target.guidelines}
        applied = tuple(
            PatternChange.from_guideline(g, "restored")
            for g in target.guidelines
            if g.pattern_id not in now_ids
        )
        retired = tuple(
            PatternChange.from_guideline(g, "rolled back")
            for g in current.guidelines
            if g.pattern_id not in then_ids
        )
        blocked = tuple(c.pattern_id for c in retired) if block_removed else ()
        message = rollback_message(
            agent, version, to_version, current.version, applied, retired, reason, blocked, kept_base=kept_base
        )
        plan = GuidelinePlan(agent, head, current, new, applied, retired, message=message, kind="rollback")
        return self.apply(plan)


def _on_main(writer: GuidelineWriter) -> GuidelineWriter:
    if writer.auto_update:
        return writer
    return GuidelineWriter(
        writer.repo, confidence_threshold=writer.confidence_threshold, backup_original=writer.backup_original
    )


_VERSION_IN_FILE = re.compile(rb"^version:\s*['\"]?([0-9.]+)['\"]?\s*$", re.MULTILINE)


def next_version(repo: PromptsRepo, agent: str, current: str) -> str:
    """The patch after the highest version the agent ever had: ``current``, its version tags, and every
    version its file's history holds (a person's untagged commit, a rejected candidate): a number is
    never reused, so runs of different texts never share a version."""
    versions = [current] + [t.rsplit("/v", 1)[-1] for t in repo.tags(f"{agent}/v*")]
    for commit, _, _, _ in repo.log(f"{agent}.yaml"):
        m = _VERSION_IN_FILE.search(repo.read_bytes(f"{agent}.yaml", commit) or b"")
        if m:
            versions.append(m.group(1).decode())
    highest = max((v for v in versions if SEMVER_RE.match(v)), key=version_key)
    return bump_patch(highest)



def find_version_commit(repo: PromptsRepo, agent: str, version: str) -> str:
    """The commit of ``<agent>`` at ``version``: its tag, else the newest commit whose file has it."""
    validate_version(version)
    tagged = repo.resolve(f"refs/tags/{tag_name(agent, version)}")
    if tagged is not None:
        return tagged
    for commit, _, _, _ in reversed(repo.log(f"{agent}.yaml")):
        raw = repo.read_bytes(f"{agent}.yaml", commit) or b""
        m = _VERSION_IN_FILE.search(raw)
        if m and m.group(1).decode() == version:
            return commit
    raise PromptsRepoError(f"{agent} has no version {version} (no tag {tag_name(agent, version)} either)")
