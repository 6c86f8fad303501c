"""The real resolver, asked one question at a time: does this install resolve for this image, and
to what? uv's `pip compile` (a dependency of this tool, about 60x faster than pip on a CUDA set:
see benchmarks/bench.py), else pip's `install --dry-run --report` (RELEASE_HOOK_RESOLVER=pip).

Its answer is the truth about installing: the search (search.py) walks candidates by asking it,
and the answer that is kept is also the proof shown by `--explain`. Answers are cached by the
whole question, the resolver and the user's index settings.
"""
from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from typing import Protocol

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from release_hook import cache
from release_hook.resolve import pipconf, uvcli
from release_hook.resolve.image import Target

SETTLED_TTL = 30 * 86400.0  # an answer as of a past moment stays the answer
ANSWER_TTL = 600.0  # an answer as of now changes with the next release (index.PAGE_TTL)
RUN_LIMIT = 900.0  # seconds for one run by hand: pip fetches whole wheels without PEP 658
HOOK_LIMIT = 60.0  # inside a commit or push hook the user is waiting at a prompt
# Set by bump tools and by our hooks: the run is inside a commit or a push.
_HOOK_VARIABLES = ("BUMPVERSION_NEW_VERSION", "BVHOOK_NEW_VERSION", "PRE_COMMIT", "RELEASE_HOOK_IN_HOOK")


@dataclass(frozen=True)
class Ask:
    """One question: do these requirements (with these constraints) install for the target?"""

    requirements: tuple[str, ...]
    target: Target
    constraints: tuple[str, ...] = ()
    options: tuple[tuple[str, str], ...] = ()  # ("--find-links", URL), ...: trusted ones only
    lowest: bool = False  # the lowest direct versions (a `minimum` search's question)
    exclude_newer: datetime.datetime | None = None  # only what was uploaded by then
    settled: tuple[str, ...] = ()  # packages exempt from exclude_newer (pinned by the question)
    no_deps: bool = False

    def key(self) -> str:
        return json.dumps({"r": sorted(self.requirements), "c": sorted(self.constraints),
                           "o": self.options, "t": [self.target.python, self.target.arch, self.target.glibc],
                           "l": self.lowest, "x": self.exclude_newer.isoformat() if self.exclude_newer else None,
                           "s": sorted(self.settled), "n": self.no_deps}, sort_keys=True)


@dataclass(frozen=True)
class Answer:
    state: str  # "installs", "refused" or "unproved" (no answer: why is in reason)
    reason: str = ""  # the resolver's own words (refused), or why there is no answer
    tool: str = ""  # "uv 0.13.9", "pip 23.2.1"
    installs: tuple[tuple[str, str], ...] = ()  # (name, version) chosen
    cached: bool = False
    # asked with all their releases: the index gives their files no date (not settled by the moment)
    undated: tuple[str, ...] = ()

    def version_of(self, name: str) -> Version | None:
        wanted = canonicalize_name(name)
        for n, v in self.installs:
            if canonicalize_name(n) == wanted:
                try:
                    return Version(v)
                except InvalidVersion:
                    return None
        return None


class Resolver(Protocol):
    name: str

    def version(self) -> str | None: ...

    def run(self, ask: Ask) -> Answer: ...


def choose() -> Resolver:
    """uv (a dependency), unless RELEASE_HOOK_RESOLVER=pip or uv's binary is missing."""
    if os.environ.get("RELEASE_HOOK_RESOLVER", "") != "pip":
        binary = uvcli.binary()
        if binary is not None:
            return Uv(binary)
    return Pip()


def index_settings() -> dict[str, str]:
    """The user's pip settings that decide what a resolver sees: part of every cache key."""
    return {name: value for name in ("index-url", "extra-index-url", "find-links", "no-index")
            if (value := pipconf.setting(name)) is not None}


def ask(question: Ask, resolver: Resolver) -> Answer:
    """The resolver's answer: from the cache, or by running it."""
    if not question.requirements:
        return Answer("unproved", "nothing to ask about")
    key = "answer " + json.dumps([question.key(), resolver.name, index_settings()])
    hit = cache.get(key, None)
    if isinstance(hit, dict) and float(hit.get("until", 0)) > time.time():
        try:
            return Answer(str(hit["state"]), str(hit["reason"]), str(hit["tool"]),
                          tuple((str(n), str(v)) for n, v in hit["installs"]), cached=True)
        except (KeyError, TypeError, ValueError):
            pass  # not trusted: asked again
    answer = resolver.run(question)
    if answer.state == "refused":
        source = source_only(answer.reason)
        if source:
            answer = Answer("unproved", source, answer.tool)
    if answer.state in ("installs", "refused") or answer.reason.endswith(SOURCE_ONLY):
        # as of a past moment the answer stays, unless a project without dates was taken whole:
        # its next release changes it
        settled = question.exclude_newer is not None and answer.state == "installs" and not answer.undated
        ttl = SETTLED_TTL if settled else ANSWER_TTL
        cache.put(key, {"state": answer.state, "reason": answer.reason, "tool": answer.tool,
                        "installs": [list(i) for i in answer.installs], "until": time.time() + ttl})
    return answer


SOURCE_ONLY = "is published as source only: asking would mean building it (running its setup.py)"


def source_only(reason: str) -> str:
    """Old jax releases (0.2.x) are source archives only: a resolver told not to build refuses
    them, which says nothing about the image ("" when that is not the reason)."""
    m = re.search(r"Because ([\w.-]+)==(\S+) has no usable wheels", reason)  # uv says so
    if m is None:
        m = re.search(r"satisfies the requirement ([\w.-]+)(?:\[[^]]*\])?==(\S+) \(from versions: ([^)]*)\)", reason)
        if m is None or m.group(2) in m.group(3).split(", ") or not _sdists_only(m.group(1), m.group(2)):
            return ""
    return f"{m.group(1)} {m.group(2)} {SOURCE_ONLY}"


def _sdists_only(project: str, version: str) -> bool:
    """Whether the user's index has files of this release and none of them is a wheel."""
    from release_hook.errors import UserError
    from release_hook.resolve.index import Index

    try:
        wanted = Version(version)
        files = [d.filename for d in Index(pipconf.index_urls()).dists(project) if d.version == wanted]
    except (UserError, InvalidVersion):
        return False
    return bool(files) and not any(f.endswith(".whl") for f in files)


def time_limit() -> float:
    """Seconds one resolver run may take: RELEASE_HOOK_RESOLVER_LIMIT, else less inside a hook."""
    try:
        return float(os.environ["RELEASE_HOOK_RESOLVER_LIMIT"])
    except (KeyError, ValueError):
        pass
    if any(os.environ.get(v) for v in _HOOK_VARIABLES):
        return HOOK_LIMIT
    return RUN_LIMIT


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return _short(lines[-1]) if lines else ""


def _run(cmd: list[str], env: dict[str, str] | None = None,
         input: str | None = None, waiting_for: str = "") -> subprocess.CompletedProcess[str] | str:
    limit = time_limit()
    try:
        return subprocess.run(cmd, capture_output=True, text=True, env=env, input=input, timeout=limit,
                              stdin=None if input is not None else subprocess.DEVNULL)
    except FileNotFoundError:
        return f"{cmd[0]} is not installed"
    except subprocess.TimeoutExpired as e:
        said = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        last = _last_line(said)
        return (f"no answer within {limit:g}s while resolving {waiting_for}"
                + (f" (its last words: {last})" if last else ""))


def _missing_extra(stderr: str) -> str:
    """An extra the pinned version does not have installs nothing, silently (jax 0.4.14 and
    `jax[cuda12]`): both resolvers only warn, but the image would lack its CUDA packages."""
    for line in stderr.splitlines():
        if "does not provide the extra" in line or "does not have an extra named" in line:
            return re.sub(r"^(WARNING|warning): ", "", line.strip())
    return ""


def _what(question: Ask) -> str:
    shown = " ".join(question.requirements[:4])
    return shown + (f" and {len(question.requirements) - 4} more" if len(question.requirements) > 4 else "")


# -- uv -----------------------------------------------------------------------------------------

class Uv:
    """`uv pip compile`, given pip's index settings (uv does not read pip's configuration)."""

    name = "uv"

    _versions: dict[str, str] = {}  # by binary: a run asks once, not once per decision

    def __init__(self, binary: str) -> None:
        self.binary = binary

    def version(self) -> str | None:
        if self.binary not in Uv._versions:
            done = _run([self.binary, "--version"])
            if isinstance(done, str) or done.returncode != 0:
                return None
            Uv._versions[self.binary] = done.stdout.split()[1] if len(done.stdout.split()) > 1 else ""
        return Uv._versions[self.binary]

    def command(self, question: Ask, constraints: str | None) -> list[str]:
        target = question.target
        if target.glibc is None:
            platform = f"{target.arch}-unknown-linux-musl"
        else:
            glibc = max(n for n in _UV_GLIBC if n <= max(target.glibc, 17))
            platform = f"{target.arch}-manylinux_2_{glibc}"
        cmd = [self.binary, "pip", "compile", "-", "--python-version", "{}.{}".format(*target.python),
               "--python-platform", platform,
               # an interpreter given, so uv does not search the machine for one of that version
               "--python", sys.executable, "--no-config", "--no-build", "--no-header",
               "--no-annotate", "--color", "never",
               "--resolution", "lowest-direct" if question.lowest else "highest"]
        if question.exclude_newer is not None:
            cmd += ["--exclude-newer", question.exclude_newer.astimezone(datetime.timezone.utc)
                    .strftime("%Y-%m-%dT%H:%M:%SZ")]
            cmd += [arg for name in question.settled for arg in ("--exclude-newer-package", f"{name}=false")]
        if question.no_deps:
            cmd.append("--no-deps")
        if constraints is not None:
            cmd += ["--constraints", constraints]
        cmd += uvcli.index_options()
        return cmd + [arg for option in question.options for arg in option]

    def run(self, question: Ask) -> Answer:
        answer, said = self._once(question)
        if question.exclude_newer is None:
            return answer
        # An index that dates some projects' files and not others (a mirror): under
        # --exclude-newer uv leaves out every file without a date, and refuses what installs.
        # The index cannot say when those were published: all their releases are considered,
        # as our own view of the index does (resolve/view.py), and the proof says so.
        exempt = set(question.settled)
        while answer.state != "installs":
            undated = undated_projects(said) - exempt
            if not undated:
                break
            exempt |= undated
            answer, said = self._once(replace(question, settled=tuple(sorted(exempt))))
        named = sorted(exempt - set(question.settled))
        if not named:
            return answer
        note = f"the index gives no date for files of {', '.join(named)}: all " \
               f"{'its' if len(named) == 1 else 'their'} releases were considered"
        return replace(answer, reason=f"{answer.reason} ({note})" if answer.reason else note,
                       undated=tuple(named))

    def _once(self, question: Ask) -> tuple[Answer, str]:
        """The answer, and what uv printed on its standard error."""
        tool = f"uv {self.version() or ''}".strip()
        with tempfile.TemporaryDirectory(prefix="release-hook-ask-") as folder:
            constraints = _constraints_file(folder, question)
            done = _run(self.command(question, constraints), uvcli.environment(),
                        "\n".join(question.requirements) + "\n", _what(question))
        if isinstance(done, str):
            return Answer("unproved", done, tool), ""
        return self._answer(done, tool), done.stderr

    def _answer(self, done: subprocess.CompletedProcess[str], tool: str) -> Answer:
        if done.returncode == 2 and "unexpected argument" in done.stderr:
            return Answer("unproved", f"{tool} is too old: {_last_line(done.stderr)}", tool)
        if done.returncode != 0:
            if "No solution found" not in done.stderr:  # uv's own trouble, not an answer
                return Answer("unproved", f"{tool} failed: {uv_reason(done.stderr)}", tool)
            return Answer("refused", uv_reason(done.stderr), tool)
        missing = _missing_extra(done.stderr)
        if missing:
            return Answer("refused", missing, tool)
        installs = []
        for line in done.stdout.splitlines():
            name, eq, version = line.strip().partition("==")
            if eq and not line.startswith("#"):
                installs.append((name.strip(), version.split(";")[0].strip()))
        return Answer("installs", "", tool, tuple(installs))


def undated_projects(stderr: str) -> set[str]:
    """The projects of the files uv left out for having no upload date (`warning: `scipy-1.11.4-
    py3-none-any.whl` is missing an upload date, but user provided: ...`)."""
    names: set[str] = set()
    for filename in re.findall(r"`([^`\s]+)` is missing an upload date", stderr):
        if filename.endswith(".whl"):
            names.add(canonicalize_name(filename.split("-", 1)[0]))
        else:  # an sdist, `name-version.tar.gz`: the name may hold dashes, the version none
            stem = re.sub(r"\.(tar\.gz|zip|tar\.bz2|tgz)$", "", filename)
            names.add(canonicalize_name(stem.rpartition("-")[0] or stem))
    return names


_UV_GLIBC = (17, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40)  # uv's --python-platform targets


def _constraints_file(folder: str, question: Ask) -> str | None:
    if not question.constraints:
        return None
    path = os.path.join(folder, "constraints.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(question.constraints) + "\n")
    return path


def uv_reason(stderr: str) -> str:
    """uv's explanation (`cause:` and the lines that continue it, and a hint) as one line."""
    parts: list[str] = []
    for raw in stderr.splitlines():
        line = raw.strip()
        if not line or line.startswith("error: No solution found") or line.startswith("warning:"):
            continue
        line = re.sub(r"^[×╰─▶│ ]+", "", line)
        if line.startswith("No solution found"):
            continue
        line = re.sub(r"^(error|cause|Caused by|hint):\s*", lambda m: "hint: " if m.group(1) == "hint" else "", line)
        parts.append(line)
    return " ".join(parts) or "uv failed without saying why"


# -- pip ----------------------------------------------------------------------------------------

class Pip:
    """pip's own resolver, with the user's configuration (no --isolated)."""

    name = "pip"

    def __init__(self, python: str = sys.executable) -> None:
        self.python = python
        self._version: str | None = None

    def version(self) -> str | None:
        if self._version is None:
            try:
                from importlib.metadata import version

                self._version = version("pip") if self.python == sys.executable else None
            except ImportError:
                self._version = None
        return self._version

    def command(self, question: Ask, folder: str, constraints: str | None) -> list[str]:
        target = question.target
        platforms = [arg for tag in target.platform_tags() for arg in ("--platform", tag)]
        options = [arg for option in question.options for arg in option]
        # --target: pip before 23.1 takes platform options only for an install into a folder;
        # --dry-run writes nothing there. pip has no lowest-version mode or upload-time limit:
        # it answers the question as pip install would, as of now.
        cmd = [self.python, "-m", "pip", "install", "--dry-run", "--ignore-installed",
               "--only-binary=:all:", "--target", folder, "--python-version",
               "{}.{}".format(*target.python), "--implementation", "cp", *platforms,
               "--disable-pip-version-check", "--no-input", "--quiet", "--report", "-"]
        if question.no_deps:
            cmd.append("--no-deps")
        if constraints is not None:
            cmd += ["-c", constraints]
        return cmd + options + list(question.requirements)

    def run(self, question: Ask) -> Answer:
        tool = f"pip {self.version() or ''}".strip()
        with tempfile.TemporaryDirectory(prefix="release-hook-ask-") as folder:
            constraints = _constraints_file(folder, question)
            done = _run(self.command(question, os.path.join(folder, "target"), constraints),
                        waiting_for=_what(question))
        if isinstance(done, str):
            return Answer("unproved", done, tool)
        if done.returncode != 0:
            if "No module named pip" in done.stderr or "no such option" in done.stderr:
                return Answer("unproved", f"{tool} cannot do a dry run (pip 22.2 or newer can): "
                              f"{_last_line(done.stderr)}", tool)
            if re.search(r"Could not fetch URL|Failed to establish|ConnectionError|Read timed out",
                         done.stderr):  # pip warns and goes on; its "not found" then means nothing
                return Answer("unproved", f"{tool} could not read the index: {pip_reason(done.stderr)}", tool)
            if not re.search(r"^ERROR: (Could not find a version|No matching distribution|Cannot install"
                             r"|ResolutionImpossible)", done.stderr, re.MULTILINE):
                return Answer("unproved", f"{tool} failed: {pip_reason(done.stderr)}", tool)
            return Answer("refused", pip_reason(done.stderr), tool)
        missing = _missing_extra(done.stderr)
        if missing:
            return Answer("refused", missing, tool)
        try:
            report = json.loads(done.stdout)
            installs = tuple((str(i["metadata"]["name"]), str(i["metadata"]["version"]))
                             for i in report["install"])
        except (ValueError, KeyError, TypeError):
            return Answer("unproved", "pip's report did not parse", tool)
        wrong = _python_mismatch(report["install"], target_python=question.target.python)
        if wrong:
            return Answer("refused", wrong, tool)
        return Answer("installs", "", tool, installs)


def _python_mismatch(installs: list[dict[str, object]], target_python: tuple[int, int]) -> str:
    """pip checks a release's Requires-Python against the target Python only where the index
    page carries it (data-requires-python); from the metadata it checks its own Python. The
    report holds the metadata, so the target's Python is checked here."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    for item in installs:
        meta = item.get("metadata", {})
        if not isinstance(meta, dict):
            continue
        text = meta.get("requires_python")
        if not text:
            continue
        try:
            spec = SpecifierSet(str(text))
        except InvalidSpecifier:
            continue
        # the image's patch release is not known: any that fits is enough
        if not any(spec.contains(f"{target_python[0]}.{target_python[1]}.{patch}") for patch in (0, 99)):
            return (f"{meta.get('name')} {meta.get('version')} requires Python {text}; "
                    f"the image has {target_python[0]}.{target_python[1]}")
    return ""


def pip_reason(stderr: str) -> str:
    """pip's ERROR lines as one line: what it could not find, or which pins conflict."""
    errors = [line[len("ERROR: "):].strip() for line in stderr.splitlines() if line.startswith("ERROR: ")]
    errors = [e for e in errors if not e.startswith("ResolutionImpossible")]
    if any(e.startswith("Could not find a version") for e in errors):
        errors = [e for e in errors if not e.startswith("No matching distribution")]
    errors = [re.sub(r"\(from versions: ([^)]*)\)", _fewer_versions, e) for e in errors]
    wanted = {m.group(1) for e in errors for m in [re.search(r"the requirement \S+?==(\S+)", e)] if m}
    for i, e in enumerate(errors):  # of the releases pip skipped for their Python, the pinned one
        head, colon, entries = e.partition(": ")
        if head.startswith("Ignored the following versions") and wanted:
            kept = [x for x in entries.split("; ") if x.split(" ")[0] in wanted]
            errors[i] = f"{head}: {'; '.join(kept)}" if kept else ""
    errors = [e for e in errors if e]
    return "; ".join(errors) or _last_line(stderr) or "pip failed without saying why"


def _fewer_versions(m: re.Match[str]) -> str:
    versions = m.group(1).split(", ")
    if len(versions) > 8:
        versions = versions[:2] + ["..."] + versions[-5:]
    return f"(from versions: {', '.join(versions)})"
