"""Command line: `release-hook sync | install | uninstall | hook`. Exit 0 ok, 1 out of step, 2 error."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from release_hook.errors import UserError

EXIT_ERROR = 2  # 0: done or in step, 1: out of step (sync --check, pre-push)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(f"usage: {message}")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="release-hook", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sync = sub.add_parser("sync", help="bring Dockerfile pins in step with a release")
    sync.add_argument("paths", nargs="*", metavar="PATH", help="Dockerfiles or folders to search")
    sync.add_argument("--version", help="the released package's new version")
    sync.add_argument("--pin", action="append", default=[], metavar="NAME==VERSION",
                      help="force a pin (repeatable)")
    mode = sync.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="print the plan and a diff; write nothing")
    mode.add_argument("--check", action="store_true", help="write nothing; exit 1 when out of step")
    sync.add_argument("--no-commit", action="store_true", help="write the files, do not commit")
    sync.add_argument("--stage", action="store_true",
                      help="write the files and `git add` them, do not commit (for bump hooks)")
    sync.add_argument("--offline", action="store_true", help="never touch the network")
    sync.add_argument("--explain", action="store_true", help="show each pin and what decided it")
    sync.add_argument("--policy", choices=("minimum", "latest"), help="override the per-file policy")
    sync.add_argument("--cuda", help="CUDA version of images whose base image does not say")
    sync.add_argument("--requirements", help="where the release's requirements come from: "
                      "a pyproject.toml / setup.cfg / setup.py path, or 'index'")
    sync.add_argument("--allow-dirty", action="store_true",
                      help="commit even if a Dockerfile has uncommitted edits")
    sync.add_argument("--allow-detached", action="store_true", help="commit on a detached HEAD")
    sync.add_argument("--no-verify", action="store_true",
                      help="do not ask a real resolver (uv or pip) whether the new pins install")

    for name, text in (("install", "install the git pre-commit and pre-push hooks"),
                       ("uninstall", "remove the hooks, restoring any they replaced")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--repo", default=".", help="the repository (default: here)")

    hook = sub.add_parser("hook", help="what the installed git hooks run")
    hook.add_argument("stage", choices=("pre-commit", "pre-push"))
    hook.add_argument("args", nargs="*")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        if args.command == "sync":
            return _sync(args)
        from release_hook import hooks

        if args.command == "install":
            return hooks.install(args.repo)
        if args.command == "uninstall":
            return hooks.uninstall(args.repo)
        return hooks.run(args.stage, args.args)
    except UserError as e:
        print(f"release-hook: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("release-hook: interrupted; nothing written", file=sys.stderr)
        return EXIT_ERROR


def _sync(args: argparse.Namespace) -> int:
    from release_hook import config as cfg
    from release_hook.resolve.targets import parse_pin
    from release_hook.request import Request
    from release_hook.sync import run

    root = cfg.find_root(os.getcwd())
    conf = cfg.load(root)
    what, version = "--version", args.version
    for name in cfg.VERSION_ENV:
        if not version and os.environ.get(name):
            what, version = name, os.environ[name]
    if not version:
        what, version = "current_version", cfg.current_version(root)
    cfg.checked_version(version, what)
    pins = dict(parse_pin(p) for p in args.pin)
    mode = "check" if args.check else "dry-run" if args.dry_run else "write"
    request = Request(tuple(args.paths), version, pins, mode, not (args.no_commit or args.stage),
                      args.offline, args.stage, args.allow_dirty, args.allow_detached, args.explain,
                      args.policy, args.cuda, args.requirements,
                      verify=not args.no_verify)
    return run(conf, request)


def console() -> None:
    raise SystemExit(main())
