"""Is a commit's set of Dockerfiles in step with the version it declares? Read from git objects."""
from __future__ import annotations

from dataclasses import dataclass

from release_hook import config as cfg
from release_hook import files, gitops
from release_hook.scancache import ScanCache
from release_hook.plan import plan_file


def _config_at(repo_path: str, sha: str) -> tuple[cfg.Config, str | None]:
    repo = gitops.open_repo(repo_path)
    top = str(repo.working_tree_dir or repo_path)
    setup = gitops.blob(repo, sha, "setup.cfg")
    conf = cfg.from_text(top, setup.decode("utf-8", "replace"), f"{sha[:12]}:setup.cfg") if setup \
        else cfg.Config(top)
    version = None
    for name in cfg.VERSION_FILES:
        data = gitops.blob(repo, sha, name)
        if data is not None:
            version = cfg.version_from_text(data.decode("utf-8", "replace"), f"{sha[:12]}:{name}")
            if version:
                break
    return conf, version


@dataclass(frozen=True)
class Verdict:
    problems: list[str]  # out-of-step pins
    unchecked: list[str]  # what could not be decided without the index
    offline_push: str  # the commit's own setting: refuse or allow what was not checked


def check(repo_path: str, sha: str) -> Verdict:
    """Whether the Dockerfiles of commit `sha` are in step with the version it declares."""
    from release_hook.resolve.resolver import resolve
    from release_hook.request import Request

    repo = gitops.open_repo(repo_path)
    conf, version = _config_at(repo_path, sha)
    if version is None:
        return Verdict([], [], conf.offline_push)  # no version declared: nothing to be in step with
    cfg.checked_version(version, f"{sha[:12]}:.bumpversion.cfg current_version")
    scans = []
    cache = ScanCache(conf.package, conf.root)
    tree = gitops.tree_paths(repo, sha)
    files.refuse_unmatched(tree, conf.dockerfiles)
    for path in files.matching(tree, conf.dockerfiles):
        data = gitops.blob(repo, sha, path)
        assert data is not None
        scans.append(cache.scan(path, files.decode(data, path), data))
    cache.save()
    request = Request(tuple(s.path for s in scans), version, {}, "check", commit=False,
                      offline=False)
    targets = resolve(conf, request, scans, partial=True, root_files=lambda p: gitops.blob(repo, sha, p))
    problems = [line for scan in scans
                for line in plan_file(scan, targets.for_pin, targets.page_for).lines()]
    unchecked: list[str] = []
    said: set[str] = set()  # an unreachable index is said once, not once per pin
    for pin in (pin for scan in scans for pin in scan.pins if pin.package in targets.unresolved):
        why = targets.unresolved[pin.package]
        unchecked.append(f"{pin.path}:{pin.line}: {pin.package} "
                         + ("(same reason)" if why in said else f"({why})"))
        said.add(why)
    return Verdict(problems, unchecked, conf.offline_push)

