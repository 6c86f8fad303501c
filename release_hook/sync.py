"""`release-hook sync`: read, find pins, resolve targets, plan, apply, commit."""
from __future__ import annotations

import difflib
import os
import sys

from release_hook import files
from release_hook.config import Config
from release_hook.scancache import ScanCache
from release_hook.plan import FilePlan, plan_file
from release_hook.request import Request
from release_hook.resolve.targets import Resolution


def plan(config: Config, request: Request) -> tuple[list[FilePlan], dict[str, bytes], Resolution]:
    paths = files.discover(request.paths, config.root, config.dockerfiles)
    scans = []
    originals: dict[str, bytes] = {}
    cache = ScanCache(config.package, config.root)
    for path in paths:
        data = files.read_bytes(path)
        originals[path] = data
        scans.append(cache.scan(path, files.decode(data, path), data))
    cache.save()
    from release_hook.resolve.resolver import resolve

    resolution = resolve(config, request, scans)
    plans = [plan_file(scan, resolution.for_pin, resolution.page_for) for scan in scans]
    return plans, originals, resolution


def run(config: Config, request: Request) -> int:
    plans, originals, resolution = plan(config, request)
    for p in plans:
        for w in p.scan.warnings:
            print(f"warning: {w}", file=sys.stderr)
    for trap in resolution.warnings:
        print(f"warning: {trap}", file=sys.stderr)
    if request.explain or request.mode == "dry-run":
        from release_hook.report import explain

        explain(plans, resolution, sys.stdout)
    changed = [p for p in plans if p.changed]
    if request.mode == "check":
        for p in changed:
            print("\n".join(p.lines()))
        if changed:
            print(f"{len(changed)} Dockerfile(s) out of step with {config.package} {request.version}; "
                  "run: python -m release_hook sync", file=sys.stderr)
            return 1
        return 0
    if request.mode == "dry-run":
        for p in changed:
            sys.stdout.write(unified_diff(p))
        return 0
    repo, top = None, None
    if changed and (request.commit or request.stage):
        from release_hook import gitops

        if request.stage:
            top = gitops.toplevel(config.root)
            if not request.allow_dirty:
                gitops.refuse_dirty_paths(top, [p.path for p in changed])
        else:
            repo = gitops.open_for_sync(config.root, [p.path for p in changed], request)
    from release_hook.apply import prepare, write_all

    write_all(prepare(changed, originals))
    for p in changed:
        print("\n".join(p.lines(arrow="->")))
    paths = [os.path.abspath(p.path) for p in changed]
    if top is not None:
        gitops.stage_paths(top, paths)
    if repo is not None:
        message = gitops.commit_message(config.package, request.version, changed)
        sha = gitops.commit_files(repo, paths, message)
        if sha:
            print(f"committed {sha[:12]}: {message}")
    return 0


def unified_diff(p: FilePlan) -> str:
    out = []
    for line in difflib.unified_diff(p.old_text.splitlines(keepends=True),
                                     p.new_text.splitlines(keepends=True),
                                     f"a/{p.path}", f"b/{p.path}"):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)
