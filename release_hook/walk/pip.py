"""One pip command as the image runs it: its kept pins, every other requirement (the
neighbours), the requirements and constraints files it reads and where they come from,
`--no-deps`, its index options and the other options that change what is chosen."""
from __future__ import annotations

import re

from release_hook.found import Chars, FileArg, Pin, Requirement
from release_hook.records import NamedTuple
from release_hook.spans import Word, word_offset, word_text
from release_hook.walk.commands import Head, PipArgs, PipCall, pip_arguments
from release_hook.walk.files import UNKNOWN_FOLDER, place, within
from release_hook.walk.kept import kept_name, kept_pin, xargs_computed
from release_hook.walk.python import RunPython, Words
from release_hook.walk.scopes import Bound, expand, known
from release_hook.walk.state import Install

_CONSTRAINT_VARIABLE = {"uv pip": "UV_CONSTRAINT"}  # every other tool is pip
# The environment variables each tool reads for its index options: (name, option, separator of
# a list; "" for one address). pip's are space-separated lists (pip's docs). uv reads none of
# pip's: UV_FIND_LINKS is comma-separated (uv 0.13 reads "a b" as one path), UV_INDEX and
# UV_EXTRA_INDEX_URL space-separated (`uv pip install --help`, uv's environment reference).
_PIP_ADDRESSES = (("PIP_INDEX_URL", "--index-url", " "), ("PIP_EXTRA_INDEX_URL", "--extra-index-url", " "),
                  ("PIP_FIND_LINKS", "--find-links", " "))
_ADDRESS_VARIABLES = {"uv pip": (("UV_INDEX_URL", "--index-url", ""), ("UV_DEFAULT_INDEX", "--default-index", ""),
                                 ("UV_EXTRA_INDEX_URL", "--extra-index-url", " "), ("UV_INDEX", "--index", " "),
                                 ("UV_FIND_LINKS", "--find-links", ","))}  # every other tool is pip
_DEFAULT_INDEX = ("-i", "--index-url", "--default-index")  # options that replace the default index
_EXPANDED = re.compile(r"[A-Z0-9_]+")  # the names pip expands in a requirements file (`${NAME}`)


class Invocation(NamedTuple):
    """A command of a RUN, its wrappers read (indexes count from its first word, wrappers too)."""

    words: tuple[Word, ...]
    chars: list[Chars]
    texts: list[str]  # expanded, `\0` where only the build knows
    expanded: Words  # texts, variables' origins and offsets, from the tool's name on
    head: Head
    env: dict[str, tuple[Chars, str]]  # NAME=value given to this command alone, and how
    cwd: str
    exec_form: bool


def pip_command(ctx: RunPython, cmd: Invocation, call: PipCall, stage: int, image: str) -> None:
    """Find the kept pins of any pip install / download / wheel; record a pip install."""
    found, state = ctx.found, ctx.state
    args = pip_arguments([c.text for c in cmd.chars], call)
    addresses = tuple((opt, cmd.chars[i][skip:]) for opt, i, skip in args.indexes)
    addresses += _environment_addresses(ctx, cmd, addresses, call.tool)
    pins: list[Pin] = []
    requirements: list[Requirement] = []
    for i, skip, editable in args.requirements:
        word, chars = cmd.words[i], cmd.chars[i]
        if editable:  # a project's source, not a pin
            chars = chars[skip:]
            requirements.append(Requirement(chars.text, found.line_of_chars(chars, 0, ctx.line), _computed(chars),
                                            _read_offsets(chars)))
            continue
        if cmd.head.replace and cmd.head.replace in word_text(word):
            word = xargs_computed(word, cmd.head.replace)
            chars = expand(word, state.scope, ctx.local)
        line = found.line(word_offset(word), ctx.line)
        if cmd.exec_form and "$" in chars.text and kept_name(found, chars.text):
            raise found.error(f"exec form does not expand variables: {chars.text!r}", ctx.line)
        pin = kept_pin(found, chars, line, stage, image, addresses)
        if pin is not None:
            pins.append(pin)
        else:
            requirements.append(Requirement(chars.text, line, _computed(chars), _read_offsets(chars)))
    tool = call.tool
    if cmd.head.xargs is not None:
        source = cmd.head.xargs or "standard input"
        line = found.line(cmd.expanded.offsets[0], ctx.line)
        found.warn(line, f"{tool} run by xargs: requirements read from {source} are computed at build "
                   "time, left alone")
        requirements.append(Requirement("", line, f"xargs: arguments read from {source}"))
    if call.subcommand != "install":
        return
    texts = cmd.expanded.texts
    head = " ".join(texts[:texts.index(call.subcommand, 1) + 1])
    python = ctx.of_pip(cmd.expanded, tool, head)
    lines = [found.line(o, ctx.line) for o in cmd.expanded.offsets]
    state.pips.append(Install(min(lines), max(lines), python, tool, pins, tuple(requirements),
                              tuple(_files(ctx, cmd, args, tool)), args.no_deps, addresses, tuple(args.flags)))


def _read_offsets(chars: Chars) -> tuple[int, ...]:
    """Where the characters a variable gave a requirement are written: a kept pin's edit there
    would change it too."""
    return tuple(o for o, v in zip(chars.origin, chars.via_var) if v and o >= 0)


def _computed(chars: Chars) -> str:
    if chars.computed:
        return chars.computed[0]
    return "${" + chars.undefined[0] + "}" if chars.undefined else ""


def _files(ctx: RunPython, cmd: Invocation, args: PipArgs, tool: str) -> list[FileArg]:
    name = _CONSTRAINT_VARIABLE.get(tool, "PIP_CONSTRAINT")
    given = _pip_variable(ctx, cmd, name)
    if not args.files and given is None:
        return []
    env = _environment(ctx, cmd)  # one for all the command's files
    out = []
    for option, i, skip, written in args.files:
        chars = cmd.chars[i][skip:]
        out.append(_file(ctx, option, chars, written, cmd.cwd, env))
    if given is not None:
        value, how = given
        for chars in _split(value):
            out.append(_file(ctx, "-c", chars, how, cmd.cwd, env))
    return out


def _file(ctx: RunPython, option: str, chars: Chars, how: str, cwd: str,
          env: tuple[tuple[str, Chars], ...]) -> FileArg:
    line = ctx.found.line_of_chars(chars, 0, ctx.line)
    if not known(chars):
        return FileArg(option, "", line, how, None, "computed at build time")
    path = within(chars.text, cwd)
    if path == UNKNOWN_FOLDER:
        return FileArg(option, "", line, how, None, "the folder it is read in is the build's to decide: a "
                       "`cd` before it may not run, or goes where only the build knows")
    source, why = place(ctx.state.placements, path, ctx.line)
    return FileArg(option, path, line, how, source, why, env)


def _environment(ctx: RunPython, cmd: Invocation) -> tuple[tuple[str, Chars], ...]:
    """The variables pip runs with that a requirements file can read: the stage's ARG values
    (an ENV of the same name wins, as in the build), the RUN's exported shell variables, and
    the command's own `NAME=value`, each with its characters' offsets in this file."""
    scope = ctx.state.scope
    values: dict[str, Chars] = {}
    for name, bound in (*scope.args.items(), *scope.env.items()):
        if bound is not None:
            values[name] = bound[0]
    for name in ctx.exported:
        if name in ctx.local:
            values[name] = ctx.local[name][0]
    for name, (value, _) in cmd.env.items():
        values[name] = value
    return tuple((name, value) for name, value in values.items() if _EXPANDED.fullmatch(name))


def _environment_addresses(ctx: RunPython, cmd: Invocation, given: tuple[tuple[str, Chars], ...],
                           tool: str) -> tuple[tuple[str, Chars], ...]:
    """The index addresses the tool takes from its environment: as much in force as the command's
    own -f / --extra-index-url (both tools add those to them); the default index unless the
    command's -i (--default-index) replaces it."""
    out: list[tuple[str, Chars]] = []
    for name, option, separator in _ADDRESS_VARIABLES.get(tool, _PIP_ADDRESSES):
        found = _pip_variable(ctx, cmd, name)
        if found is None or option in _DEFAULT_INDEX and any(o in _DEFAULT_INDEX for o, _ in given):
            continue
        for chars in _split(found[0], separator):
            if option == "--index" and "=" in chars.text and "/" not in chars.text.split("=", 1)[0]:
                chars = chars[chars.text.index("=") + 1:]  # uv's `name=url`
            out.append((option, chars))
    return tuple(out)


def _pip_variable(ctx: RunPython, cmd: Invocation, name: str) -> tuple[Chars, str] | None:
    """A variable of pip's environment (PIP_CONSTRAINT, UV_CONSTRAINT...) in effect: given to the
    command, exported in the RUN, or set by ENV / ARG."""
    if name in cmd.env:
        return cmd.env[name]
    local: Bound | None = ctx.local.get(name) if name in ctx.exported else None
    if local is not None:
        return local[0], f"export {name}={local[0].text} at line {ctx.found.line_of_chars(local[0], 0, ctx.line)}"
    scope = ctx.state.scope
    bound = scope.lookup(name)
    if bound is None:
        return None
    keyword = "ENV" if name in scope.env else "ARG"
    return bound[0], f"{keyword} {bound[1][0]}" if bound[1] else f"{keyword} {name}"


def _split(value: Chars, separator: str = " ") -> list[Chars]:
    """A list in one variable (" ": by white space; ","; "": one item), each item with its
    characters' offsets."""
    out = []
    text = value.text

    def apart(c: str) -> bool:
        return c.isspace() if separator == " " else c == separator != ""

    i = 0
    while i < len(text):
        while i < len(text) and (apart(text[i]) or text[i].isspace()):  # and the item's leading spaces
            i += 1
        j = i
        while j < len(text) and not apart(text[j]):
            j += 1
        k = j
        while k > i and text[k - 1].isspace():
            k -= 1
        if k > i:
            out.append(value[i:k])
        i = j
    return out
