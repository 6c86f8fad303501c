"""Read a Dockerfile: instructions with exact spans, heredocs, ENV/ARG words and build stages.

dockerfile-parse misreads a byte-order mark, the `# escape=` directive, blank lines inside a
continuation, heredoc bodies and a trailing escape at end of file, so lines are scanned here
with Docker's own rules and dockerfile-parse checks each rewrite instead (see `apply.py`).
"""
from __future__ import annotations

import re

from release_hook.errors import UserError
from release_hook.records import NamedTuple
from release_hook.spans import Computed, Lit, Mapped, Piece, Var, Word

BOM = "\ufeff"
_DIRECTIVE = re.compile(r"#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*?)\s*$")
# `<<EOF`, `<<-EOF`, `<<'EOF'`, `<<"EOF"`, and `<<\EOF` (quoted by its backslash, as the shell reads it)
_HEREDOC = re.compile(r"(?<!<)<<(-?)(?:\\([A-Za-z_][A-Za-z0-9_.-]*)|(['\"]?)([A-Za-z_][A-Za-z0-9_.-]*)\3)")
_RUN_FLAGS = re.compile(r"\s*(?:--[A-Za-z-]+(?:=(?:\"[^\"]*\"|'[^']*'|\S)*)?\s+)*")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})


class Line(NamedTuple):
    number: int  # 1-based
    start: int
    end: int  # end of content, before "\r\n" or "\n"
    next: int  # start of the next line

    def content(self, text: str) -> str:
        return text[self.start : self.end]


class Heredoc(NamedTuple):
    name: str
    body: Mapped  # the lines between the marker and the terminator, line ends included
    line: int  # first line of the body
    strip_tabs: bool


class Instruction(NamedTuple):
    keyword: str  # upper case
    line: int
    end_line: int  # last line, heredoc terminators included
    args: Mapped  # after the keyword: continuations joined, comment lines dropped
    heredocs: tuple[Heredoc, ...]


class Stage(NamedTuple):
    number: int  # 0 for the first FROM
    name: str | None  # the `AS name`, lower-cased as Docker does
    from_: Instruction
    image: Word  # the base image reference, variables unresolved
    instructions: tuple[Instruction, ...]  # after FROM, up to the next FROM


class Dockerfile(NamedTuple):
    path: str
    text: str
    escape: str
    instructions: tuple[Instruction, ...]
    global_args: tuple[Instruction, ...]  # ARGs before the first FROM
    stages: tuple[Stage, ...]


def split_lines(text: str) -> list[Line]:
    lines = []
    pos = 1 if text.startswith(BOM) else 0
    n = 1
    size = len(text)
    while pos < size:
        nl = text.find("\n", pos)
        if nl < 0:
            lines.append(Line(n, pos, size, size))
            break
        end = nl - 1 if nl > pos and text[nl - 1] == "\r" else nl
        lines.append(Line(n, pos, end, nl + 1))
        pos = nl + 1
        n += 1
    return lines


def _directives(text: str, lines: list[Line]) -> tuple[str, int]:
    """The escape character and the index of the first line after the parser directives."""
    escape = "\\"
    seen: set[str] = set()
    i = 0
    for i, line in enumerate(lines):
        m = _DIRECTIVE.match(line.content(text))
        if not m:
            return escape, i
        name = m.group(1).lower()
        if name not in ("escape", "syntax", "check"):  # as BuildKit: an unknown one is a comment,
            return escape, i  # and a comment ends the directives
        if name in seen:  # BuildKit: "only one escape parser directive can be used"
            raise UserError(f"the parser directive {name!r} is given twice; keep one", None, line.number)
        seen.add(name)
        if name == "escape":
            if m.group(2) not in ("\\", "`"):
                raise UserError(f"invalid escape directive {m.group(2)!r}", None, line.number)
            escape = m.group(2)
    return escape, len(lines)


def _continues(content: str, escape: str) -> int:
    """Index of the escape character that continues this line, or -1."""
    stripped = content.rstrip(" \t")
    if stripped.endswith(escape):
        return len(stripped) - 1
    return -1


def _is_comment(content: str) -> bool:
    return content.lstrip(" \t").startswith("#")


def parse(text: str, path: str) -> Dockerfile:
    try:
        return _parse(text, path)
    except UserError as e:
        if e.path is None:
            e.path = path
        raise


def _parse(text: str, path: str) -> Dockerfile:
    lines = split_lines(text)
    escape, i = _directives(text, lines)
    instructions: list[Instruction] = []
    while i < len(lines):
        line = lines[i]
        content = line.content(text)
        if not content.strip(" \t") or _is_comment(content):
            i += 1
            continue
        first = i
        parts: list[Mapped] = []
        while True:
            cut = _continues(content, escape)
            piece_end = line.start + (cut if cut >= 0 else len(content))
            parts.append(Mapped.contiguous(text[line.start : piece_end], line.start))
            if cut < 0:
                break
            i += 1
            # Docker drops comment lines and blank lines inside a continuation.
            while i < len(lines) and (
                not lines[i].content(text).strip(" \t") or _is_comment(lines[i].content(text))
            ):
                i += 1
            if i == len(lines):
                raise UserError(
                    f"line continuation '{escape}' at end of file", None, lines[first].number
                )
            line = lines[i]
            content = line.content(text)
        logical = Mapped.join(parts)
        m = re.match(r"[ \t]*(\S+)[ \t]*", logical.text)
        assert m is not None  # the first line is not blank
        keyword = m.group(1).upper()
        args = logical[m.end() :]
        heredocs: list[Heredoc] = []
        last = i
        if keyword in HEREDOC_KEYWORDS:
            for hm in _HEREDOC.finditer(args.text):
                strip_tabs, name = hm.group(1) == "-", hm.group(2) or hm.group(4)
                j = last + 1
                while j < len(lines):
                    c = lines[j].content(text)
                    if (c.lstrip("\t") if strip_tabs else c) == name:
                        break
                    j += 1
                else:
                    raise UserError(f"unterminated heredoc <<{name}", None, lines[last].number)
                if j > last + 1:
                    body_start, body_end = lines[last + 1].start, lines[j - 1].next
                else:
                    body_start = body_end = lines[j].start
                body = Mapped.contiguous(text[body_start:body_end], body_start)
                heredocs.append(Heredoc(name, body, lines[last].number + 1, strip_tabs))
                last = j
        instructions.append(
            Instruction(keyword, lines[first].number, lines[last].number, args, tuple(heredocs))
        )
        i = last + 1
    return _stages(path, text, escape, instructions)


def _stages(path: str, text: str, escape: str, instructions: list[Instruction]) -> Dockerfile:
    global_args: list[Instruction] = []
    stages: list[Stage] = []
    current: list[Instruction] = []
    head: tuple[Instruction, Word, str | None] | None = None

    def close() -> None:
        if head is not None:
            stages.append(Stage(len(stages), head[2], head[0], head[1], tuple(current)))

    for ins in instructions:
        if ins.keyword == "FROM":
            close()
            current = []
            words = [w for w in split_words(ins.args, escape) if not _is_flag(w)]
            if not words:
                raise UserError("FROM without an image", path, ins.line)
            name = None
            if len(words) >= 3 and _plain(words[1]).lower() == "as":
                name = _plain(words[2]).lower()
            head = (ins, words[0], name)
        elif head is None:
            if ins.keyword != "ARG":  # as BuildKit: only ARG may come before the first FROM
                raise UserError(f"{ins.keyword} before the first FROM: a Dockerfile starts its first "
                                "stage with FROM (only ARG may come before it)", path, ins.line)
            global_args.append(ins)
        else:
            current.append(ins)
    close()
    return Dockerfile(path, text, escape, tuple(instructions), tuple(global_args), tuple(stages))


def _is_flag(word: Word) -> bool:
    return bool(word) and isinstance(word[0], Lit) and word[0].text.startswith("--")


def _plain(word: Word) -> str:
    return "".join(p.text if isinstance(p, Lit) else "\0" for p in word)


def run_flags_end(args: Mapped) -> int:
    """Where the command of a RUN starts, after `--mount=...`, `--network=...` and the like."""
    m = _RUN_FLAGS.match(args.text)
    return m.end() if m else 0


# -- Docker's own word rules, for ENV, ARG and FROM ------------------------------------------


def split_words(m: Mapped, escape: str = "\\") -> list[Word]:
    """Split on unquoted white space; remove quotes and escapes; keep `$` references."""
    words: list[Word] = []
    i, n = 0, len(m.text)
    while i < n:
        while i < n and m.text[i] in " \t\r\n":
            i += 1
        if i == n:
            break
        word, i = _word(m, i, escape, stop_at_space=True)
        words.append(word)
    return words


def value_word(m: Mapped, escape: str = "\\") -> Word:
    """A whole value (legacy `ENV KEY value with spaces`), quotes removed, spaces kept."""
    word, _ = _word(m, 0, escape, stop_at_space=False)
    return word


def _word(m: Mapped, i: int, escape: str, stop_at_space: bool) -> tuple[Word, int]:
    text, origin = m.text, m.origin
    pieces: list[Piece] = []
    chars: list[str] = []
    offs: list[int] = []

    def flush() -> None:
        if chars:
            pieces.append(Lit("".join(chars), tuple(offs)))
            chars.clear()
            offs.clear()

    quote = ""
    n = len(text)
    while i < n:
        c = text[i]
        if not quote and stop_at_space and c in " \t\r\n":
            break
        if c == quote:
            quote = ""
            i += 1
        elif not quote and c in "'\"":
            quote = c
            i += 1
        elif c == escape and quote != "'" and i + 1 < n:
            chars.append(text[i + 1])
            offs.append(origin[i + 1])
            i += 2
        elif c == "$" and quote != "'" and i + 1 < n:
            flush()
            piece, i = reference(m, i)
            pieces.append(piece)
        else:
            chars.append(c)
            offs.append(origin[i])
            i += 1
    flush()
    return tuple(pieces), i


def reference(m: Mapped, i: int) -> tuple[Piece, int]:
    """The `$` reference at `i` (`$NAME`, `${NAME}`, `${NAME:-word}`), and where it ends."""
    text = m.text
    if text[i + 1] == "{":
        close = text.find("}", i + 2)
        if close < 0:
            return Computed(text[i:], m.offset(i)), len(text)
        inner = text[i + 2 : close]
        if _NAME.fullmatch(inner):
            return Var(inner, m.offset(i)), close + 1
        name = _NAME.match(inner)
        if name and inner[name.end():name.end() + 2] in (":-", ":+"):
            word = inner[name.end() + 2:]
            if not any(c in word for c in "$'\"\\`"):  # a literal word: its characters stay spans
                start = i + 2 + name.end() + 2
                lit = Lit(word, tuple(m.offset(k) for k in range(start, start + len(word))))
                return Var(name.group(), m.offset(i), inner[name.end():name.end() + 2], lit), close + 1
        return Computed(text[i : close + 1], m.offset(i)), close + 1
    nm = _NAME.match(text, i + 1)
    if nm:
        return Var(nm.group(), m.offset(i)), nm.end()
    return Lit("$", (m.offset(i),)), i + 1


class Assignment(NamedTuple):
    """One `NAME=value` of an ENV or ARG (value None: an ARG declared without a default)."""

    name: str
    value: Word | None


def assignments(ins: Instruction, escape: str) -> list[Assignment]:
    if ins.keyword not in ("ENV", "ARG"):
        return []
    head = ins.args.text.split(None, 1)
    legacy = ins.keyword == "ENV" and bool(head) and "=" not in head[0]  # `ENV KEY the rest`, `#` and all
    trouble = _unclosed(ins.args.text, escape, comments=not legacy)
    if trouble == "#":  # `ARG V=1  # don't bump`: Docker reads `#` and the rest as more words
        raise UserError(f"{ins.keyword}: a comment must have its own line in a Dockerfile (here '#' and what "
                        f"follows are read as more {ins.keyword} words); move it above this line", None, ins.line)
    if trouble:  # BuildKit refuses it; read on, the value would run to the end of the line
        raise UserError(f"{ins.keyword}: the {trouble} quote is not closed", None, ins.line)
    words = split_words(ins.args, escape)
    out: list[Assignment] = []
    if ins.keyword == "ENV" and words and "=" not in _plain(words[0]):
        # Legacy `ENV KEY value with spaces`: the value is the rest of the line.
        m = re.match(r"\s*\S+\s+", ins.args.text)
        name = _plain(words[0])
        if m is None or not _NAME.fullmatch(name):
            raise UserError("ENV needs a name and a value", None, ins.line)
        return [Assignment(name, value_word(ins.args[m.end() :], escape))]
    for w in words:
        name, value = _split_assignment(w)
        if not _NAME.fullmatch(name):
            raise UserError(f"{ins.keyword}: invalid variable name {name!r}", None, ins.line)
        if value is None and ins.keyword == "ENV":
            raise UserError(f"ENV {name} has no value", None, ins.line)
        out.append(Assignment(name, value))
    return out


def _unclosed(text: str, escape: str, comments: bool) -> str:
    """The quote character left open at the end of `text`; with `comments`, "#" where a word
    starts with an unquoted `#` first; "" when neither."""
    quote = ""
    i = 0
    while i < len(text):
        c = text[i]
        if c == quote:
            quote = ""
        elif not quote and c in "'\"":
            quote = c
        elif not quote and comments and c == "#" and (i == 0 or text[i - 1] in " \t"):
            return "#"
        elif c == escape and quote != "'":
            i += 1
        i += 1
    return quote


def _split_assignment(word: Word) -> tuple[str, Word | None]:
    for k, p in enumerate(word):
        if isinstance(p, Lit) and "=" in p.text:
            cut = p.text.index("=")
            head = "".join(q.text if isinstance(q, Lit) else "$" for q in word[:k]) + p.text[:cut]
            rest: list[Piece] = []
            if cut + 1 < len(p.text):
                rest.append(Lit(p.text[cut + 1 :], p.origin[cut + 1 :]))
            rest.extend(word[k + 1 :])
            return head, tuple(rest)
        if not isinstance(p, Lit):
            break
    return "".join(q.text if isinstance(q, Lit) else "$" for q in word), None
