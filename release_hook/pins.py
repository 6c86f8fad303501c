"""What a Dockerfile pins, and where each version's characters sit in the file.

A pin's version may be written in the RUN itself (`jax==0.2.13`) or reach it through ENV and
ARG variables (`jaxlib==${JAXLIB_VERSION}+cuda${JAXLIB_CUDA}`); either way each of its characters
is traced to its file offset, so the plan can rewrite the definition rather than the use.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from packaging.version import InvalidVersion, Version

from release_hook.dockerfile import Dockerfile, Instruction, assignments, run_flags_end
from release_hook.errors import UserError
from release_hook.names import normalize as canonicalize_name
from release_hook.shell import find_commands, parse_exec_form, parse_script
from release_hook.spans import NOWHERE, Computed, Lit, Mapped, Piece, Var, Word, word_offset, word_text
from release_hook.stages import StageFacts

JAX_PACKAGES = ("jax", "jaxlib", "jax-cuda12-plugin", "jax-cuda12-pjrt", "jax-cuda13-plugin",
                "jax-cuda13-pjrt")
PIN_OPERATORS = ("===", "==", "~=")
_NAME_PREFIX = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
# The common `name[extra]==1.2.3` needs no full PEP 508 parse; anything else gets one.
_SIMPLE_PIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[([A-Za-z0-9._,-]*)\])?(===|==|~=)"
                         r"([0-9][A-Za-z0-9.+!_-]*)")
# Before jaxlib 0.1.52 a CUDA build was installed by its URL: .../cuda101/jaxlib-0.1.50-cp37-....whl
_JAXLIB_WHEEL_URL = re.compile(r"(?:/(cuda\d+))?/jaxlib-([0-9][^-/]*)-[^/]*\.whl$")
_GIT_REF = re.compile(r"@(v?)([0-9][^@/#?\s]*)(?=[#?]|$)")


@dataclass(frozen=True)
class Chars:
    """Expanded text, each character with its file offset and whether a variable carried it."""

    text: str
    origin: tuple[int, ...]
    via_var: tuple[bool, ...]
    computed: tuple[str, ...] = ()
    undefined: tuple[str, ...] = ()

    def __getitem__(self, s: slice) -> Chars:
        return Chars(self.text[s], self.origin[s], self.via_var[s], self.computed, self.undefined)



@dataclass(frozen=True)
class Pin:
    path: str
    line: int
    package: str  # canonical name
    kind: str  # "requirement" or "source" (a git tag of the released package)
    operator: str  # "==", "~=", "===" or "@" for a source reference
    version: str
    chars: Chars  # the version's characters
    requirement: str  # the whole requirement as the shell passes it, for messages
    extras: frozenset[str]
    stage: int
    image: str  # the stage's base image, variables resolved (for the CUDA build)
    addresses: tuple[tuple[str, Chars], ...] = ()  # -f / -i of the same pip command

    def defined_at(self, text: str) -> str:
        """` (set at line N)` when the version is written on another line than its use."""
        lines = sorted({line_of(text, o) for o in self.chars.origin if o >= 0} - {self.line})
        return f" (set at line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines))})" if lines else ""


@dataclass(frozen=True)
class Note:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Scan:
    path: str
    text: str
    pins: tuple[Pin, ...]
    mentions: tuple[Note, ...]  # kept packages named without a pin: listed, not changed
    warnings: tuple[Note, ...]  # pins the tool cannot follow (computed at build time)
    images: tuple[str, ...]  # each stage's root base image
    stages: tuple[StageFacts, ...] = ()  # what the text says of each stage's Python and platform


@dataclass
class _Scope:
    env: dict[str, Chars] = field(default_factory=dict)
    args: dict[str, Chars | None] = field(default_factory=dict)

    def lookup(self, name: str) -> Chars | None:
        if name in self.env:
            return self.env[name]
        return self.args.get(name)


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, max(offset, 0)) + 1


def expand(word: Word, scope: _Scope, extra: dict[str, Chars] | None = None) -> Chars:
    text: list[str] = []
    origin: list[int] = []
    via: list[bool] = []
    computed: list[str] = []
    undefined: list[str] = []
    for p in word:
        if isinstance(p, Lit):
            text.append(p.text)
            origin.extend(p.origin)
            via.extend([False] * len(p.text))
        elif isinstance(p, Var):
            value = extra.get(p.name) if extra and p.name in extra else scope.lookup(p.name)
            if value is None:
                undefined.append(p.name)
                placeholder = "${" + p.name + "}"
                text.append(placeholder)
                origin.extend([NOWHERE] * len(placeholder))
                via.extend([True] * len(placeholder))
            else:
                text.append(value.text)
                origin.extend(value.origin)
                via.extend([True] * len(value.text))
                computed.extend(value.computed)
                undefined.extend(value.undefined)
        else:
            computed.append(p.source)
            text.append(p.source)
            origin.extend([NOWHERE] * len(p.source))
            via.extend([False] * len(p.source))
    return Chars("".join(text), tuple(origin), tuple(via), tuple(computed), tuple(undefined))


class _Finder:
    def __init__(self, df: Dockerfile, package: str, kept: Iterable[str]) -> None:
        self.df = df
        self.package = canonicalize_name(package)
        self.kept = frozenset(canonicalize_name(k) for k in kept) | {self.package}
        self.pins: list[Pin] = []
        self.mentions: list[Note] = []
        self.warnings: list[Note] = []
        self.seen: set[tuple[int, int, str]] = set()

    def line(self, offset: int, ins: Instruction) -> int:
        return line_of(self.df.text, offset) if offset >= 0 else ins.line

    def error(self, message: str, line: int) -> UserError:
        return UserError(message, self.df.path, line)

    def run(self) -> Scan:
        df = self.df
        global_scope = _Scope()
        for ins in df.global_args:
            self.define(ins, global_scope, global_scope)
        finals: dict[str, _Scope] = {}
        images: list[str] = []
        roots: dict[str, str] = {}
        for stage in df.stages:
            image = expand(stage.image, global_scope).text
            parent = finals.get(image.lower())
            scope = _Scope(env=dict(parent.env) if parent else {})
            root = roots.get(image.lower(), image)
            images.append(root)
            for ins in stage.instructions:
                if ins.keyword in ("ENV", "ARG"):
                    self.define(ins, scope, global_scope)
                elif ins.keyword == "RUN":
                    self.read_run(ins, scope, stage.index, root)
            if stage.name:
                finals[stage.name] = scope
                roots[stage.name] = root
            finals[str(stage.index)] = scope
        self.pins.sort(key=lambda p: p.line)
        return Scan(df.path, df.text, tuple(self.pins), tuple(self.mentions), tuple(self.warnings), tuple(images))

    def define(self, ins: Instruction, scope: _Scope, global_scope: _Scope) -> None:
        try:
            found = assignments(ins, self.df.escape)
        except UserError as e:
            raise self.error(e.message, ins.line) from None
        for a in found:
            if ins.keyword == "ENV":
                assert a.value is not None
                scope.env[a.name] = expand(a.value, scope)
            elif a.value is not None:
                scope.args[a.name] = expand(a.value, scope)
            elif scope is not global_scope and a.name in global_scope.args:
                scope.args[a.name] = global_scope.args[a.name]  # `ARG NAME` re-declares a global
            else:
                scope.args[a.name] = None

    def read_run(self, ins: Instruction, scope: _Scope, stage: int, image: str) -> None:
        args = ins.args[run_flags_end(ins.args) :]
        exec_words = parse_exec_form(args)
        scripts: list[Mapped] = []
        if exec_words is not None:
            static = [word_text(w) for w in exec_words]
            if len(static) >= 3 and static[0].rsplit("/", 1)[-1] in ("sh", "bash") and static[1] == "-c":
                scripts.append(Mapped(static[2], exec_words[2][0].origin))  # type: ignore[union-attr]
            else:
                self.read_commands_from_exec(ins, exec_words, scope, stage, image)
        elif ins.heredocs and args.text.lstrip().startswith("<<"):
            scripts.extend(h.body for h in ins.heredocs if not _foreign_shebang(h.body.text))
        elif ins.heredocs:
            parts = [args, Mapped("\n", (NOWHERE,))]
            for h in ins.heredocs:
                parts.append(h.body)
                parts.append(Mapped(h.name + "\n", (NOWHERE,) * (len(h.name) + 1)))
            scripts.append(Mapped.join(parts))
        else:
            scripts.append(args)
        while scripts:
            text = scripts[0].text
            if "pip" not in text and "git" not in text and "uv" not in text:
                scripts.pop(0)  # no pip, uv or git clone: nothing pinned here
                continue
            script = parse_script(scripts.pop(0))
            if script.syntax_error_at is not None:
                self.warnings.append(Note(self.df.path, self.line(script.syntax_error_at, ins),
                                          "shell syntax error: pins after this point may be missed"))
            local = {name: expand(value, scope) for name, value in script.assignments}
            pips, clones, nested = find_commands(script.commands)
            scripts.extend(nested)
            for pip in pips:
                if pip.via_xargs:
                    self.warnings.append(Note(self.df.path, self.line(pip.offset, ins),
                                              f"{pip.tool} run by xargs: requirements read from "
                                              "standard input are computed at build time, left alone"))
                addresses = tuple((opt, expand(w, scope, local)) for opt, w in pip.addresses)
                for word in pip.requirements:
                    if pip.replace and pip.replace in word_text(word):
                        word = _xargs_computed(word, pip.replace)
                    self.requirement(word, ins, scope, local, stage, image, addresses, pip.via_xargs)
            for clone in clones:
                self.clone(clone.branch, clone.url, ins, scope, local, stage, image, clone.offset)

    def read_commands_from_exec(self, ins: Instruction, words: list[Word], scope: _Scope,
                                stage: int, image: str) -> None:
        from release_hook.shell import Command

        pips, clones, _ = find_commands((Command(tuple(words), word_offset(words[0])),))
        for pip in pips:
            for word in pip.requirements:
                text = word_text(word)
                if "$" in text and self.kept_name(text):
                    raise self.error(f"exec form does not expand variables: {text!r}", ins.line)
                self.requirement(word, ins, scope, {}, stage, image, (), False)

    def kept_name(self, text: str) -> str | None:
        m = _NAME_PREFIX.match(text)
        if m and canonicalize_name(m.group(1)) in self.kept:
            rest = text[m.end():].lstrip()
            if not rest or rest[0] in "[=~<>!@;,( " or rest.startswith("${"):
                return canonicalize_name(m.group(1))
        return None

    def requirement(self, word: Word, ins: Instruction, scope: _Scope, local: dict[str, Chars],
                    stage: int, image: str, addresses: tuple[tuple[str, Chars], ...],
                    via_xargs: bool) -> None:
        chars = expand(word, scope, local)
        text = chars.text
        line = self.line(word_offset(word), ins)
        if "://" in text or text.startswith(("git+", "hg+", "svn+", "bzr+")):
            self.source_url(chars, ins, line, stage, image)
            return
        if text.startswith((".", "/", "~")) or text.endswith((".whl", ".tar.gz", ".zip")):
            return
        name = self.kept_name(text)
        if name is None:
            return
        if chars.undefined:
            raise self.error(f"{name} pin uses ${{{chars.undefined[0]}}}, which no ENV or ARG "
                             "defines for this stage", line)
        if chars.computed:
            self.warnings.append(Note(self.df.path, line, f"{name}: version computed at build time "
                                      f"({chars.computed[0]}), left alone"))
            return
        simple = _SIMPLE_PIN.fullmatch(text)
        if simple is not None and _valid_version(simple.group(4)):
            extras = frozenset(e.strip().lower() for e in (simple.group(2) or "").split(",") if e.strip())
            self.add(Pin(self.df.path, line, name, "requirement", simple.group(3), simple.group(4),
                         chars[simple.start(4):simple.end(4)], text, extras, stage, image, addresses))
            return
        from packaging.requirements import InvalidRequirement, Requirement

        try:
            req = Requirement(text)
        except InvalidRequirement as e:
            reason = str(e).splitlines()[0]
            raise self.error(f"cannot parse requirement {text!r}: {reason}", line) from None
        if req.url:
            self.source_url(chars, ins, line, stage, image)
            return
        specs = list(req.specifier)
        if len(specs) == 1 and specs[0].operator in PIN_OPERATORS and not specs[0].version.endswith("*"):
            spec = specs[0]
            m = re.search(re.escape(spec.operator) + r"\s*(" + re.escape(spec.version) + r")", text)
            assert m is not None
            self.add(Pin(self.df.path, line, name, "requirement", spec.operator, spec.version,
                         chars[m.start(1):m.end(1)], text, frozenset(req.extras), stage, image,
                         addresses))
        else:
            what = f"{text!r} is not pinned" if not specs else f"{text!r} is a range"
            self.mentions.append(Note(self.df.path, line, f"{what}: listed, not changed"))

    def source_url(self, chars: Chars, ins: Instruction, line: int, stage: int, image: str) -> None:
        text = chars.text
        wheel = _JAXLIB_WHEEL_URL.search(text)
        if wheel is not None and "jaxlib" in self.kept:
            where = f" ({wheel.group(1)})" if wheel.group(1) else ""
            self.mentions.append(Note(self.df.path, line, f"jaxlib {wheel.group(2)} as a direct wheel "
                                      f"URL{where}: listed, not changed (choose a tagged pin, "
                                      "jaxlib==X+cudaNNN -f <jax_releases.html>, to have it kept)"))
            return
        url = text.split("@", 1)[1].strip() if " @ " in text or re.match(r"[\w.-]+\s*@\s", text) else text
        base = len(text) - len(url)
        m = _GIT_REF.search(url)
        if m is None or not self.is_package_repo(url):
            return
        if chars.computed or chars.undefined:
            self.warnings.append(Note(self.df.path, line,
                                      f"{self.package} source reference is computed at build time, left alone"))
            return
        a, b = base + m.start(2), base + m.end(2)
        self.add(Pin(self.df.path, line, self.package, "source", "@" + m.group(1), m.group(2),
                     chars[a:b], text, frozenset(), stage, image))

    def clone(self, branch: Word | None, url: str, ins: Instruction, scope: _Scope,
              local: dict[str, Chars], stage: int, image: str, offset: int) -> None:
        if branch is None or not self.is_package_repo(url):
            return
        chars = expand(branch, scope, local)
        m = re.fullmatch(r"(v?)([0-9].*)", chars.text)
        line = self.line(word_offset(branch), ins)
        if m is None:
            return
        if chars.computed or chars.undefined:
            self.warnings.append(Note(self.df.path, line,
                                      f"{self.package} clone branch is computed at build time, left alone"))
            return
        self.add(Pin(self.df.path, line, self.package, "source", "@" + m.group(1), m.group(2),
                     chars[m.start(2):], chars.text, frozenset(), stage, image))

    def is_package_repo(self, url: str) -> bool:
        egg = re.search(r"[#&]egg=([A-Za-z0-9._-]+)", url)
        if egg:
            return canonicalize_name(egg.group(1)) == self.package
        path = re.split(r"[#?]", url)[0].rstrip("/")
        path = re.sub(r"@[^/@]*$", "", path)
        repo = path.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        repo = repo[:-4] if repo.endswith(".git") else repo
        return canonicalize_name(repo) == self.package

    def add(self, pin: Pin) -> None:
        key = (pin.line, pin.chars.origin[0] if pin.chars.origin else NOWHERE, pin.package)
        if key not in self.seen:
            self.seen.add(key)
            self.pins.append(pin)


def _xargs_computed(word: Word, replace: str) -> Word:
    """The pieces of a word where xargs -I puts each input line, marked as build-time values."""
    merged: list[Piece] = []
    for p in word:  # the shell grammar may split `{}` into `{` and `}`
        if isinstance(p, Lit) and merged and isinstance(merged[-1], Lit):
            merged[-1] = Lit(merged[-1].text + p.text, merged[-1].origin + p.origin)
        else:
            merged.append(p)
    out: list[Piece] = []
    for p in merged:
        if isinstance(p, Lit) and replace in p.text:
            head, _, tail = p.text.partition(replace)
            if head:
                out.append(Lit(head, p.origin[:len(head)]))
            out.append(Computed(f"xargs -I{replace}", p.origin[len(head)]))
            if tail:
                out.extend(_xargs_computed((Lit(tail, p.origin[len(head) + len(replace):]),), replace))
        else:
            out.append(p)
    return tuple(out)


def _valid_version(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


def _foreign_shebang(body: str) -> bool:
    if not body.startswith("#!"):
        return False
    first = body.split("\n", 1)[0]
    return not re.search(r"\b(sh|bash|dash|ash|zsh)\b", first)


def find_pins(df: Dockerfile, package: str, kept: Iterable[str] = JAX_PACKAGES) -> Scan:
    return _Finder(df, package, kept).run()
