"""Shell words with file spans: the simple commands of a script, at any depth.

tree-sitter-bash is the tokenizer: a maintained, error-tolerant bash grammar that reports the
byte span of every node, so quotes, `&&`, `||`, `;`, pipes, subshells and heredocs come out right
without a parser of our own.
"""
from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Collection, Iterator, Union

from release_hook.records import NamedTuple
from release_hook.spans import Computed, Lit, Mapped, Piece, Var, Word, word_offset
from release_hook.textlines import NOWHERE

if TYPE_CHECKING:
    import tree_sitter


def _bash_grammar() -> object:
    """tree-sitter-bash's grammar, loaded from its compiled module alone where it can be: the
    package's `__init__` imports importlib.resources (with pathlib, tempfile, shutil, urllib),
    8 ms of every run that parses a RUN, for a query file this tool never reads."""
    import importlib.machinery
    import importlib.util

    package = importlib.util.find_spec("tree_sitter_bash")  # found, not run
    for folder in (package.submodule_search_locations or []) if package is not None else []:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            spec = importlib.util.spec_from_file_location("tree_sitter_bash._binding",
                                                          os.path.join(folder, "_binding" + suffix))
            if spec is not None and spec.loader is not None and os.path.isfile(spec.origin or ""):
                binding = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(binding)
                return binding.language()  # type: ignore[attr-defined, no-any-return]
    import tree_sitter_bash  # laid out otherwise: the package's own way

    return tree_sitter_bash.language()


@lru_cache(maxsize=1)
def _parser() -> tuple[tree_sitter.Parser, tree_sitter.QueryCursor]:
    import tree_sitter

    language = tree_sitter.Language(_bash_grammar())
    # Finding the nodes in C is much faster than walking every node from Python.
    query = tree_sitter.Query(language, "(command) @command (variable_assignment) @assignment "
                                        "(unset_command) @unset (declaration_command) @declaration "
                                        "(subshell) @subshell (command_substitution) @subshell "
                                        "(process_substitution) @subshell (for_statement) @loop "
                                        "(while_statement) @carried (c_style_for_statement) @carried "
                                        '(pipeline (_) @apart) ((_) @apart . "&")')
    return tree_sitter.Parser(language), tree_sitter.QueryCursor(query)


class Command(NamedTuple):
    words: tuple[Word, ...]
    offset: int  # file offset of the first word, for line numbers
    env: tuple[tuple[str, Word], ...] = ()  # `NAME=value` in front of it, for this command alone
    maybe: bool = False  # it may not run: in a branch, a loop or a function, after `||` or a test's `&&`
    stdin: Word | None = None  # what it reads that may be a script (`bash <<EOF`, `<<<`, a pipe)
    stdout: Word | None = None  # where a command fed a heredoc writes (`cat <<EOF > /x.sh`)
    appends: bool = False  # to the end of that file (`>>`)
    heredoc_in: bool = False  # its standard input is a heredoc (what `tee /x.sh <<EOF` writes)
    stdin_file: Word | None = None  # the file it reads on its standard input (`bash < /x.sh`)


class Assignment(NamedTuple):
    name: str
    value: Word | None  # None: `export NAME`, which exports the value it has
    exported: bool  # `export NAME=value`


class Subshell(NamedTuple):
    """Where a `( ... )`, `$( ... )` or `<( ... )`, a pipeline's element or a command run with
    `&` opens or closes: what its commands set, export, activate or `cd` to ends with it; what
    they make on disk (a venv, a link) stays."""

    opens: bool


Step = Union[Command, Assignment, Subshell]


class Script(NamedTuple):
    # the simple commands at any depth, the shell's `NAME=value` and the subshells' bounds, in
    # the script's order: `V=1 && pip ... && V=2` installs with 1
    steps: tuple[Step, ...]
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
    reader = _Reader(script, data, to_char, tree.root_node)
    found = cursor.captures(tree.root_node)
    # Each element of a pipeline, and a command run with `&`, runs in a shell of its own, as
    # a subshell does: `cd /app | tee log` and `cd /app &` leave the next command where it was.
    apart = [_piped(n) for n in found.pop("apart", [])]
    nodes = [(n.start_byte, 0 if kind == "assignment" else 1, n)
             for kind, group in found.items() if kind != "carried" for n in group]
    # a `while` / `until` / `for ((...))` body: what it sets is the build's from its start on
    nodes += [(_body_start(n), 0, n) for n in found.get("carried", [])]
    # a close sorts before whatever starts where it ends; such a shell opens before its command
    shells = [n for n in apart if n is not None]
    nodes += [(n.end_byte, -2, n) for n in (*found.get("subshell", []), *shells)]
    nodes += [(n.start_byte, -1, n) for n in shells]
    at: list[int] = []  # where each step's node is, for the loops to find their bodies' steps
    loops: list[_Loop] = []
    for where, kind, node in sorted(nodes, key=lambda t: (t[0], t[1])):
        before = len(reader.steps)
        if kind < 0 or node.type in _SUBSHELLS:
            reader.steps.append(Subshell(opens=kind != -2))
        elif node.type == "unset_command":  # `unset NAME`: bash's grammar gives it a node of its own
            if reader.uncertain(node):
                reader.maybe_unset(node)
            else:
                reader.command(node, leading=1)
        elif node.type == "declaration_command":  # its `NAME=value` are read as assignments
            reader.exports(node)
        elif node.type in ("while_statement", "c_style_for_statement"):
            reader.carried(node)
        elif node.type == "for_statement":  # `for V in ...` (and `select`) sets V on each run of its body
            loop = reader.plain_loop(node)
            if loop is None:
                reader.loop(node)
            else:
                loops.append(loop)
        elif kind == 1:
            reader.command(node)
        elif node.parent is None or node.parent.type != "command":
            reader.assignment(node)  # prefix assignments (`A=1 pip ...`) are read by command()
        at.extend([where] * (len(reader.steps) - before))
    steps = reader.steps
    for loop in sorted(loops, key=lambda loop: loop.end - loop.start):  # the innermost first
        steps, at = _unrolled(steps, at, loop)
    if tree.root_node.has_error:
        reader.find_error(tree.root_node)
    return Script(tuple(steps), reader.error_at)


class _Loop(NamedTuple):
    """`for V in a b; do ...; done` over plain words: its body, as bytes, run once per word."""

    start: int
    end: int
    variable: str
    values: tuple[Word, ...]
    unknowns: tuple[Assignment, ...]  # read as any other loop, where the runs would be too many


# The most steps a script's loops may become: nested loops multiply (four of 20 words each
# make 160,000 runs of the innermost body); past this a loop is read as any other.
_MOST_STEPS = 10_000


def _unrolled(steps: list[Step], at: list[int], loop: _Loop) -> tuple[list[Step], list[int]]:
    """The body's steps once for each of the loop's words, each time after V is set to it; V
    keeps the last. (The steps between a loop's bounds are one run of them, in order.)"""
    i = next((k for k, p in enumerate(at) if p >= loop.start), len(at))
    j = next((k for k in range(i, len(at)) if at[k] >= loop.end), len(at))
    out, where = steps[:i], at[:i]
    if len(steps) + (len(loop.values) - 1) * (j - i) > _MOST_STEPS:
        out += [*loop.unknowns, *steps[i:j]]
        where += [loop.start] * len(loop.unknowns) + at[i:j]
        return out + steps[j:], where + at[j:]
    for value in loop.values:
        out += [Assignment(loop.variable, value, False), *steps[i:j]]
        where += [loop.start, *at[i:j]]
    return out + steps[j:], where + at[j:]


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


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PLAIN_EXPANSION = frozenset({"${", "variable_name", "}"})
_LITERAL_LEAVES = frozenset({"word", "number"})


class _Reader:
    def __init__(self, script: Mapped, data: bytes, to_char: list[int] | None, root: tree_sitter.Node) -> None:
        self.script = script
        self.data = data
        self.to_char = to_char
        self.steps: list[Step] = []
        self.assigning: list[Var] = []  # `${NAME:=word}` read in the words of the current step
        self.certain: set[int] = set()  # where the bodies of loops read once per word start
        self.root = root
        self.functions: bool | None = None  # whether the script defines a function, once asked
        self.error_at: int | None = None

    def uncertain(self, node: tree_sitter.Node) -> bool:
        """Whether `node` may not run or not reach the commands after it (`_uncertain`), a loop
        read once per word counting as one that runs."""
        return _uncertain(node, certain=self.certain)

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
            text = self.mapped(name).text
            if self.uncertain(node):  # it may not run, or not reach later commands
                word = self._unknown(text, node)
            else:
                word = self.appended(node, self.word(value) if value is not None else ())
            parent = node.parent
            exported = parent is not None and parent.type == "declaration_command" and \
                parent.children[0].type == "export"
            self.flush(node)
            self.steps.append(Assignment(text, word, exported))

    def appended(self, node: tree_sitter.Node, word: Word) -> Word:
        """`NAME+=word` gives NAME its value (none if unset) with the word after it."""
        if not any(c.type == "+=" for c in node.children):
            return word
        name = node.children[0]
        return (Var(self.mapped(name).text, self.script.offset(self.char(node.start_byte)), "-"), *word)

    def exports(self, node: tree_sitter.Node) -> None:
        """`export NAME`: the variable it has from here on is in its commands' environment."""
        if node.children[0].type == "export":
            maybe = self.uncertain(node)  # may not run: whether a `sh -c` gets it is the build's
            for child in node.children[1:]:
                if child.type == "variable_name":
                    name = self.mapped(child).text
                    self.steps.append(Assignment(name, self._unknown(name, child) if maybe else None, True))

    def maybe_unset(self, node: tree_sitter.Node) -> None:
        """`unset NAME` where it may not run (after `||`, in a branch): whether NAME is still
        set is the build's to know, as for an assignment there."""
        if any(c.type == "word" and self.mapped(c).text.startswith("-f") for c in node.children):
            return  # functions, not variables
        for child in node.children:
            if child.type == "variable_name":
                name = self.mapped(child).text
                self.steps.append(Assignment(name, self._unknown(name, child), False))

    def loop(self, node: tree_sitter.Node) -> None:
        """The variable of `for V in ...; do ...; done`: each run of the body gets a value of its
        own, and the last stays after it; the build's to know, as a branch's assignment is. So
        is each variable the body sets, from its start: a second run reads what the first set."""
        self.steps.extend(self._loop_unknowns(node))

    def _loop_unknowns(self, node: tree_sitter.Node) -> list[Assignment]:
        variable, body = node.child_by_field_name("variable"), node.child_by_field_name("body")
        names = [self.mapped(variable).text] if variable is not None and variable.type == "variable_name" else []
        names += self._set_in(body) if body is not None else []
        return [Assignment(name, self._unknown(name, node), False) for name in dict.fromkeys(names)]

    def carried(self, node: tree_sitter.Node) -> None:
        """A `while`, `until` or `for ((...))` loop, read at its body's start: a second run of the
        body reads what the first set (and a `for ((...))` what its header moves), so each such
        variable is the build's from here on."""
        body = node.child_by_field_name("body")
        names = self._set_in(body) if body is not None else []
        if node.type == "c_style_for_statement":  # `i=0; i<2; i++`: every name in the header
            header = self.data[node.start_byte:body.start_byte if body is not None else node.end_byte]
            names += [m.decode() for m in _HEADER_NAME.findall(header) if m != b"for"]
        for name in dict.fromkeys(names):
            self.steps.append(Assignment(name, self._unknown(name, body if body is not None else node), False))

    def _set_in(self, body: tree_sitter.Node) -> list[str]:
        """The variables a loop's body may set: `NAME=value` (not one given to a single command,
        `A=1 pip ...`, unless the grammar made it so: `A=1 B=2` alone on its line, then a
        command, which bash sets in the shell), an inner loop's, `unset`, and what `read`,
        `printf -v`, `mapfile`, `getopts` and `let` set."""
        out: list[str] = []
        for node in _descendants(body):
            if node.type == "variable_assignment":
                name, command = node.child_by_field_name("name"), node.parent
                given = command is not None and command.type == "command" and \
                    command.child_by_field_name("name") is not None and not _assignments_alone(command, self.data)
                if name is not None and name.type == "variable_name" and not given:
                    out.append(self.mapped(name).text)
            elif node.type == "for_statement":
                variable = node.child_by_field_name("variable")
                if variable is not None and variable.type == "variable_name":
                    out.append(self.mapped(variable).text)
            elif node.type == "unset_command":
                out += [self.mapped(c).text for c in node.children if c.type == "variable_name"]
            elif node.type == "command" and (name := node.child_by_field_name("name")) is not None and \
                    name.text is not None and name.text.decode(errors="replace") in _SETTING_BUILTINS:
                words = [self.word(c.children[0] if c.type == "command_name" and c.children else c)
                         for c in node.children if c.type not in _NOT_WORDS and c.type != "variable_assignment"]
                out += [variable for variable, _ in _set_by_builtin(words)]
        return out

    def plain_loop(self, node: tree_sitter.Node) -> _Loop | None:
        """A `for V in ...` whose words are plain (no expansion, brace or tilde: bash passes them
        as written), that runs where it stands (not in a branch, another loop or a pipeline),
        whose body does not branch (`if`, `case`, `||`, a test's `&&`: a branch on V would give
        pins bash never installs) and runs each time to the end (no `break`, `continue`,
        `exit`, `exec` or `return`): bash's runs of its body can be read one by one. None for
        any other loop, whose variable is the build's."""
        variable, body = node.child_by_field_name("variable"), node.child_by_field_name("body")
        if node.children[0].type != "for" or variable is None or variable.type != "variable_name" or \
                body is None or not any(c.type == "in" for c in node.children) or self.uncertain(node):
            return None  # `select`, and `for V` alone (the positional parameters)
        values = node.children_by_field_name("value")
        if not all(_plain_word(v, self.data) for v in values) or _branches_or_stops(body) or \
                self._defines_function():  # a function called in the body may stop a run
            return None
        words = tuple(self.word(v) for v in values)
        # bash expands the words once, before the loop: a variable its body sets would be read
        # here as each run leaves it
        if {p.name for w in words for p in w if isinstance(p, Var)} & set(self._set_in(body)):
            return None
        self.certain.add(body.start_byte)  # each run of its body is read: what it does is done
        return _Loop(body.start_byte, body.end_byte, self.mapped(variable).text, words,
                     tuple(self._loop_unknowns(node)))

    def _defines_function(self) -> bool:
        if self.functions is None:
            self.functions = any(n.type == "function_definition" for n in _descendants(self.root))
        return self.functions

    def _unknown(self, name: str, node: tree_sitter.Node) -> Word:
        return (Computed("${" + name + "}", self.script.offset(self.char(node.start_byte))),)

    def command(self, node: tree_sitter.Node, leading: int = 0) -> None:
        """`leading`: that many first children are the command's name, as plain words (with
        it, so are the names it takes: `unset NAME`)."""
        words: list[Word] = []
        env: list[tuple[str, Word]] = []
        end = -1  # where the last word ends
        alone = _assignments_alone(node, self.data)
        for i, child in enumerate(node.children):
            if i < leading or leading and child.type == "variable_name":  # `unset NAME`'s names
                m = self.mapped(child)
                words.append((Lit(m.text, m.origin),))
            elif child.type == "command_name":
                words.append(self.word(child.children[0] if child.children else child))
            elif words and child.type not in _NOT_WORDS and child.type != "variable_assignment" and \
                    _JOINED.fullmatch((gap := self.script[self.char(end):self.char(child.start_byte)]).text):
                # the grammar ends a word at an escape after an expansion: `${PKG}\[cuda\]==0.4.30`
                # and `$V\ x` are one word each, as bash reads them
                words[-1] += ((_unescape(gap, "\\"),) if gap.text else ()) + self.word(child)
            elif child.type == "variable_assignment" and alone:
                self.assignment(child)
            elif child.type == "variable_assignment":
                name = child.child_by_field_name("name")
                value = child.child_by_field_name("value")
                if name is not None and not words:
                    env.append((self.mapped(name).text,
                                self.appended(child, self.word(value) if value is not None else ())))
            elif child.type in _NOT_WORDS:
                continue
            elif words:
                words.append(self.word(child))
            end = child.end_byte
        self.flush(node)
        if words:
            heredoc = _fed_heredoc(node)
            stdin = self.stdin(node, heredoc)
            fed = stdin is not None and heredoc is not None
            out, appends = _stdout_file(heredoc) if fed else (None, False)
            source = _stdin_file(node) if stdin is None else None
            self.steps.append(Command(tuple(words), word_offset(words[0]), tuple(env),
                                      _may_not_run(node, self.certain), stdin,
                                      self.word(out) if out is not None else None, appends, fed,
                                      self.word(source) if source is not None else None))
            for variable, at in _set_by_builtin(words):  # after the command: its words are read before
                self.steps.append(Assignment(variable, (Computed("${" + variable + "}", at),), False))

    def stdin(self, command: tree_sitter.Node, redirect: tree_sitter.Node | None) -> Word | None:
        """What a command reads on its standard input, where that may be a script: a heredoc
        (`bash <<EOF ... EOF`), as the shell passes it (with a quoted delimiter as written;
        otherwise with its variables and `$(...)` expanded and `\\` escaping only `$`, `` ` ``,
        `\\` and a newline); a here-string (`bash <<<"pip ..."`); or, from a pipe (`echo ... |
        bash`), what only the build knows. None for a command that reads no such input.
        `redirect`: the heredoc it reads (`_fed_heredoc`)."""
        herestring = next((c for c in command.children if c.type == "herestring_redirect"), None)
        if herestring is not None and herestring.named_children:
            return self.word(herestring.named_children[-1])
        if redirect is None:
            element = _element(command)
            piped = element.parent
            changed = _piped_from_heredoc(element)
            if changed is not None:  # what only the build knows, the heredoc's pins in its text
                text = self.mapped(changed)
                return (Computed(text.text, text.origin[0] if text.origin else NOWHERE),)
            if piped is None or piped.type != "pipeline" or element.prev_named_sibling is None:
                return None
            # what the pipe brings, as the whole statement (in `cat <<EOF | grep x | bash` the
            # grammar puts the pipe inside the heredoc)
            whole = piped
            while whole.parent is not None and whole.parent.type in ("pipeline", "heredoc_redirect",
                                                                      "redirected_statement"):
                whole = whole.parent
            text = self.mapped(whole)
            return (Computed(text.text, text.origin[0] if text.origin else NOWHERE),)
        body = next((c for c in redirect.children if c.type == "heredoc_body"), None)
        start = next((c for c in redirect.children if c.type == "heredoc_start"), None)
        if body is None or start is None:
            return None
        if any(q in self.data[start.start_byte:start.end_byte] for q in (b"'", b'"', b"\\")):
            m = self.mapped(body)
            return (Lit(m.text, m.origin),)
        pieces: list[Piece] = []
        at = self.char(body.start_byte)
        for child in body.children:
            if child.type == "heredoc_content":
                continue  # its characters are read between the expansions
            if self.char(child.start_byte) > at:
                pieces.append(_unescape(self.script[at:self.char(child.start_byte)], "$`\n"))
            pieces.extend(self.pieces(child, quoted=True))
            at = self.char(child.end_byte)
        if self.char(body.end_byte) > at:
            pieces.append(_unescape(self.script[at:self.char(body.end_byte)], "$`\n"))
        return tuple(pieces)

    def modified(self, node: tree_sitter.Node) -> tuple[str, Mapped] | None:
        """`${NAME:-word}` (`:+`, `-`, `+`) with a plain word or none: the modifier and the word's
        characters; None for anything else (`${NAME:-$W}`, a quoted or escaped word)."""
        kids = node.children
        types = [c.type for c in kids]
        if len(kids) not in (4, 5) or types[:2] != ["${", "variable_name"] or types[2] not in _MODIFIERS \
                or types[-1] != "}":
            return None
        if len(kids) == 4:
            return types[2], Mapped("", ())
        word = kids[3]
        if word.type not in _PLAIN and not (word.type == "concatenation"
                                            and all(c.type in _PLAIN for c in word.children)):
            return None
        text = self.mapped(word)
        return (types[2], text) if "\\" not in text.text else None

    def flush(self, node: tree_sitter.Node) -> None:
        """The variables `${NAME:=word}` in the words just read set: assigned before the command or
        assignment that holds them runs (its own words read them the same way)."""
        for var in self.assigning:
            value = self._unknown(var.name, node) if self.uncertain(node) else (var,)
            self.steps.append(Assignment(var.name, value, False))
        self.assigning.clear()

    def word(self, node: tree_sitter.Node) -> Word:
        pieces = tuple(self.pieces(node))
        # the byte first: a word seldom starts with `~`, and the nodes cost to ask (5% of a walk)
        if self.data[node.start_byte:node.start_byte + 1] != b"~":
            return pieces
        first = node.children[0] if node.type == "concatenation" and node.children else node
        if first.type == "word" and pieces and isinstance(pieces[0], Lit):
            # bash's tilde expansion: an unquoted `~` (`~user`) at a word's start, up to its
            # first `/`, is a home folder, the build's to know (`-r ~/r.txt`, `V=~/x`)
            lit = pieces[0]
            end = lit.text.find("/") if "/" in lit.text else len(lit.text)
            rest = (Lit(lit.text[end:], lit.origin[end:]),) if end < len(lit.text) else ()
            return (Computed(lit.text[:end], lit.origin[0]), *rest, *pieces[1:])
        return pieces

    def pieces(self, node: tree_sitter.Node, quoted: bool = False) -> Iterator[Piece]:
        """`quoted`: inside double quotes, where an expansion's value stays one word."""
        t = node.type
        if t in _LITERAL_LEAVES:
            yield _unescape(self.mapped(node), "\\")
        elif t == "raw_string":
            m = self.mapped(node, 1, 1)
            yield Lit(m.text, m.origin)
        elif t == "string":
            at = self.char(node.start_byte)
            for k, child in enumerate(node.children):
                start = self.char(child.start_byte)
                if child.type == "string_content":
                    yield _unescape(self.script[at:self.char(child.end_byte)] if k else self.mapped(child),
                                    '\\"$`\n')
                    at = self.char(child.end_byte)
                    continue
                # the grammar leaves out the blanks before an expansion or the closing quote, or
                # gives them to that token (`"$A $B"`, `" "`): they are the string's all the same
                m = self.mapped(child)
                blank = len(m.text) - len(m.text.lstrip(" \t\n")) if k else 0
                if k and start + blank > at:
                    yield _unescape(self.script[at:start + blank], '\\"$`\n')
                at = self.char(child.end_byte)
                if child.type == '"':
                    continue
                for i, piece in enumerate(self.pieces(child, quoted=True)):
                    if i == 0 and blank and isinstance(piece, Computed):
                        piece = Computed(piece.source[blank:], m.offset(blank))
                    elif i == 0 and blank and isinstance(piece, Var):
                        piece = piece._replace(offset=m.offset(blank))
                    yield piece
        elif t == "concatenation":
            for child in node.children:
                yield from self.pieces(child, quoted)
        elif t in ("simple_expansion", "expansion") and not _named(node):
            m = self.mapped(node)  # `$1`, `${10}`: positional parameters, set by the build's `set --`
            yield Computed(m.text, m.offset(0))
        elif t == "simple_expansion" and len(node.children) == 2 and node.children[1].type == "variable_name":
            yield Var(self.mapped(node.children[1]).text, self.script.offset(self.char(node.start_byte)),
                      split=not quoted)
        elif t == "expansion" and [c.type for c in node.children] == ["${", "variable_name", "}"]:
            yield Var(self.mapped(node.children[1]).text, self.script.offset(self.char(node.start_byte)),
                      split=not quoted)
        elif t == "expansion" and (modified := self.modified(node)) is not None:
            # `${NAME:-word}`, `${NAME+word}`, `${NAME:-}`... with a plain word or none: the rule
            # is scopes._modified's; the word's characters are where a version moves
            modifier, word = modified
            var = Var(self.mapped(node.children[1]).text, self.script.offset(self.char(node.start_byte)),
                      _ASSIGNING.get(modifier, modifier), Lit(word.text, word.origin) if word.text else None,
                      not quoted)
            if modifier in _ASSIGNING:
                self.assigning.append(var._replace(split=False))  # the value assigned is not split
            yield var
        else:
            m = self.mapped(node)
            yield Computed(m.text, m.offset(0))


# bash builtins that set the variables they name, and their options that take a value
_SETTING_BUILTINS = {"read": "adinNptu", "mapfile": "dnOsuCc", "readarray": "dnOsuCc", "printf": "v",
                     "getopts": "", "let": ""}
_LET_NAME = re.compile(r"\s*(?:\+\+|--)?\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:[-+*/%&^|]|<<|>>)?=(?!=)"
                       r"|\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\+\+|--)|\s*(?:\+\+|--)\s*([A-Za-z_][A-Za-z0-9_]*)")


def _set_by_builtin(words: list[Word]) -> list[tuple[str, int]]:
    """The variables `read V`, `read -a V`, `printf -v V`, `getopts OPTS V`, `mapfile V`, `let V=1`
    set, each with its word's offset: values only the build knows."""
    texts = ["".join(p.text for p in w if isinstance(p, Lit)) if all(type(p) is Lit for p in w) else ""
             for w in words]
    builtin = texts[0]
    if builtin not in _SETTING_BUILTINS:
        return []
    offsets = [word_offset(w) for w in words]
    if builtin == "getopts":
        return [(texts[2], offsets[2])] if len(texts) > 2 and _NAME.fullmatch(texts[2]) else []
    if builtin == "let":
        return [(m.group(m.lastindex or 1), offsets[i]) for i, t in enumerate(texts[1:], 1)
                if (m := _LET_NAME.match(t)) is not None]
    valued = _SETTING_BUILTINS[builtin]
    out: list[tuple[str, int]] = []
    i = 1
    while i < len(texts) and texts[i].startswith("-") and texts[i] != "-":
        if texts[i] == "--":
            i += 1
            break
        for k, letter in enumerate(texts[i][1:], 2):
            if letter in valued:  # its value is the rest of the word, or the next word
                value, at = (texts[i][k:], i) if k < len(texts[i]) else \
                    (texts[i + 1] if i + 1 < len(texts) else "", i + 1)
                if letter in "av" and _NAME.fullmatch(value):  # read -a NAME, printf -v NAME
                    out.append((value, offsets[min(at, len(offsets) - 1)]))
                i = at
                break
        i += 1
    if builtin in ("read", "mapfile", "readarray"):
        names = [(t, offsets[j]) for j, t in enumerate(texts[i:], i) if _NAME.fullmatch(t)]
        out.extend(names[-1:] if builtin != "read" else names)
    return out


def _fed_heredoc(command: tree_sitter.Node) -> tree_sitter.Node | None:
    """The heredoc a command reads on its standard input: written after it (or after the list
    or pipeline it ends: the grammar hangs `a && bash <<EOF` on the list), or given to a `cat`
    that pipes it in (`cat <<EOF | bash`). None where another input comes after it (`bash <<EOF
    </dev/null`), or it is for another file descriptor (`3<<EOF`)."""
    node = command
    fed: tree_sitter.Node | None
    while node.parent is not None and node.parent.type in ("list", "pipeline") and \
            node.parent.named_children and node.parent.named_children[-1] == node:
        node = node.parent
    parent = node.parent
    element = _element(command)
    piped = element.parent
    if piped is not None and piped.type == "pipeline" and piped.parent is not None and \
            piped.parent.type == "heredoc_redirect" and element.prev_named_sibling is None:
        fed = piped.parent  # `cat <<EOF | bash`: the grammar puts the pipe inside the heredoc
        if not _passes_input_on(fed):
            return None
    elif parent is not None and parent.type == "redirected_statement":
        inputs = [c for c in parent.children if _an_input(c)]
        fed = inputs[-1] if inputs else None
    else:
        return None
    # the grammar puts the redirects written after `<<EOF` inside it: an input one there (`<<EOF
    # </dev/null`) is what the command reads; an output one (`<<EOF 2>&1`) changes nothing
    if fed is None or fed.type != "heredoc_redirect" or any(
            c.type == "file_descriptor" and c.text not in (b"0",) or c.type != "heredoc_redirect" and _an_input(c)
            for c in fed.children):
        return None
    return fed


def _stdout_file(fed: tree_sitter.Node | None) -> tuple[tree_sitter.Node | None, bool]:
    """The file a command fed the heredoc `fed` writes its standard output to (`cat <<EOF >
    /x.sh`, `cat > /x.sh <<'EOF'`, `>>`), and whether it appends: the last redirect of
    descriptor 1."""
    if fed is None or fed.parent is None:
        return None, False
    redirects = [c for c in (*fed.parent.children, *fed.children) if c.type == "file_redirect"]
    out: tuple[tree_sitter.Node | None, bool] = (None, False)
    for redirect in sorted(redirects, key=lambda r: r.start_byte):
        descriptor, operator = _descriptor(redirect), _operator(redirect)
        if descriptor in (None, b"1") and operator in (">", ">|", "&>", ">>", "&>>"):
            out = (redirect.child_by_field_name("destination") or redirect.named_children[-1], ">>" in operator)
        elif descriptor in (None, b"1") and ">" in operator:  # `>&2`: another descriptor's
            out = (None, False)
    return out


def _stdin_file(command: tree_sitter.Node) -> tree_sitter.Node | None:
    """The file given to a command on its standard input (`bash < /x.sh`): the last input
    redirect of it, where that is `<` from a file."""
    parent = command.parent
    if parent is None or parent.type != "redirected_statement" or parent.child_by_field_name("body") != command:
        return None
    inputs = [c for c in parent.children if _an_input(c)]
    last = inputs[-1] if inputs else None
    if last is None or last.type != "file_redirect" or _operator(last) != "<":
        return None
    return last.child_by_field_name("destination") or last.named_children[-1]


def _passes_input_on(heredoc: tree_sitter.Node) -> bool:
    """Whether the command a heredoc is written for passes it on unchanged down a pipe: `cat`,
    `cat -`, `tee` (which also writes it to its files)."""
    source = heredoc.parent.child_by_field_name("body") if heredoc.parent is not None else None
    if source is None or source.type != "command" or _stdout_file(_fed_heredoc(source))[0] is not None:
        return False  # `tee /x.sh >/dev/null <<EOF | sh`: its output goes to the file, not the pipe
    name = source.child_by_field_name("name")
    return source.text in (b"cat", b"cat -") or name is not None and name.text == b"tee"


def _piped_from_heredoc(element: tree_sitter.Node) -> tree_sitter.Node | None:
    """The statement whose heredoc a command changes before piping it on (`sed ... <<EOF | sh`:
    the grammar puts the pipe inside the heredoc)."""
    piped = element.parent
    if piped is None or piped.type != "pipeline" or element.prev_named_sibling is not None:
        return None
    fed = piped.parent
    if fed is None or fed.type != "heredoc_redirect" or fed.parent is None or _passes_input_on(fed):
        return None
    return fed.parent


def _element(command: tree_sitter.Node) -> tree_sitter.Node:
    """The command with the output redirects written after it (`bash 2>&1`), as the grammar
    wraps them; the command itself where one of them is an input."""
    parent = command.parent
    if parent is None or parent.type != "redirected_statement" or parent.child_by_field_name("body") != command \
            or any(_an_input(c) for c in parent.children):
        return command
    return parent


def _reads_input(redirect: tree_sitter.Node) -> bool:
    """`<file`, `<&3`, `<>file`, `0>file`: a redirect of standard input."""
    descriptor, operator = _descriptor(redirect), _operator(redirect)
    return operator.startswith("<") and descriptor in (None, b"0") or descriptor == b"0"


def _an_input(node: tree_sitter.Node) -> bool:
    """A heredoc, a here-string or a file redirect of standard input."""
    return node.type in ("heredoc_redirect", "herestring_redirect") or \
        node.type == "file_redirect" and _reads_input(node)


def _descriptor(redirect: tree_sitter.Node) -> bytes | None:
    return next((c.text for c in redirect.children if c.type == "file_descriptor"), None)


def _operator(redirect: tree_sitter.Node) -> str:
    return next((c.type for c in redirect.children if not c.is_named), "")


def _body_start(node: tree_sitter.Node) -> int:
    body = node.child_by_field_name("body")
    return body.start_byte if body is not None else node.start_byte


_HEADER_NAME = re.compile(rb"(?<![\w$])[A-Za-z_][A-Za-z0-9_]*")


def _plain_word(node: tree_sitter.Node, data: bytes) -> bool:
    """A loop's word that stays one word, known here: single-quoted; double-quoted with nothing
    in it but characters and variables (`"jax==$V"`: a value, not split); or unquoted with no
    expansion, brace, tilde or escape. (Glob characters are read as written, as in any other
    word the walk reads: `jax[cuda12]==0.4.30`.)"""
    if node.type == "raw_string":
        return True
    text = data[node.start_byte:node.end_byte]
    if node.type == "string":
        return b"\\" not in text and all(
            c.type in ('"', "string_content", "simple_expansion") or
            c.type == "expansion" and [k.type for k in c.children] == ["${", "variable_name", "}"]
            for c in node.children)
    if node.type == "concatenation":  # `jax[cuda12]==0.4.30`: the grammar's pieces of one word
        return all(c.type in _LITERAL_LEAVES for c in node.children) and not _UNPLAIN.search(text)
    return node.type in _LITERAL_LEAVES and not _UNPLAIN.search(text)


_UNPLAIN = re.compile(rb"[{}~\\$`]")


def _branches_or_stops(body: tree_sitter.Node) -> bool:
    """Whether a loop's body branches (`if`, `case`, `||`, `&&` after a test) or may stop a run
    early (`break`, `continue`, `exit`, `exec`, `return`), at any depth."""
    return any(node.type in ("if_statement", "case_statement") or node.type == "list" and any(
        c.type == "||" or c.type == "&&" and _a_test(node.children[0]) for c in node.children) or
        node.type == "command" and _stops(node) for node in _descendants(body))


def _descendants(root: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    """The node and every node under it."""
    todo = [root]
    while todo:
        node = todo.pop()
        yield node
        todo.extend(node.children)


def _stops(command: tree_sitter.Node) -> bool:
    """`break`, `builtin break`, `command exit`, `\\break`, `'return'`, `eval ...`: a command
    that may stop its loop's run (its words as bash reads them, quotes and escapes off)."""
    names = [_UNQUOTED.sub(b"", c.text or b"").decode(errors="replace") for c in command.children
             if c.type not in _NOT_WORDS and c.type != "variable_assignment"][:2]
    if names and names[0] in ("builtin", "command"):
        names = names[1:]
    # `$X` with X=break: a name only the build knows may be one
    return bool(names) and (names[0] in _STOPS or names[0][:1] in ("$", "`"))


_UNQUOTED = re.compile(rb"[\\'\"]")


_STOPS = frozenset({"break", "continue", "exit", "exec", "return", "eval"})


def _assignments_alone(node: tree_sitter.Node, data: bytes) -> bool:
    """Whether a command's leading `NAME=value` words end their own line: the grammar reads
    `A=1 B=2<newline>pip install ...` (two or more) as one command with A and B its own, where
    bash sets them in the shell, then runs pip."""
    name = node.child_by_field_name("name")
    if name is None:
        return False
    before = [c for c in node.children if c.type == "variable_assignment" and c.end_byte <= name.start_byte]
    if not before:
        return False
    gap = data[before[-1].end_byte:name.start_byte].replace(b"\\\n", b"")  # not a line continuation
    return b"\n" in gap


def _piped(node: tree_sitter.Node) -> tree_sitter.Node | None:
    """What of a pipeline's element (or a command run with `&`) runs in a shell of its own.

    The grammar reads `a && b <file | c` as a pipeline of `a && b <file` and `c`, and nests
    `x | a=1 | b && c` the other way round (`c` piped with the rest). Bash pipes no such list:
    `b` alone runs apart, and `a` (and `c`) in the shell itself. An assignment in such a list
    is the build's to decide all the same (it is under a pipeline)."""
    if node.parent is None or node.parent.type != "pipeline":
        return node
    body = node.child_by_field_name("body") if node.type == "redirected_statement" else node
    if body is None or body.type != "list":
        return node
    if body is node:  # `x | a=1 | b && c`: the pipeline inside holds the elements
        return None
    last = body.named_children[-1] if body.named_children else None
    return last


# A shell of its own: `( ... )`, and the command and process substitutions (`$(cd /a && pwd)`)
_SUBSHELLS = frozenset({"subshell", "command_substitution", "process_substitution"})

# Where an assignment may not happen, or not reach the commands after it: each element of a
# pipeline runs in a shell of its own; a branch, a loop body or a function may not run at all.
# (A subshell's assignments are certain inside it, and end with it: `Subshell` steps.)
_UNCERTAIN = frozenset({"pipeline", "if_statement", "elif_clause", "else_clause", "case_item",
                        "do_group", "function_definition"})


def _uncertain(node: tree_sitter.Node, pipelines: bool = True, certain: Collection[int] = ()) -> bool:
    """Whether `node` may not run (in a branch, a loop or a function, after `||` or a test's
    `&&`) or, with `pipelines`, not reach the commands after it (in a pipeline's element). Up to
    the nearest subshell: what it sets ends with it, and its commands run after it or not at all.
    `certain`: where the bodies of loops read once per word start (each of their runs is read)."""
    child, parent = node, node.parent
    while parent is not None and parent.type not in _SUBSHELLS:
        if parent.type in _UNCERTAIN and (pipelines or parent.type != "pipeline") and \
                not (parent.type == "do_group" and parent.start_byte in certain) or _conditional(parent, child):
            return True  # `cmd || V=1`, `[ -d /a ] && V=1`, `if ...; then V=1; fi`
        child, parent = parent, parent.parent
    return False


def _conditional(parent: tree_sitter.Node, child: tree_sitter.Node) -> bool:
    """Whether `child` runs or not as the build finds: after `||`, or after `&&` behind a test
    (`[ -d /app ] && cd /app`: as `if`). After `&&` behind any other command it runs; a
    command that fails there fails the build."""
    before = child.prev_sibling
    if parent.type != "list" or before is None:
        return False
    return before.type == "||" or before.type == "&&" and _a_test(parent.children[0])


def _a_test(node: tree_sitter.Node) -> bool:
    """`[ ... ]`, `[[ ... ]]`, `(( ... ))`, `test ...`, `false`, `! cmd`, or an and-or list
    that holds one: a command whose outcome is a condition, not a step."""
    if node.type in ("test_command", "negated_command"):
        return True
    if node.type == "compound_statement":  # the grammar's `(( ... ))`
        return bool(node.children) and node.children[0].type == "(("
    if node.type == "command":
        name = node.child_by_field_name("name")
        return name is not None and name.text in (b"test", b"[", b"false")
    return node.type == "list" and any(_a_test(c) for c in node.named_children)


def _may_not_run(node: tree_sitter.Node, certain: Collection[int]) -> bool:
    """Whether a command may not run. (A pipeline's element runs, in a shell of its own: a
    `Subshell` step.)"""
    return _uncertain(node, pipelines=False, certain=certain)


# after `${NAME`: the shell's ":-" / ":+" (unset or empty) and "-" / "+" (unset), a word or none
def _named(node: tree_sitter.Node) -> bool:
    """Whether an expansion's variable is a name (`V`), not a positional parameter (`1`)."""
    return not any(c.type == "variable_name" and c.text is not None and c.text.isdigit() for c in node.children)


_MODIFIERS = frozenset({":-", ":+", "-", "+", ":=", "="})
# `${NAME:=word}` gives what `${NAME:-word}` gives, and sets NAME to it (`=`: as `-`)
_ASSIGNING = {":=": ":-", "=": "-"}
# a default word of plain characters, as the grammar gives it: `0.4.28`, and also `jax==0.4.28`
# (a name, then the rest) and `a b`, which it reads as pieces one after another
_PLAIN = frozenset({"word", "variable_name"})


# what the grammar may leave between the nodes of one word: nothing, or escaped blanks
_JOINED = re.compile(r"(?:\\[ \t\n])*")
_NOT_WORDS = frozenset({"file_redirect", "heredoc_redirect", "herestring_redirect", "comment"})


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
