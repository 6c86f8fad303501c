"""Shell words with file spans, and the pip and git commands among them.

tree-sitter-bash is the tokenizer: a maintained, error-tolerant bash grammar that reports the
byte span of every node, so quotes, `&&`, `||`, `;`, pipes, subshells and heredocs come out right
without a parser of our own.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Iterator

from release_hook.spans import Computed, Lit, Mapped, Piece, Var, Word, word_offset, word_text

if TYPE_CHECKING:
    import tree_sitter


@lru_cache(maxsize=1)
def _parser() -> tuple[tree_sitter.Parser, tree_sitter.QueryCursor]:
    import tree_sitter
    import tree_sitter_bash

    language = tree_sitter.Language(tree_sitter_bash.language())
    # Finding the nodes in C is much faster than walking every node from Python.
    query = tree_sitter.Query(language, "(command) @command (variable_assignment) @assignment")
    return tree_sitter.Parser(language), tree_sitter.QueryCursor(query)


@dataclass(frozen=True)
class Command:
    words: tuple[Word, ...]
    offset: int  # file offset of the first word, for line numbers


@dataclass(frozen=True)
class Script:
    commands: tuple[Command, ...]
    assignments: tuple[tuple[str, Word], ...]  # shell `NAME=value` before or between commands
    syntax_error_at: int | None  # file offset of the first thing bash could not read


def parse_script(script: Mapped) -> Script:
    """Every simple command in a shell script, at any depth (lists, pipes, subshells, `sh -c`)."""
    data = script.text.encode("utf-8")
    if len(data) == len(script.text):
        to_char = None
    else:
        to_char = _byte_to_char(script.text)
    parser, cursor = _parser()
    tree = parser.parse(data)
    reader = _Reader(script, data, to_char)
    found = cursor.captures(tree.root_node)
    nodes = [(n.start_byte, 0 if kind == "assignment" else 1, n)
             for kind, group in found.items() for n in group]
    for _, kind, node in sorted(nodes, key=lambda t: (t[0], t[1])):
        if kind == 1:
            reader.command(node)
        elif node.parent is None or node.parent.type != "command":
            reader.assignment(node)  # prefix assignments (`A=1 pip ...`) are read by command()
    if tree.root_node.has_error:
        reader.find_error(tree.root_node)
    return Script(tuple(reader.commands), tuple(reader.assignments), reader.error_at)


def parse_exec_form(args: Mapped) -> list[Word] | None:
    """The words of an exec-form instruction (`["pip", "install", ...]`), or None if not one."""
    text = args.text.strip()
    if not text.startswith("["):
        return None
    try:
        values = json.loads(text)
    except ValueError:
        return None
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        return None
    words: list[Word] = []
    i = args.text.index("[") + 1
    for _ in values:
        start = args.text.index('"', i)
        chars, offs, i = _json_string(args, start)
        words.append((Lit(chars, offs),))
    return words


def _json_string(m: Mapped, start: int) -> tuple[str, tuple[int, ...], int]:
    escapes = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "/": "/", "\\": "\\", '"': '"'}
    out: list[str] = []
    offs: list[int] = []
    i = start + 1
    while m.text[i] != '"':
        if m.text[i] == "\\":
            e = m.text[i + 1]
            if e == "u":
                out.append(chr(int(m.text[i + 2 : i + 6], 16)))
                offs.append(m.offset(i))
                i += 6
                continue
            out.append(escapes[e])
            offs.append(m.offset(i))
            i += 2
            continue
        out.append(m.text[i])
        offs.append(m.offset(i))
        i += 1
    return "".join(out), tuple(offs), i + 1


def _byte_to_char(text: str) -> list[int]:
    table = []
    for ci, ch in enumerate(text):
        table.extend([ci] * len(ch.encode("utf-8")))
    table.append(len(text))
    return table


_PLAIN_EXPANSION = frozenset({"${", "variable_name", "}"})
_LITERAL_LEAVES = frozenset({"word", "number"})


class _Reader:
    def __init__(self, script: Mapped, data: bytes, to_char: list[int] | None) -> None:
        self.script = script
        self.data = data
        self.to_char = to_char
        self.commands: list[Command] = []
        self.assignments: list[tuple[str, Word]] = []
        self.error_at: int | None = None

    def char(self, byte: int) -> int:
        return self.to_char[byte] if self.to_char is not None else byte

    def mapped(self, node: tree_sitter.Node, skip_start: int = 0, skip_end: int = 0) -> Mapped:
        a = self.char(node.start_byte) + skip_start
        b = self.char(node.end_byte) - skip_end
        return self.script[a:b]

    def find_error(self, node: tree_sitter.Node) -> bool:
        if node.type == "ERROR" or node.is_missing:
            self.error_at = self.script.offset(self.char(node.start_byte))
            return True
        return any(self.find_error(c) for c in node.children if c.has_error or c.is_missing)

    def assignment(self, node: tree_sitter.Node) -> None:
        name = node.child_by_field_name("name")
        value = node.child_by_field_name("value")
        if name is not None and name.type == "variable_name":
            word = self.word(value) if value is not None else ()
            self.assignments.append((self.mapped(name).text, word))

    def command(self, node: tree_sitter.Node) -> None:
        words: list[Word] = []
        for child in node.children:
            if child.type == "command_name":
                words.append(self.word(child.children[0] if child.children else child))
            elif child.type in ("variable_assignment", "file_redirect", "heredoc_redirect",
                                "herestring_redirect", "comment"):
                continue
            elif words:
                words.append(self.word(child))
        if words:
            self.commands.append(Command(tuple(words), word_offset(words[0])))

    def word(self, node: tree_sitter.Node) -> Word:
        return tuple(self.pieces(node))

    def pieces(self, node: tree_sitter.Node) -> Iterator[Piece]:
        t = node.type
        if t in _LITERAL_LEAVES:
            yield _unescape(self.mapped(node), "\\")
        elif t == "raw_string":
            m = self.mapped(node, 1, 1)
            yield Lit(m.text, m.origin)
        elif t == "string":
            for child in node.children:
                if child.type == '"':
                    continue
                if child.type == "string_content":
                    yield _unescape(self.mapped(child), '\\"$`')
                else:
                    yield from self.pieces(child)
        elif t == "concatenation":
            for child in node.children:
                yield from self.pieces(child)
        elif t == "simple_expansion" and len(node.children) == 2 and node.children[1].type == "variable_name":
            yield Var(self.mapped(node.children[1]).text, self.script.offset(self.char(node.start_byte)))
        elif t == "expansion" and [c.type for c in node.children] == ["${", "variable_name", "}"]:
            yield Var(self.mapped(node.children[1]).text, self.script.offset(self.char(node.start_byte)))
        else:
            m = self.mapped(node)
            yield Computed(m.text, m.offset(0))


def _unescape(m: Mapped, escapable: str) -> Lit:
    """Remove shell backslashes; inside double quotes only before `escapable` characters."""
    if "\\" not in m.text:
        return Lit(m.text, m.origin)
    out: list[str] = []
    offs: list[int] = []
    i, n = 0, len(m.text)
    while i < n:
        c = m.text[i]
        if c == "\\" and i + 1 < n and (escapable == "\\" or m.text[i + 1] in escapable + "\\"):
            if m.text[i + 1] == "\n":
                i += 2
                continue
            out.append(m.text[i + 1])
            offs.append(m.origin[i + 1])
            i += 2
        else:
            out.append(c)
            offs.append(m.origin[i])
            i += 1
    return Lit("".join(out), tuple(offs))


# -- pip and git among the commands ---------------------------------------------------------

_WRAPPERS_WITH_VALUES = {
    "sudo": {"-u", "-g", "-U", "-C", "-D", "-h", "-p", "-r", "-t"},
    "env": {"-u", "-C", "-S", "--unset", "--chdir"},
    "nice": {"-n", "--adjustment"},
    "timeout": {"-s", "-k", "--signal", "--kill-after"},
    "xargs": {"-I", "-i", "-n", "-P", "-d", "-L", "-s", "-E", "-a", "--max-args", "--max-procs",
              "--delimiter", "--arg-file", "--replace"},
    "time": {"-f", "-o", "--format", "--output"},
    "nohup": set(),
    "exec": set(),
    "command": set(),
    "stdbuf": {"-i", "-o", "-e"},
}
_PIP = re.compile(r"pip[0-9.]*")
_PYTHON = re.compile(r"python[0-9.]*")
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh"})

PIP_GLOBAL_VALUE_OPTIONS = frozenset({
    "--cache-dir", "--log", "--log-file", "--proxy", "--retries", "--timeout", "--exists-action",
    "--trusted-host", "--cert", "--client-cert", "--python", "--keyring-provider", "--use-feature",
    "--use-deprecated", "--local-log", "--resume-retries",
})
# Options of install / download / wheel (and uv pip install) that take a value.
PIP_VALUE_OPTIONS = PIP_GLOBAL_VALUE_OPTIONS | {
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-f", "--find-links",
    "-i", "--index-url", "--extra-index-url", "-t", "--target", "--prefix", "--root", "--src",
    "--upgrade-strategy", "--platform", "--python-version", "--implementation", "--abi",
    "--global-option", "--install-option", "--build-option", "-C", "--config-settings", "-d",
    "--dest", "--download", "-w", "--wheel-dir", "--no-binary", "--only-binary",
    "--progress-bar", "--report", "--root-user-action", "--group", "--override", "-p",
    "--index-strategy", "--extra", "--resolution", "--prerelease", "--python-platform",
    "--exclude-newer", "--index", "--default-index",
}
INDEX_OPTIONS = frozenset({"-f", "--find-links", "-i", "--index-url", "--extra-index-url",
                           "--index", "--default-index"})
PIP_SUBCOMMANDS = frozenset({"install", "download", "wheel"})


@dataclass(frozen=True)
class PipCommand:
    tool: str  # how it was called, for messages: "pip3", "python3 -m pip", "uv pip"
    subcommand: str
    requirements: tuple[Word, ...]  # positional words that may be requirements
    addresses: tuple[tuple[str, Word], ...]  # (option, value) of -f / -i / --extra-index-url
    via_xargs: bool  # arguments also come from standard input
    replace: str | None  # xargs -I: this string stands for each input line
    offset: int


@dataclass(frozen=True)
class GitClone:
    branch: Word | None
    url: str
    offset: int


def _static(word: Word) -> str:
    return word_text(word)


def _unwrap(words: tuple[Word, ...]) -> tuple[tuple[Word, ...], bool, str | None]:
    """Drop sudo / env / xargs / time ... in front of the real command; say whether xargs feeds
    it, and the string xargs replaces with each input line (`-I{}`)."""
    via_xargs = False
    replace = None
    while words:
        name = os.path.basename(_static(words[0]))
        if name not in _WRAPPERS_WITH_VALUES:
            break
        via_xargs |= name == "xargs"
        takes_value = _WRAPPERS_WITH_VALUES[name]
        i = 1
        while i < len(words):
            w = _static(words[i])
            if name == "xargs" and (w in ("-I", "--replace") or w.startswith(("-I", "--replace="))):
                glued = w[2:] if w.startswith("-I") else w.partition("=")[2]
                replace = glued or (_static(words[i + 1]) if i + 1 < len(words) else "{}")
                i += 1 if glued else 2
                continue
            if name == "xargs" and w == "-i":
                replace = "{}"
            if name == "env" and "=" in w and not w.startswith("-"):
                i += 1
            elif w.startswith("-") and w != "-":
                i += 2 if w in takes_value else 1
            elif name == "timeout" and i == 1:
                i += 1  # the duration
            else:
                break
        words = words[i:]
    return words, via_xargs, replace


def find_commands(commands: tuple[Command, ...]) -> tuple[list[PipCommand], list[GitClone], list[Mapped]]:
    """The pip and git clone commands, and the scripts of `sh -c '...'` to read as well."""
    pips: list[PipCommand] = []
    clones: list[GitClone] = []
    nested: list[Mapped] = []
    for cmd in commands:
        words, via_xargs, replace = _unwrap(cmd.words)
        if not words:
            continue
        name = os.path.basename(_static(words[0]))
        rest = words[1:]
        tool = name
        if _PYTHON.fullmatch(name):
            after = _after_python_m_pip(rest)
            if after is None:
                continue
            rest = after
            tool = f"{name} -m pip"
        elif name == "uv":
            if not rest or _static(rest[0]) != "pip":
                continue
            rest, tool = rest[1:], "uv pip"
        elif name in _SHELLS:
            script = _dash_c(rest)
            if script is not None:
                nested.append(script)
            continue
        elif name == "git":
            clone = _git_clone(rest, cmd.offset)
            if clone is not None:
                clones.append(clone)
            continue
        elif not _PIP.fullmatch(name):
            continue
        pip = _pip_arguments(tool, rest, via_xargs, replace, cmd.offset)
        if pip is not None:
            pips.append(pip)
    return pips, clones, nested


def _after_python_m_pip(words: tuple[Word, ...]) -> tuple[Word, ...] | None:
    i = 0
    while i < len(words):
        w = _static(words[i])
        if w == "-m":
            return words[i + 2 :] if i + 1 < len(words) and _static(words[i + 1]) == "pip" else None
        if w == "-mpip":
            return words[i + 1 :]
        if not w.startswith("-"):
            return None
        i += 1
    return None


def _dash_c(words: tuple[Word, ...]) -> Mapped | None:
    for i, w in enumerate(words):
        s = _static(w)
        if s.startswith("-") and "c" in s[1:] and not s.startswith("--") and i + 1 < len(words):
            script = words[i + 1]
            if len(script) == 1 and isinstance(script[0], Lit):
                return Mapped(script[0].text, script[0].origin)
            return None
    return None


def _pip_arguments(tool: str, words: tuple[Word, ...], via_xargs: bool, replace: str | None,
                   offset: int) -> PipCommand | None:
    i = 0
    subcommand = None
    while i < len(words):
        w = _static(words[i])
        if w.startswith("-"):
            i += 2 if w in PIP_GLOBAL_VALUE_OPTIONS else 1
            continue
        subcommand = w
        i += 1
        break
    if subcommand not in PIP_SUBCOMMANDS:
        return None
    requirements: list[Word] = []
    addresses: list[tuple[str, Word]] = []
    while i < len(words):
        word = words[i]
        w = _static(word)
        if w.startswith("-") and len(w) > 1:
            option, eq, _ = w.partition("=")
            if not eq and len(option) > 2 and not option.startswith("--") and option[:2] in PIP_VALUE_OPTIONS:
                option = option[:2]  # glued short option: -fURL
                eq = "glued"
            if option in PIP_VALUE_OPTIONS:
                if eq:
                    value = _strip_prefix(word, len(w) - len(w.partition("=")[2]) if eq == "=" else 2)
                    i += 1
                else:
                    value = words[i + 1] if i + 1 < len(words) else ()
                    i += 2
                if option in INDEX_OPTIONS:
                    addresses.append((option, value))
                continue
            i += 1
            continue
        requirements.append(word)
        i += 1
    return PipCommand(tool, subcommand, tuple(requirements), tuple(addresses), via_xargs, replace,
                      offset)


def _strip_prefix(word: Word, n: int) -> Word:
    """The word without its first n static characters (`--find-links=` of `--find-links=URL`)."""
    out: list[Piece] = []
    for p in word:
        if n <= 0:
            out.append(p)
        elif isinstance(p, Lit):
            if n < len(p.text):
                out.append(Lit(p.text[n:], p.origin[n:]))
            n -= len(p.text)
        else:
            n -= len(_static((p,)))
    return tuple(out)


def _git_clone(words: tuple[Word, ...], offset: int) -> GitClone | None:
    i = 0
    while i < len(words) and _static(words[i]).startswith("-"):
        i += 2 if _static(words[i]) in ("-C", "-c") else 1
    if i >= len(words) or _static(words[i]) != "clone":
        return None
    branch: Word | None = None
    url = None
    i += 1
    while i < len(words):
        w = _static(words[i])
        if w in ("-b", "--branch") and i + 1 < len(words):
            branch = words[i + 1]
            i += 2
            continue
        if w.startswith("--branch="):
            branch = _strip_prefix(words[i], len("--branch="))
        elif w in ("--depth", "-o", "--origin", "-c", "--config", "-j", "--jobs", "--reference",
                   "--separate-git-dir", "--filter", "-u", "--upload-pack", "--template"):
            i += 2
            continue
        elif not w.startswith("-") and url is None:
            url = w
        i += 1
    if url is None:
        return None
    return GitClone(branch, url, offset)
