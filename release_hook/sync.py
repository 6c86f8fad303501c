"""`release-hook sync`: read, find pins, resolve targets, plan, apply, commit."""
from __future__ import annotations

import gc
import os
import re
import sys
from typing import TYPE_CHECKING

from release_hook import files
from release_hook.config import Config
from release_hook.context import Context
from release_hook.digests import hexdigest
from release_hook.errors import UserError
from release_hook.found import Note, Scan
from release_hook.plan import FilePlan, plan_file
from release_hook.records import NamedTuple
from release_hook.report import Output
from release_hook.request import Request, relative, resolver_left_out
from release_hook.resolve.sources import disk_reader
from release_hook.resolve.targets import Resolution
from release_hook.scancache import ScanCache

if TYPE_CHECKING:
    from release_hook.resolve.index import Index


class Read(NamedTuple):
    """What a run read before deciding anything: the Dockerfiles and the files they name."""

    scans: list[Scan]
    originals: dict[str, bytes]  # path -> bytes as read
    context: Context
    asked: dict[str, bytes | None]  # every file the build context was asked for (None: absent)
    cache: ScanCache  # the scans' store, told what a write makes of them


def read_dockerfiles(config: Config, request: Request) -> dict[str, bytes]:
    """The Dockerfiles the run is about (path -> bytes as read)."""
    paths = files.discover(request.paths, config.root, config.dockerfiles)
    files.refuse_links_outside(paths, config.root)
    return {path: files.read_bytes(path) for path in paths}


def read(config: Config, request: Request, dockerfiles: dict[str, bytes] | None = None) -> Read:
    originals = dict(dockerfiles) if dockerfiles is not None else read_dockerfiles(config, request)
    cache = ScanCache(config.package, config.root)
    scans = cache.scan_all(list(originals.items()))
    cache.save()
    from release_hook.context import follow

    asked: dict[str, bytes | None] = {}
    on_disk = disk_reader(config.root)

    def read_file(rel: str) -> bytes | None:
        asked[rel] = on_disk(rel)
        return asked[rel]

    context = follow(scans, config, read_file, lambda p: relative(config, p),
                     lambda rel: files.display(os.path.join(config.root, rel)))
    files.refuse_outside([req.path for req in context.scans()], config.root)
    for req in context.scans():
        originals[req.path] = files.read_bytes(req.path)
    _refuse_unknown_pins(request, [*map(context.carrying, scans), *context.scans()])
    return Read(scans, originals, context, asked, cache)


def plan(config: Config, request: Request, done: Read | None = None
         ) -> tuple[list[FilePlan], dict[str, bytes], Resolution]:
    from release_hook import locks
    from release_hook.resolve.resolver import resolve

    done = done or read(config, request)
    scans, originals, context = done.scans, done.originals, done.context
    resolution = resolve(config, request, scans, context=context)
    resolution = resolution.warning_also(context.warnings())
    plans = [plan_file(context.carrying(scan), resolution.for_pin, resolution.page_for,
                       context.neighbours.get(scan.path, ())) for scan in scans]
    for req in context.scans():
        found = context.file_of(req.path)
        assert found is not None
        more = locks.plan(req, found, resolution.for_pin, resolution.page_for, os.getcwd(), config.package,
                          lambda: _index(request), offline=request.offline)
        for p in more[1:]:  # a re-lock's input files, rewritten too
            originals[p.path] = files.read_bytes(p.path)
        plans += more
    return plans, originals, resolution


_SAID = ("PIP_", "UV_", "RELEASE_HOOK_", "PRE_COMMIT", "SSL_CERT_", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
_PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


def _digest(data: bytes | None) -> str:
    return hexdigest(data) if data is not None else "absent"


def in_step_key(config: Config, request: Request, output: Output, dockerfiles: dict[str, bytes]) -> str | None:
    """The key of a plain `--check` over exactly these Dockerfiles and settings, whose answer was
    "in step": such a check is not decided again while the decisions it rested on are trusted
    (memo.PAIR_TTL) and the files their build context was asked for are unchanged (the entry
    holds their digests). None for a run that prints more than its exit status."""
    if request.mode != "check" or request.explain or output.format == "json" \
            or os.environ.get("RELEASE_HOOK_NO_CACHE"):  # nothing read before is trusted then
        return None
    import json

    # The Dockerfiles, and the files the release's requirements, version and settings may come from.
    digests = {path: _digest(data) for path, data in dockerfiles.items()}
    own = ["setup.cfg", "pyproject.toml", "setup.py", ".bumpversion.cfg", ".bumpversion.toml",
           request.requirements or config.requirements, os.environ.get("RELEASE_HOOK_IMPORT_TABLE") or ""]
    for name in own:
        path = os.path.join(config.root, name) if name and name != "index" else ""
        if path and os.path.isfile(path):
            digests[path] = _digest(files.read_bytes(path))
    said = {k: v for k, v in os.environ.items() if k.startswith(_SAID) or k.upper() in _PROXIES}
    if request.smoke or config.smoke:  # the interpreters a smoke test finds
        said.update({k: os.environ.get(k, "") for k in ("PATH", "PYENV_ROOT", "PYENV_VERSION")})
    from release_hook.resolve import pipconf

    try:
        pip = repr(pipconf.settings())  # where packages come from, as pip's files say it
    except UserError:
        return None  # the run itself says what is wrong with them, where it reads them
    what = json.dumps(["in step", repr(config), repr(request), os.getcwd(), sorted(digests.items()),
                       sorted(said.items()), pip])
    return "check in step " + hexdigest(what.encode())


def _remembered(config: Config, key: str) -> list[Note] | None:
    """The warnings of the in-step check stored under `key`, if the files its build context
    was asked for (requirements files, constraints, locks, absent ones too) are as they were:
    then the Dockerfiles are not even scanned again."""
    from release_hook import cache
    from release_hook.resolve.memo import PAIR_TTL

    cache.begin_run()
    kept = cache.get(key, PAIR_TTL)
    if not isinstance(kept, dict):
        return None
    on_disk = disk_reader(config.root)
    try:
        if any(_digest(on_disk(rel)) != digest for rel, digest in kept["asked"].items()):
            return None
        return [Note(path, line, message) for path, line, message in kept["warnings"]]
    except (KeyError, TypeError, ValueError, AttributeError):
        return None  # not trusted: decided again and overwritten


def _index(request: Request) -> "Index":
    """The package index, for the hashes of a lock: read only when a hash-locked pin moves."""
    from release_hook.resolve.index import Index
    from release_hook.resolve.pipconf import index_urls

    return Index(index_urls(), offline=request.offline)


def run(config: Config, request: Request, output: Output = Output()) -> int:
    dockerfiles = read_dockerfiles(config, request)
    key = in_step_key(config, request, output, dockerfiles)
    kept = _remembered(config, key) if key is not None else None
    if kept is not None:  # in step, with the warnings that check gave
        for note in kept:
            print(f"warning: {note}", file=sys.stderr)
        return 0
    done = read(config, request, dockerfiles)
    # What was read lives to the end of the run: the cycle collector need not walk it again in
    # every collection the planning's garbage sets off (10,000 files took 10.1-11.5 times as
    # long as 1,000; 8.7 with this).
    gc.freeze()
    try:
        return _decide_and_write(config, request, output, done, key)
    finally:
        gc.unfreeze()


def _decide_and_write(config: Config, request: Request, output: Output, done: Read, key: str | None) -> int:
    plans, originals, resolution = plan(config, request, done)
    warned: list[Note] = []
    for p in plans:
        for w in p.scan.warnings:
            print(f"warning: {w}", file=sys.stderr)
            warned.append(w)
    if output.format != "json":  # the document carries them
        for trap in resolution.warnings:
            print(f"warning: {trap}", file=sys.stderr)
            warned.append(trap)
    # Warnings are read from the bytes and settings the key holds, and from the rules when the
    # request itself leaves the resolver out; one that says what the network did is not kept.
    replayable = not resolution.warnings or bool(resolver_left_out(request))
    from release_hook.report import proof_lines, unproved_warnings

    for line in unproved_warnings(plans, resolution):
        print(f"warning: {line}", file=sys.stderr)
        replayable = False
    verdicts = {p.path: proof_lines(resolution, p.path) for p in plans} \
        if request.explain or request.mode == "dry-run" else {}
    changed = [p for p in plans if p.changed]
    if changed and request.mode != "write":  # what the sync would refuse, said now
        from release_hook.apply import once_per_file

        once_per_file(changed, originals)
    if output.format == "json":
        from release_hook.report import document, write_json

        diffs = {p.path: unified_diff(p) for p in changed} if request.mode == "dry-run" else None
        write_json(document(plans, resolution, config.package, request.version, request.mode,
                            output.version_from, diffs), sys.stdout)
        return 1 if request.mode == "check" and changed else 0
    if request.explain or request.mode == "dry-run":
        from release_hook.report import explain

        explain(plans, resolution, sys.stdout, output.version_from, config, request, verdicts)
    if request.mode == "check":
        for p in changed:
            print("\n".join(p.lines()))
        if changed:
            what = "Dockerfile(s)" if all(p.scan.stages for p in changed) else "file(s)"
            print(f"{len(changed)} {what} out of step with {config.package} {request.version}"
                  f"{_fix(request, output.version_from)}", file=sys.stderr)
            return 1
        if key is not None and replayable:
            from release_hook import cache

            cache.put(key, {"asked": {rel: _digest(data) for rel, data in done.asked.items()},
                            "warnings": [[w.path, w.line, w.message] for w in warned]})
        return 0
    if request.mode == "dry-run":
        for p in changed:
            sys.stdout.write(unified_diff(p))
        return 0
    repo, top, ignored = None, None, None
    if changed and (request.commit or request.stage):
        from release_hook import gitops

        if request.stage:
            top = gitops.toplevel(config.root)
            if not request.allow_dirty:
                ignored = gitops.refuse_dirty_paths(top, [p.path for p in changed])
        else:
            repo = gitops.open_for_sync(config.root, [p.path for p in changed], request)
    from release_hook.apply import prepare, write_all

    prepared = prepare(changed, originals)
    try:
        write_all(prepared)
        paths = [os.path.abspath(p.path) for p in changed]
        sha, message = "", ""
        try:
            if top is not None:
                gitops.stage_paths(top, paths, ignored)
            if repo is not None:
                message = gitops.commit_message(config.package, request.version, changed)
                sha = gitops.commit_files(repo, paths, message)
        except UserError as e:  # git refused: the files as they were, so that nothing is half done
            from release_hook.apply import put_back

            put_back(prepared)
            raise UserError(f"{e.message}; nothing written", e.path, e.line) from None
    except KeyboardInterrupt:
        # said by the command line, which exits 130 as for any Ctrl-C
        raise KeyboardInterrupt(f"interrupted; {_written(changed, repo is not None)}") from None
    done.cache.written((p.plan.path, p.plan.old_text, p.data, p.plan.new_text, p.plan.edits) for p in prepared)
    for p in changed:
        print("\n".join(p.lines(arrow="->")))
    if sha:
        print(f"committed {sha[:12]}: {message.splitlines()[0]}")
    return 0


def _fix(request: Request, version_from: str) -> str:
    """The next step of a failed --check: the sync of the same files, release and overrides.
    Under --as-of a sync would judge `latest` as of now and could write something else than
    what the check expected: show it before it writes."""
    from release_hook.invocation import command

    args = ["sync", *request.paths]
    if not version_from.endswith("current_version"):  # --version, or a bump's variable
        args += ["--version", request.version]
    args += [f"--pin={name}=={v}" for name, v in request.pins.items()]
    for flag, value in (("--policy", request.policy), ("--cuda", request.cuda),
                        ("--python", request.python), ("--platform", request.platform),
                        ("--requirements", request.requirements)):
        if value:
            args += [flag, value]
    if request.offline:
        args.append("--offline")
    if not _in_git(os.getcwd()):  # a sync commits by default, and here it could not
        args.append("--no-commit")
    if request.as_of is None:
        return f"; run: {command(*args)}"
    return (f" as of {request.as_of:%Y-%m-%d %H:%M:%S} UTC; a sync judges `latest` as of now: "
            f"see what it would write with: {command(*args, '--dry-run')}")


def _in_git(path: str) -> bool:
    from release_hook import gitops

    try:
        gitops.toplevel(path)
    except UserError:
        return False
    return True


def _written(changed: list[FilePlan], committing: bool) -> str:
    """What a Ctrl-C left on disk, read back from the files themselves."""
    done: list[str] = []
    todo: list[str] = []
    for p in changed:
        try:
            with open(p.path, encoding="utf-8", newline="") as f:
                (done if f.read() == p.new_text else todo).append(p.path)
        except OSError:
            todo.append(p.path)

    def some(paths: list[str]) -> str:
        return ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")

    if not done:
        return "nothing written"
    text = f"written: {some(done)}"
    if todo:
        text += f"; not written: {some(todo)}"
    return text + ("; not committed" if committing else "")


def _refuse_unknown_pins(request: Request, scans: list[Scan]) -> None:
    """A --pin of a package no file pins (or names, with a computed version) is a typo, not a no-op."""
    pinned = sorted({p.package for s in scans for p in s.pins})
    notes = [n.message for s in scans for n in (*s.warnings, *s.mentions)]
    for name in sorted(request.pins):
        named = re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])", re.IGNORECASE)
        if name not in pinned and not any(named.search(m) for m in notes):
            raise UserError(f"--pin {name}: no Dockerfile pins {name}; pinned: "
                            f"{', '.join(pinned) or 'nothing'}")


def unified_diff(p: FilePlan) -> str:
    import difflib

    out = []
    for line in difflib.unified_diff(p.old_text.splitlines(keepends=True),
                                     p.new_text.splitlines(keepends=True),
                                     f"a/{p.path}", f"b/{p.path}"):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)
