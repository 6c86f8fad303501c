"""Command line: `release-hook sync | install | uninstall | hook | help`.

Exit 0 ok, 1 out of step, 2 error, 130 interrupted, 141 output pipe closed.
"""
from __future__ import annotations

import atexit
import contextlib
import gc
import io
import os
import sys
from typing import TYPE_CHECKING, Any, Iterator, NoReturn, Sequence, TextIO

from release_hook import __version__
from release_hook.errors import UserError

if TYPE_CHECKING:
    import argparse
    import datetime

EXIT_ERROR = 2  # 0: done or in step, 1: out of step (sync --check, pre-push)
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C
EXIT_PIPE = 141  # 128 + SIGPIPE, as shells report a writer whose reader went away
HOOK_STAGES = ("pre-commit", "pre-push", "framework", "bump-my-version")


DESCRIPTION = ("Keep the jax, jaxlib and CUDA pins of Dockerfiles in step with each release of a "
               "JAX-based package.")
EPILOG = ("exit status: 0 done or in step, 1 out of step (sync --check, pre-push), 2 error,\n"
          "130 interrupted, 141 output pipe closed early. `release-hook help COMMAND` for a command.")


COMMANDS = ("sync", "install", "uninstall", "doctor", "hook", "help")


def _parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or only of `only` (the command the words name): each
    command's parser asks gettext for three of argparse's words, and gettext looks for a
    translation on disk each time; the five unused ones were about 1.5 ms of every run."""
    import argparse  # not for the hooks' command: 3 ms of each bump

    # argparse makes a formatter to check each argument, and a formatter without a width
    # imports shutil for the terminal's: with bz2, lzma and fnmatch, 2.5 ms of every command.
    class _Wrapped(argparse.HelpFormatter):
        def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                     width: int | None = None) -> None:
            super().__init__(prog, indent_increment, max_help_position,
                             _columns() - 2 if width is None else width)

    class _Raw(_Wrapped, argparse.RawDescriptionHelpFormatter):
        pass

    class _Parser(argparse.ArgumentParser):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("formatter_class", _Wrapped)
            super().__init__(*args, **kwargs)

        def error(self, message: str) -> None:  # type: ignore[override]
            raise UserError(f"usage: {message} (see: release-hook help)")

    parser = _Parser(prog="release-hook", description=DESCRIPTION, epilog=EPILOG, formatter_class=_Raw)
    parser.add_argument("-V", "--version", action="version", version=f"release-hook {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def wanted(name: str) -> bool:
        return only is None or name == only

    if wanted("sync"):
        _sync_arguments(sub.add_parser("sync", help="bring Dockerfile pins in step with a release"))
    for name, text in (("install", "install the git pre-commit and pre-push hooks"),
                       ("uninstall", "remove the hooks, restoring any they replaced")):
        if not wanted(name):
            continue
        p = sub.add_parser(name, help=text)
        p.add_argument("--repo", default=".", help="the repository (default: here)")
        if name == "install":
            p.add_argument("--force", action="store_true",
                           help="rewrite hooks even when git tracks them (core.hooksPath)")
            p.add_argument("--check", action="store_true",
                           help="install nothing; report what is installed (as `doctor`)")
            p.add_argument("--print-bump-my-version", action="store_true",
                           help="install nothing; print a bump-my-version hook that runs this "
                           "installation")
    if wanted("doctor"):
        doctor = sub.add_parser("doctor", help="what hooks are installed, where, and whether they can run")
        doctor.add_argument("--repo", default=".", help="the repository (default: here)")
    if wanted("hook"):
        hook = sub.add_parser("hook", help="what the installed git hooks run")
        hook.add_argument("stage", choices=HOOK_STAGES)
        hook.add_argument("args", nargs="*")
    if wanted("help"):
        helper = sub.add_parser("help", help="show this help, or a command's")
        helper.add_argument("topic", nargs="?", choices=COMMANDS)
    return parser


def _sync_arguments(sync: argparse.ArgumentParser) -> None:
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
    sync.add_argument("-v", "--explain", action="store_true", help="show each pin and what decided it")
    sync.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    sync.add_argument("--format", choices=("text", "json"), default="text",
                      help="json: one document for --check or --dry-run (schema in the README)")
    sync.add_argument("--policy", choices=("minimum", "latest"), help="override the per-file policy")
    sync.add_argument("--cuda", help="CUDA version of images whose base image does not say")
    sync.add_argument("--python", metavar="X.Y", help="the Python of every image (over the file and setup.cfg)")
    sync.add_argument("--platform", help="the platform of every image, like linux/arm64 (over the file and setup.cfg)")
    sync.add_argument("--requirements", help="where the release's requirements come from: "
                      "a pyproject.toml / setup.cfg / setup.py path, or 'index'")
    sync.add_argument("--allow-dirty", action="store_true",
                      help="commit even if a Dockerfile has uncommitted edits")
    sync.add_argument("--allow-detached", action="store_true", help="commit on a detached HEAD")
    sync.add_argument("--as-of", metavar="DATE|COMMIT",
                      help="with --check or --dry-run: judge `latest` as the index stood at this "
                      "moment (an ISO date or time, UTC unless it says; or a commit's date)")
    sync.add_argument("--no-verify", action="store_true",
                      help="do not ask a real resolver (uv or pip) whether the new pins install")
    sync.add_argument("--smoke", action="store_true",
                      help="also install each changed stage into a throwaway virtualenv of its "
                      "Python and import jax and the package ([release_hook] smoke = true)")


def _columns() -> int:
    """The terminal's width as shutil.get_terminal_size gives it: $COLUMNS, else the width of
    the terminal on standard output, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


def main(argv: Sequence[str] | None = None) -> int:
    out, err = _Guarded(sys.stdout), _Guarded(sys.stderr)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):  # type: ignore[type-var]
        code = _main(argv)
        out.flush()
        err.flush()
    if out.failed and code == 0:  # the work is done; what it said was lost, and is said here
        print(f"release-hook: cannot write to standard output: {out.failed} (the command itself "
              "finished)", file=sys.stderr if sys.stderr is not None else io.StringIO())
        return EXIT_ERROR
    if code == 0 and out.cut and not out.closed_at_start:
        return EXIT_PIPE  # the reader stopped reading: what it did not read was not shown
    return code


def _main(argv: Sequence[str] | None) -> int:
    try:
        return _dispatch(sys.argv[1:] if argv is None else list(argv))
    except UserError as e:
        print(f"release-hook: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt as e:  # a sync that had begun writing says what it wrote
        print(f"release-hook: {e.args[0] if e.args else 'interrupted; nothing written'}", file=sys.stderr)
        return EXIT_INTERRUPTED


def _dispatch(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "hook" and argv[1] in HOOK_STAGES and \
            not any(a.startswith("-") for a in argv[2:]):
        # What the installed hooks run, their words as git gives them: importing argparse and
        # building every command's parser took 10 ms of each bump's hook. A word like an option
        # (-h, --help, --) is argparse's, as before.
        from release_hook import hooks

        return hooks.run(argv[1], argv[2:])
    # `help` lists every command; a command's own errors and help need only its parser
    parser = _parser(argv[0] if argv and argv[0] in COMMANDS and argv[0] != "help" else None)
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --version and --help print and stop
        return e.code if isinstance(e.code, int) else 0
    if args.command is None:
        sys.stderr.write(parser.format_help())
        return EXIT_ERROR
    if args.command == "help":
        sys.stdout.write(_help(parser, args.topic))
        return 0
    if args.command == "sync":
        return _sync(args)
    from release_hook import hooks

    if args.command == "doctor" or (args.command == "install" and args.check):
        from release_hook.doctor import doctor

        return doctor(args.repo)
    if args.command == "install" and args.print_bump_my_version:
        return hooks.print_bump_my_version(args.repo)
    if args.command == "install":
        return hooks.install(args.repo, force=args.force)
    if args.command == "uninstall":
        return hooks.uninstall(args.repo)
    return hooks.run(args.stage, args.args)


def _help(parser: argparse.ArgumentParser, topic: str | None) -> str:
    if topic is None:
        return parser.format_help()
    try:
        parser.parse_args([topic, "--help"])  # argparse prints a command's help and stops
    except SystemExit:
        pass
    return ""


def _sync(args: argparse.Namespace) -> int:
    if args.version is not None and not args.version.strip():
        raise UserError("--version is empty (an unset shell variable?); give a version, or leave "
                        "--version out to read .bumpversion.cfg")
    if args.format == "json" and not (args.check or args.dry_run):
        raise UserError("--format json goes with --check or --dry-run")
    known: dict[str, str | None] = {"package": None, "version": None, "version_from": None}
    try:
        return _run_sync(args, known)
    except UserError as e:
        from release_hook.report import error_document, with_next_step, write_json

        error = with_next_step(e, args.offline)
        if args.format == "json":  # a consumer that asked for a document gets one, with the error
            write_json(error_document("check" if args.check else "dry-run", known["package"],
                                      known["version"], known["version_from"], error), sys.stdout)
        raise error from None


def _run_sync(args: argparse.Namespace, known: dict[str, str | None] | None = None) -> int:
    """`known`: filled in as the run learns the package and the version, for an error's document."""
    from release_hook import config as cfg
    from release_hook.report import Output
    from packaging.version import Version

    from release_hook.resolve.targets import parse_pin
    from release_hook.request import Request
    from release_hook.sync import run

    known = {} if known is None else known
    root = cfg.find_root(os.getcwd())
    conf = cfg.load(root)
    known["package"] = conf.package
    what, version = "--version", args.version
    where: tuple[str | None, int | None] = (None, None)
    for name in cfg.VERSION_ENV:
        if not version and os.environ.get(name):
            what, version = name, os.environ[name]
    if not version:
        version, name, line = cfg.current_version_at(root)
        what, where = f"{name} current_version", (name, line)
    try:
        cfg.checked_version(version, what)
    except UserError as e:
        raise UserError(e.message, *where) from None
    known.update(version=version, version_from=what)
    pins: dict[str, str] = {}
    for given in args.pin:
        pinned, to = parse_pin(given)
        if pinned in pins and Version(pins[pinned]) != Version(to):  # 0.4.23 and 0.4.23.0 agree
            raise UserError(f"--pin {given!r}: {pinned} is already pinned to {pins[pinned]}; give one version")
        pins.setdefault(pinned, to)  # the first spelling is the one written
    if args.cuda:  # checked here, as the image's name may never ask for it
        cfg.checked_cuda(args.cuda, "--cuda: ")
    mode = "check" if args.check else "dry-run" if args.dry_run else "write"
    if args.as_of and mode == "write":
        raise UserError("--as-of judges, it does not write: use it with --check or --dry-run")
    request = Request(tuple(args.paths), version, pins, mode, not (args.no_commit or args.stage),
                      args.offline, args.stage, args.allow_dirty, args.allow_detached, args.explain,
                      args.policy, args.cuda, args.requirements,
                      python=args.python and cfg.checked_python(args.python, "--python"),
                      platform=args.platform and cfg.checked_platform(args.platform, "--platform"),
                      as_of=_as_of(args.as_of, root) if args.as_of else None,
                      verify=not args.no_verify, smoke=args.smoke or conf.smoke)
    output = Output(args.format, args.quiet, what)
    if not args.quiet:
        return run(conf, request, output)
    with _silenced(keep_stdout=args.format == "json"):  # a document asked for is still printed
        return run(conf, request, output)


@contextlib.contextmanager
def _silenced(keep_stdout: bool) -> Iterator[None]:
    """-q: errors only. Errors travel as exceptions and are printed after this block."""
    sink = io.StringIO()
    with contextlib.redirect_stderr(sink):
        if keep_stdout:
            yield
            return
        with contextlib.redirect_stdout(sink):
            yield


class _Guarded(io.TextIOBase):
    """A standard stream that a closed pipe (`| head`) silences instead of raising.

    The work goes on to its end (a sync is never left half-committed because its reader went
    away); what is left to print is dropped, and the descriptor is pointed at /dev/null so that
    the interpreter's last flush does not complain either.
    """

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__()
        self.stream: TextIO = stream if stream is not None else io.StringIO()
        self.closed_at_start = stream is None  # `>&-`: nobody asked to read it
        self.cut = self.closed_at_start
        self.failed: str | None = None  # a write that failed for another reason (a full disk)

    def write(self, text: str) -> int:
        if not self.cut:
            try:
                self.stream.write(text)
            except BrokenPipeError:
                self._cut()
            except OSError as e:
                self.failed = self.failed or e.strerror or str(e)
                self._cut()
        return len(text)

    def flush(self) -> None:
        if not self.cut:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._cut()
            except OSError as e:
                self.failed = self.failed or e.strerror or str(e)
                self._cut()

    def isatty(self) -> bool:
        return not self.cut and self.stream.isatty()

    def _cut(self) -> None:
        self.cut = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, io.UnsupportedOperation):
            pass

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.stream, "encoding", "utf-8")


def _as_of(value: str, root: str) -> datetime.datetime:
    """An ISO date (midnight UTC) or date and time (UTC unless it says), else a commit-ish's
    committer date."""
    import datetime
    import re

    if re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ].*)?", value):
        try:
            when = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise UserError(f"--as-of: {value!r} is not an ISO date or time") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.timezone.utc)
        return when.astimezone(datetime.timezone.utc)
    from release_hook import gitops

    found = gitops.resolve_date(root, value)
    if found is None:
        raise UserError(f"--as-of: {value!r} is neither an ISO date nor a commit here")
    return found


def console() -> None:
    """The process's entry point (the console script, `python -m release_hook`)."""
    # A run is short and keeps what it builds to its end, so the cycle collector's passes
    # free nothing: off, a 1-file sync took 3 ms less CPU and 10,000 files 11-17% less, with
    # the same peak memory. In-process callers of main() keep theirs.
    gc.disable()
    _leave(main())


def _leave(code: int) -> NoReturn:
    """Exit without the interpreter's teardown of every module and object it built: 5 ms of a
    1-file sync's 52 and of each bump's hook (medians of 50 runs side by side). What of that
    teardown matters is done here: the store closed as sqlite expects, the atexit functions run
    (temporary folders, the index's timer), the standard streams flushed."""
    store = sys.modules.get("release_hook.cache")  # not imported by a run that never used it
    if store is not None:
        store.close()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a reader gone: main() has already said so in its status
            pass
    os._exit(code)
