"""The pre-push check: which pushed refs are judged, each commit once, and a refusal whose next
step exists for what was refused (a branch can be synced; a tag names its commit for good).

History is not re-litigated: once the repository has adopted the tool (its settings are in
HEAD's tree or in a pushed commit's), a commit without the settings was made before that and is
not checked; nor is a tag for a release older than the newest one being pushed (or than HEAD's).
"""
from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

from release_hook.errors import UserError
from release_hook.invocation import command

if TYPE_CHECKING:
    from packaging.version import Version

    from release_hook.gitops import Objects

ZERO = frozenset("0")


@dataclass(frozen=True)
class Pushed:
    ref: str  # where it lands: refs/heads/NAME or refs/tags/NAME
    sha: str  # the commit (an annotated tag peeled)
    annotated: bool = False  # a tag object, not a lightweight tag

    @property
    def is_tag(self) -> bool:
        return self.ref.startswith("refs/tags/")

    @property
    def name(self) -> str:
        return self.ref.split("/", 2)[2]


@dataclass
class Outcome:
    stale: list[Pushed] = field(default_factory=list)  # out of step
    unchecked: list[Pushed] = field(default_factory=list)  # refused: the index did not answer
    errors: int = 0  # a file no sync could read
    offline_refused: bool = False


def parse(stdin: str) -> list[tuple[str, str]]:
    """(remote ref, local object) of each pushed branch tip or tag; deletions left out, and
    other refs (`refs/for/main` of a review server) named as not checked."""
    pushed = []
    for line in stdin.splitlines():
        parts = line.split()
        if len(parts) != 4:
            continue
        _local_ref, local_sha, remote_ref, _remote_sha = parts
        if set(local_sha) <= ZERO:
            continue  # a deletion
        if remote_ref.startswith(("refs/heads/", "refs/tags/")):
            pushed.append((remote_ref, local_sha))
        else:
            say(f"{remote_ref}: not checked: neither a branch nor a tag")
    return pushed


def run(stdin: str, remote: str = "origin") -> int:
    from release_hook import check_commit, gitops

    raw = parse(stdin)
    if not raw:
        return 0
    with gitops.Objects.open(".") as repo:
        pushed: list[Pushed] = []
        for ref, sha in raw:
            commit = repo.commit_of(sha)
            if commit is None:  # a tag of a tree or a blob publishes no Dockerfiles
                say(f"{ref}: not checked: it names no commit")
                continue
            pushed.append(Pushed(ref, commit, repo.kind(sha) == "tag"))
        head = repo.head()
        adopted = {p.sha: check_commit.has_settings(repo, p.sha) for p in pushed}
        repo_adopted = any(adopted.values()) or check_commit.adopted(repo)
        judged = [p for p in pushed if adopted[p.sha] or not repo_adopted]
        # without the settings yet descended from a tip that has them: they were removed
        removed = {p.sha: check_commit.adopted_ancestor(repo, p.sha) for p in pushed if p not in judged}
        versions = {p.sha: _version_of(repo, p.sha) for p in judged}
        known = [v for v in (*versions.values(), _version_of(repo, head)) if v is not None]
    newest = max(known) if known else None
    outcome = Outcome()
    first_ref: dict[str, str] = {}  # commit -> the ref it was judged under
    reported: set[str] = set()  # refs whose commit's verdict printed lines
    for p in pushed:
        if p not in judged:
            ancestor = removed[p.sha]
            if ancestor is not None:  # not made before the adoption: its settings were taken out
                say(f"{p.ref}: its setup.cfg has no [release_hook], which {ancestor[:12]} (an ancestor) has: "
                    "without it nothing would be checked. Put the section back; to stop using the "
                    "tool, run: release-hook uninstall")
                outcome.errors += 1
                continue
            say(f"{p.ref}: not checked: made before release-hook was adopted" + (
                "" if p.is_tag else " (no [release_hook] in its setup.cfg: it is checked once it "
                "merges the commit that adopted it)"))
            continue
        version = versions[p.sha]
        if p.is_tag and version is not None and newest is not None and version < newest:
            say(f"{p.ref}: not checked: an earlier release ({version}; {newest} is newer)")
            continue
        if p.sha in first_ref:  # its lines were printed under the first ref: not again
            if first_ref[p.sha] in reported:
                say(f"{p.ref}: the same commit as {first_ref[p.sha]}, judged above")
            if any(s.sha == p.sha for s in outcome.stale):
                outcome.stale.append(p)
            continue
        first_ref[p.sha] = p.ref
        if _judge(p, outcome):
            reported.add(p.ref)
    return _verdict(outcome, remote, pushed, head)


def _judge(p: Pushed, outcome: Outcome) -> bool:
    """Judge one commit; whether it printed anything."""
    from release_hook import check_commit

    try:
        verdict = check_commit.check(".", p.sha)
    except UserError as e:
        # a file of the commit no sync could read (conflict markers, a link out of the
        # repository): name the ref that carries it, and go on to the other refs
        say(f"{p.ref}: {_at_push(e)}")
        outcome.errors += 1
        return True
    for problem in verdict.problems:
        say(f"{p.ref}: {problem}")
    for u in verdict.unchecked:
        say(f"{p.ref}: not checked: {u}")
    refuse_unchecked = bool(verdict.unchecked and verdict.offline_push == "refuse")
    outcome.offline_refused = outcome.offline_refused or refuse_unchecked
    if verdict.problems:
        outcome.stale.append(p)
        if verdict.as_of is not None:
            say(f"{p.ref}: judged as of {verdict.as_of:%Y-%m-%d %H:%M:%S} UTC (the commit's date)")
    elif refuse_unchecked:
        say(f"{p.ref}: refusing to push what could not be checked (set [release_hook] "
            "offline_push = allow to let it through)")
        outcome.unchecked.append(p)
    return bool(verdict.problems or verdict.unchecked)


def _verdict(outcome: Outcome, remote: str, pushed: Sequence[Pushed], head: str | None) -> int:
    if not (outcome.stale or outcome.unchecked):
        return 2 if outcome.errors else 0
    index = (" when the package index answers (or set [release_hook] offline_push = allow)"
             if outcome.offline_refused else "")
    branches = [p for p in outcome.stale if not p.is_tag]
    tags = [p for p in outcome.stale if p.is_tag]
    if branches:
        say(f"push refused. Fix with: {_sync()}, then push again{index}")
    elif not tags:
        say("push refused: the package index could not be reached; push again when it answers, "
            "or set [release_hook] offline_push = allow")
    if tags:
        say(_tag_routes(tags, remote, pushed, head, bool(branches)))
    return 2 if outcome.errors else 1


def _tag_routes(tags: Sequence[Pushed], remote: str, pushed: Sequence[Pushed], head: str | None,
                branches_stale: bool) -> str:
    """A sync makes a new commit while a tag keeps naming the old one: what can be done instead."""
    names = ", ".join(t.ref for t in tags)
    text = ("" if branches_stale else "push refused: ") + (
        f"{names} cannot be synced (a sync makes a new commit; a tag keeps naming its own): ")
    named = next((p.name for p in pushed if not p.is_tag), None)
    branch = named or _current_branch()
    # the checked-out branch at the tag's own commit is as stale as the tag: it needs the sync too
    stale_here = named is None and branch is not None and any(t.sha == head for t in tags)
    if branches_stale:
        text += "once the branch is synced, push it without the tag"
    elif stale_here:
        text += f"sync the branch, which is at the same commit ({_sync()}), then push it without the tag"
    else:
        text += "push the branch without it"
    if branch is not None:
        text += f": git push {shlex.quote(remote)} {shlex.quote(branch)}"
    movable = [t for t in tags if t.sha == head]
    if len(movable) == 1:
        t = movable[0]
        retag = (f"git tag -f -a {shlex.quote(t.name)} -m {shlex.quote(t.name)}" if t.annotated
                 else f"git tag -f {shlex.quote(t.name)}")
        return (text + f"; or move the tag, deliberately, to a synced commit: {_sync()}, then "
                f"{retag}, then git push --force {shlex.quote(remote)} {shlex.quote(t.ref)}")
    return text + "; or move the tag, deliberately, to a commit that is in step (git tag -f)"


def _sync() -> str:
    """The sync a refused push names: on a detached HEAD a sync must be told it may commit there."""
    return command("sync") if _current_branch() is not None else command("sync", "--allow-detached")


def say(text: str) -> None:
    print(f"release-hook: {text}", file=sys.stderr)


def _at_push(e: UserError) -> str:
    """An error as the push reports it: a push writes nothing, so it does not say so."""
    return str(UserError(e.message.removesuffix(" (nothing written)"), e.path, e.line))


def _current_branch() -> str | None:
    import subprocess

    r = subprocess.run(["git", "symbolic-ref", "--quiet", "--short", "HEAD"], capture_output=True,
                       text=True)
    return r.stdout.strip() or None if r.returncode == 0 else None


def _version_of(repo: Objects, sha: str | None) -> Version | None:
    from packaging.version import InvalidVersion, Version

    from release_hook import check_commit

    if sha is None:
        return None
    try:
        found = check_commit.declared_version(repo, sha)
        return Version(found) if found else None
    except (InvalidVersion, UserError):
        return None  # the check itself reports it
