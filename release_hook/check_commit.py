"""Is a commit's set of Dockerfiles in step with the version it declares? Read from git objects.

Each commit is judged as of its own committer date: a `latest` pin that was the newest release
when the commit was made stays in step after newer releases appear.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from release_hook import config as cfg
from release_hook import files, gitops
from release_hook.context import follow
from release_hook.errors import UserError
from release_hook.scancache import ScanCache
from release_hook.plan import plan_file

if TYPE_CHECKING:
    from release_hook.gitops import Objects


def _config_at(repo: Objects, sha: str) -> tuple[cfg.Config, str | None]:
    setup = repo.blob(sha, cfg.SETTINGS_FILE)
    conf = cfg.from_text(repo.top, setup.decode("utf-8", "replace"), f"{sha[:12]}:{cfg.SETTINGS_FILE}") \
        if setup else cfg.Config(repo.top)
    return conf, declared_version(repo, sha)


def has_settings(repo: Objects, sha: str) -> bool:
    """Whether the commit's tree holds release-hook's settings: one without them was made
    before the tool was adopted."""
    data = repo.blob(sha, cfg.SETTINGS_FILE)
    return data is not None and cfg.has_settings(data.decode("utf-8", "replace"))


def adopted(repo: Objects) -> bool:
    """Whether the repository has adopted the tool: the settings are in HEAD's tree or at the
    tip of a local or remote-tracking branch (a branch forked before the adoption may be
    checked out while another holds them)."""
    head = repo.head()
    return any(has_settings(repo, sha) for sha in dict.fromkeys([*([head] if head else []),
                                                                 *repo.branch_tips()]))


def adopted_ancestor(repo: Objects, sha: str) -> str | None:
    """A branch tip holding the settings that `sha` descends from: then a commit without them
    was not made before the adoption; its settings were removed."""
    return next((tip for tip in dict.fromkeys(repo.branch_tips())
                 if has_settings(repo, tip) and repo.is_ancestor(tip, sha)), None)


def declared_version(repo: Objects, sha: str) -> str | None:
    """current_version of the commit's bump configuration, as committed."""
    for name in cfg.VERSION_FILES:
        data = repo.blob(sha, name)
        if data is not None:
            version = cfg.version_from_text(data.decode("utf-8", "replace"), f"{sha[:12]}:{name}")
            if version:
                return version
    return None


@dataclass(frozen=True)
class Verdict:
    problems: list[str]  # out-of-step pins
    unchecked: list[str]  # what could not be decided without the index
    offline_push: str  # the commit's own setting: refuse or allow what was not checked
    as_of: datetime.datetime | None = None  # the moment `latest` was judged at


def check(repo_path: str, sha: str) -> Verdict:
    """Whether the Dockerfiles of commit `sha` are in step with the version it declares, as of
    the commit's committer date."""
    with gitops.Objects.open(repo_path) as repo:
        return _check(repo, sha)


def _check(repo: Objects, sha: str) -> Verdict:
    from release_hook.resolve.resolver import resolve
    from release_hook.request import Request

    conf, version = _config_at(repo, sha)
    if version is None:
        return Verdict([], [], conf.offline_push)  # no version declared: nothing to be in step with
    cfg.checked_version(version, f"{sha[:12]}:.bumpversion.cfg current_version")
    when = repo.committer_date(sha)
    cache = ScanCache(conf.package, conf.root)
    tree = repo.tree(sha)
    files.refuse_unmatched(tree.paths(), conf.dockerfiles)
    read: set[str] = set()  # a link and its target are one file, read once (as sync does)
    blobs: list[tuple[str, bytes]] = []
    for path in files.matching(tree.paths(), conf.dockerfiles):
        target = tree.follow(path)
        if target in tree.folders or target in read:
            continue  # a link to a folder is no Dockerfile, as on disk
        read.add(target)
        data = repo.blob(sha, target) if target in tree.files else None
        if data is None:  # as sync --check says of a dangling link on disk
            raise UserError(f"dangling symbolic link (to {tree.links.get(path, target)}), matched by "
                            f"{' '.join(conf.dockerfiles)}", path)
        blobs.append((path, data))
    scans = cache.scan_all(blobs)
    cache.save()
    request = Request(tuple(s.path for s in scans), version, {}, "check", commit=False,
                      offline=False, as_of=when)
    blob = lambda p: repo.blob(sha, p)  # noqa: E731
    context = follow(scans, conf, blob, lambda p: p, lambda p: p)  # the tree's paths are the root's
    targets = resolve(conf, request, scans, partial=True, root_files=blob, context=context)
    scans = [context.carrying(scan) for scan in scans]  # with the pins of files their variables set
    problems = [line for scan in [*scans, *context.scans()]
                for line in plan_file(scan, targets.for_pin, targets.page_for,
                                      context.neighbours.get(scan.path, ())).lines()]
    unchecked: list[str] = []
    said: set[str] = set()  # an unreachable index is said once, not once per pin
    for pin in (pin for scan in scans for pin in scan.pins if pin.package in targets.unresolved):
        why = targets.unresolved[pin.package]
        unchecked.append(f"{pin.path}:{pin.line}: {pin.package} "
                         + ("(same reason)" if why in said else f"({why})"))
        said.add(why)
    return Verdict(problems, unchecked, conf.offline_push, when)
