"""One RUN: its forms (shell, exec, heredocs, `sh -c`), its bind mounts, and each of its
commands, read once for both the pins and the Python that runs them."""
from __future__ import annotations

import posixpath
import re
from typing import Dict, Tuple, Union

from release_hook.names import normalize as canonicalize_name

from release_hook.dockerfile import Instruction, run_flags_end
from release_hook.found import FROM_HERE_ON, Chars, Evidence, Placement, ScriptRun
from release_hook.shell import Assignment, Subshell, parse_exec_form, parse_script
from release_hook.spans import Computed, Lit, Mapped, Var, Word, word_offset, word_text
from release_hook.textlines import NOWHERE
from release_hook.walk.commands import (CONDA, SHELLS, WRAPPERS, Head, basename, dash_c, git_clone, option_value,
                                        pip_call, reads_stdin, script_file, unwrap)
from release_hook.walk.files import UNKNOWN_FOLDER, mount_placements, placement, within
from release_hook.walk.findings import Findings
from release_hook.walk.interpreters import setup_command
from release_hook.walk.kept import NAME_PREFIX, NAMED_PIN, kept_name
from release_hook.walk.pip import Invocation, pip_command
from release_hook.walk.python import RunPython, Saved, Words
from release_hook.walk.scopes import UNSET_BOUND, Bound, expand, fields, known, via
from release_hook.walk.sources import clone
from release_hook.walk.state import UNSET, StageState

# A script to read: its text, the Python its commands run (UNSET: as before), and for the
# script of a `sh -c`, the variables its shell starts with: those exported where it ran, and
# the NAME=value it was given (`X=v sh -c '...'`), and the folder it starts in (it is read
# after the script that ran it has ended, its subshells' `cd` undone); None for the RUN's own.
Script = Tuple[Mapped, Union[Evidence, None, bool], Union[Dict[str, Bound], None], Union[str, None]]

# Only scripts with one of these words can pin, install with pip, change the Python or run a
# script file (`bash x`, `. x`, `./x`). A script none of these can run is not parsed; `$` can
# stand for any of them (`$PIP install`).
_RELEVANT = re.compile(r"pip|uv|git|conda|mamba|pyenv|alternatives|\bln\b|venv|activate|\$"
                       r"|python(?:[0-9.]*\b(?!-)|\$)|sh\b|\bsource\b|(?:^|[\s;&|(])\.[\s/]|(?:^|[\n;&|(]|\b(?:sudo|exec|then|do))\s*/")
_MAY_PIN = re.compile(r"pip|uv|git")  # pins are only on pip, uv pip and git clone
# a script that may read the words after it: `sh -c 'pip install "$@"' _ jax==0.4.30`
_READS_ARGUMENTS = re.compile(r"\$\{?[0-9@*]|\bshift\b|\bgetopts\b|\bfor\s+\w+\s*(?:;|\n|do\b)")
_PINNED = re.compile(r"(?<![\w.-])([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*(?:===|==|~=)\s*[0-9$][^\s\"']*")
# The commands read (after their wrappers); any other command is skipped unread.
_NAMES = frozenset({"uv", "git", "cd", "pushd", "popd", "eval", "pyenv", "update-alternatives", "ln", ".",
                    "source", "virtualenv", "apt-get", "apt", "aptitude", "set", "unset"}) | CONDA | SHELLS | \
    frozenset(WRAPPERS)
_EVAL_CD = re.compile(r"(?:^|[;&|(\s])(?:cd|pushd|popd)(?:\s|$|;)")
_PIP_OR_PYTHON = re.compile(r"(?:pip|python)[0-9.]*(?:[$\0].*)?", re.S)
_SHEBANG_SHELL = re.compile(r"\b(sh|bash|dash|ash|zsh)\b")
# what a sourced script assigns (`V=1`, `export V=1`, `readonly V=1`), at a command's start
_REFERENCED = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
_ASSIGNED = re.compile(r"(?:^|[;&|(\n]|\b(?:export|readonly|declare|local|typeset))\s*([A-Za-z_][A-Za-z0-9_]*)\+?=")


def _interesting(name: str) -> bool:
    return name in _NAMES or name in _MISREAD or bool(_PIP_OR_PYTHON.fullmatch(name))


# the wrappers that run a builtin in the shell itself: bash's `command`, `builtin` and `time`
_IN_THIS_SHELL = frozenset({"command", "builtin", "time"})
# the most steps one RUN's scripts are read in (a loop of 40 words starting a shell whose loop of
# 40 starts another: 64,000 scripts); past it the rest is said, not read
_MOST_RUN_STEPS = 20_000
# what the grammar gives as a command's name after `time` or `!` on a compound command
_MISREAD = frozenset({"for", "select", "while", "until", "if", "case", "do", "then", "else", "elif", "{"})


def _in_this_shell(texts: list[str], at: int) -> bool:
    """Whether the command at `at` runs in the shell, its wrappers (`texts[:at]`) all bash's own."""
    i = 0
    while i < at:
        if texts[i] not in _IN_THIS_SHELL:
            return False
        i += 1
        while i < at and texts[i].startswith("-"):  # `time -p`, `command -p`
            i += 1
    return True


def _shell_builtin(ctx: RunPython, name: str, args: list[str]) -> None:
    """`set -a` (`-o allexport`): every later assignment is exported, until `set +a`; `unset
    NAME`: the variable (the RUN's own, or an ENV or ARG value) is gone for the commands after it."""
    if name == "unset":
        if "-f" in args:  # functions, not variables
            return
        for arg in args:
            if not arg.startswith("-"):
                ctx.local.pop(arg, None)
                ctx.exported.discard(arg)
                if ctx.state.scope.lookup(arg) is not None:  # an ENV or ARG value: hidden from here on
                    ctx.local[arg] = UNSET_BOUND
                    ctx.exported.add(arg)
        return
    if not _set_options_valid(args):
        return  # bash refuses the whole command: nothing changes
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("-", "--") or arg[:1] not in ("-", "+"):
            return  # the positional parameters: `set -- -a` sets $1, not allexport
        on = arg[0] == "-"
        for letter in arg[1:]:  # a lone `+` sets nothing and goes on
            if letter == "o":
                after = args[i + 1] if i + 1 < len(args) else ""
                if after[:1] in ("", "-", "+"):
                    continue  # `set -o` alone lists the options; `set -o -a` then sets -a
                i += 1  # `-o` takes the next word
                if after not in _SET_OPTION_NAMES:
                    return  # bash stops at an unknown name: what came before stays
                if after == "allexport":
                    ctx.allexport = on
            elif letter == "a":
                ctx.allexport = on
            elif letter not in _SET_LETTERS and letter != "i":
                return  # bash stops at an unknown letter: what came before stays
        i += 1


# bash's `set` (5.x): its one-letter options, and the names -o takes
_SET_LETTERS = frozenset("abefhkmnprtuvxBCEHPT")
_SET_OPTION_NAMES = frozenset({
    "allexport", "braceexpand", "emacs", "errexit", "errtrace", "functrace", "hashall", "histexpand",
    "history", "ignoreeof", "interactive-comments", "keyword", "monitor", "noclobber", "noexec",
    "noglob", "nolog", "notify", "nounset", "onecmd", "physical", "pipefail", "posix", "privileged",
    "verbose", "vi", "xtrace"})


def _set_options_valid(args: list[str]) -> bool:
    """bash's first look at `set`'s words (its getopt): up to `-`, `+`, `--` or a word that is no
    option, every letter must be one of set's, and no word `--help`. The name after -o is
    skipped here (`-oNAME` and `-o NAME`, unless the next word looks like an option)."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg[:1] not in ("-", "+") or len(arg) == 1 or arg == "--":
            return True
        if arg == "--help":
            return False
        for k, letter in enumerate(arg[1:], 1):
            if letter == "o":
                after = args[i + 1] if i + 1 < len(args) else None
                if k + 1 == len(arg) and after is not None and (after[:1] not in ("-", "+") or len(after) == 1):
                    i += 1
                break  # the rest of the word, or the next one, is its argument
            if letter not in _SET_LETTERS:
                return False
        i += 1
    return True


def _marked(chars: Chars) -> str:
    """The text with what only the build knows as `\\0` (the Python's evidence reads that)."""
    text = chars.text
    for source in chars.computed:
        text = text.replace(source, "\0")
    return text


def _syntax_error(found: Findings, script: Mapped, at: int, first_line: int) -> None:
    """Where bash cannot read on: a pin after it that no check could read is refused (a pass
    would be false); otherwise a warning that pins may be missed."""
    line = found.line(at, first_line)
    after = next((i for i, o in enumerate(script.origin) if o >= at), 0)
    pinned = [m.group(0) for m in _PINNED.finditer(script.text, after) if canonicalize_name(m.group(1)) in found.kept]
    if pinned:
        raise found.error(f"shell syntax error (an unclosed quote?): {', '.join(pinned)} after it cannot be "
                          "read; fix this RUN", line)
    found.warn(line, "shell syntax error: pins after this point may be missed")


def _scripts(ins: Instruction, args: Mapped) -> list[Script]:
    """The shell scripts of a RUN in shell form: its line (with the heredocs it feeds, after
    it), or the heredocs themselves when the RUN is one (`RUN <<EOF`), not those of another
    interpreter (`#!/usr/bin/env python3`)."""
    if ins.heredocs and args.text.lstrip().startswith("<<"):
        return [(h.body, UNSET, None, None) for h in ins.heredocs if not _foreign_shebang(h.body.text)]
    if ins.heredocs:
        parts = [args, Mapped("\n", (NOWHERE,))]
        for h in ins.heredocs:
            parts.extend((h.body, Mapped(h.name + "\n", (NOWHERE,) * (len(h.name) + 1))))
        return [(Mapped.join(parts), UNSET, None, None)]
    return [(args, UNSET, None, None)]


class RunReader:
    def __init__(self, found: Findings, state: StageState, ins: Instruction, escape: str,
                 stage: int, image: str) -> None:
        self.found = found
        self.state = state
        self.ins = ins
        self.escape = escape
        self.stage = stage
        self.image = image
        self.python = RunPython(state, found, ins.line)
        self.cwd = state.workdir
        self.started: set[object] = set()  # the `COPY <<EOF` scripts read, each with what it started with

    def read(self) -> None:
        ins, state = self.ins, self.state
        mounts = mount_placements(ins, self.escape, state.scope, state.workdir)
        state.placements.extend(mounts)
        args = ins.args[run_flags_end(ins.args):]
        exec_words = parse_exec_form(args)
        scripts = self.command(tuple(exec_words), (), exec_form=True) if exec_words is not None \
            else _scripts(ins, args)
        read = 0  # the steps read in this RUN's scripts: loops of shells multiply them
        while scripts:
            script, active, inherited, cwd = scripts.pop(0)
            if cwd is not None:
                self.cwd = cwd
            if not _RELEVANT.search(script.text) and not self._names_placed(script.text):
                continue
            if "deadsnakes" in script.text:
                state.deadsnakes = True
            if active is not UNSET:
                self.python.active = active
            parsed = parse_script(script)
            read += len(parsed.steps)
            if read > _MOST_RUN_STEPS:
                self.found.warn(ins.line, "the shells this RUN starts in loops make more steps than the walk reads "
                                f"({_MOST_RUN_STEPS:,}): pins in the rest are not read")
                break
            if parsed.syntax_error_at is not None and _MAY_PIN.search(script.text):
                _syntax_error(self.found, script, parsed.syntax_error_at, ins.line)
            local = self.python.local
            outer = self.python.saved()
            if inherited is not None:  # a new shell: only its environment, options off
                self.python.restore((inherited, set(inherited), False, self.python.active))
            # in the script's order: `V=0.4.1 && pip install jax==$V && V=0.4.2` installs 0.4.1
            shells: list[tuple[Saved, str]] = []  # the open subshells: what each opened with
            for step in parsed.steps:
                if isinstance(step, Subshell):
                    if step.opens:
                        shells.append((self.python.saved(), self.cwd))
                    elif shells:
                        saved, self.cwd = shells.pop()
                        self.python.restore(saved)
                elif isinstance(step, Assignment):
                    if step.value is not None:
                        local[step.name] = (expand(step.value, state.scope, local),
                                            via(step.value, state.scope, local))
                        self._pins_unread(step.value, "in an array, which is not read")
                    # a variable of the environment (ENV, ARG) stays in it when assigned
                    if step.exported or self.python.allexport or state.scope.lookup(step.name) is not None:
                        self.python.exported.add(step.name)
                else:
                    if step.heredoc_in and self._writes_file(step.words, step.stdin, step.stdout, step.appends):
                        continue
                    scripts.extend(self.command(step.words, step.env, maybe=step.maybe, stdin=step.stdin,
                                                stdin_file=step.stdin_file))
            if inherited is not None:  # what the inner shell set does not reach the outer one
                self.python.restore(outer)

    def command(self, words: tuple[Word, ...], env: tuple[tuple[str, Word], ...],
                exec_form: bool = False, maybe: bool = False, stdin: Word | None = None,
                stdin_file: Word | None = None) -> list[Script]:
        """Read one simple command; the scripts of `sh -c` to read after it, each with the
        environment it runs in (`conda run -n app bash -c '...'`)."""
        if not words:
            return []
        scope, local = self.state.scope, self.python.local
        first = fields(words[0], scope, local)
        if first and not _interesting(basename(_marked(first[0]))):
            self._computed_name(first[0], words[1:])
            if basename(_marked(first[0])) in ("cp", "mv", "install"):
                self._copies(_marked(first[0]), words[1:])
                return []
            if "/" in _marked(first[0]):  # `./install.sh`, `/tmp/setup`
                return self._runs(_marked(first[0]), self.python.at(word_offset(words[0])), False)
            found = self._on_path(_marked(first[0]))  # `setup-jax`, written to /usr/local/bin
            return self._runs(found, self.python.at(word_offset(words[0])), False) if found else []
        # each word as the words the shell splits it into, beside the word it came from
        split = [(words[0], c) for c in first] + [(w, c) for w in words[1:] for c in fields(w, scope, local)]
        if not split or not _interesting(basename(_marked(split[0][1]))):  # `$EMPTY pip ...`: the next word
            if split:
                self._computed_name(split[0][1], tuple(w for w, _ in split[1:]))
            return []
        words = tuple(w for w, _ in split)
        chars = [c for _, c in split]
        texts = [_marked(c) for c in chars]
        head = unwrap(texts)
        at = head.at
        if at >= len(words):
            return []
        name = basename(texts[at])
        ctx = self.python
        if name in _MISREAD:
            # `time for V in a; do pip ...; done`, `! { pip ...; }`: the grammar reads the loop, the
            # branch or the group as plain commands (`time for V in a`, `do pip ...`); what bash
            # runs there is not read: a pin in it is said, and the loop's variable is the build's
            written = " ".join(word_text(w) for w in words[at:])
            if _MAY_PIN.search(written):  # the pin may be in a loop's words or a variable
                self.found.warn(ctx.at(word_offset(words[at])), f"`{written}`: in a loop, branch or group after "
                                "`time` or `!`, which is not read; a pin in it is left alone")
            if name in ("for", "select") and len(texts) > at + 1:
                variable = texts[at + 1]
                unknown = (Computed("${" + variable + "}", word_offset(words[at + 1])),)
                self.python.local[variable] = (expand(unknown, scope, local), ())
            return []
        if name == "eval":
            # what eval runs is not read (`eval "$(pyenv init -)"` is common and harmless): a
            # pin in its words is said, and a cd there leaves the folder to the build
            script = " ".join(texts[at + 1:])
            self._say_pins(script, ctx.at(word_offset(words[at])), "in the script `eval` runs, which is not read")
            if _EVAL_CD.search(script):
                self.cwd = UNKNOWN_FOLDER
            return []
        if name in ("cd", "pushd", "popd") and not _in_this_shell(texts, at):
            return []  # `sudo cd /app`, `env cd /app`: a program of that name, elsewhere, or none
        if name in ("cd", "pushd", "popd"):
            # where the commands after it run: the build's to know when the cd may not run, or
            # goes where only the build knows (`$(mktemp -d)`, $HOME, `-`, back with popd)
            target = texts[at + 1] if len(texts) > at + 1 and name != "popd" else ""
            # a variable no ENV, ARG or assignment defines (`cd $HOME`) is the build's too
            undefined = len(chars) > at + 1 and bool(chars[at + 1].undefined)
            many = len(texts) > at + 2  # `cd /a /b`: bash refuses it and stays, dash goes to /a
            # with CDPATH set, `cd sub` goes to the first of its folders that holds a `sub`
            searched = name != "popd" and not target.startswith(("/", "./", "../")) and \
                target not in (".", "..") and self._cdpath()
            if maybe or not target or target.startswith(("-", "~")) or "\0" in target or undefined or many \
                    or searched:
                self.cwd = UNKNOWN_FOLDER
            else:
                self.cwd = within(target, self.cwd)
            return []
        if name in ("set", "unset") and at == 0:
            _shell_builtin(ctx, name, texts[1:])
            return []
        if head.conda is not None:
            saved = ctx.active
            tool, a, b = head.conda
            ctx.active = self.state.conda_target(texts[a:b], f"{tool} run", ctx.at(word_offset(words[0])))
            try:
                return self._command(words, chars, texts, head, name, env, exec_form, stdin, stdin_file)
            finally:
                ctx.active = saved
        return self._command(words, chars, texts, head, name, env, exec_form, stdin, stdin_file)

    def _computed_name(self, name: Chars, args: tuple[Word, ...]) -> None:
        """`$(echo pip) install jax==0.4.30`: what runs is the build's to know, so its arguments
        are not read; a pin among them is said, not passed over in silence."""
        if "\0" not in _marked(name):
            return  # a command of its own (apt-get, curl...), nothing of pip's
        scope, local = self.state.scope, self.python.local
        source = name.computed[0] if name.computed else name.text
        for word in args:
            for arg in fields(word, scope, local):
                self._say_pins(arg.text, self.python.at(word_offset(word)),
                               f"an argument of `{source}`, a command computed at build time, is not read")

    def _command(self, words: tuple[Word, ...], chars: list[Chars], texts: list[str], head: Head,
                 name: str, env: tuple[tuple[str, Word], ...],
                 exec_form: bool, stdin: Word | None = None, stdin_file: Word | None = None) -> list[Script]:
        at = head.at
        scope, local = self.state.scope, self.python.local
        offsets = [word_offset(w) for w in words[at:]]
        vias = [via(w, scope, local) if any(isinstance(p, Var) for p in w) else () for w in words[at:]]
        expanded = Words(texts[at:], vias, offsets)
        cwd = self._folder(chars, texts, head)
        if name in SHELLS:
            i = dash_c(texts, at)
            if i is not None:
                script = chars[i]  # as this shell passes it: `sh -c "pip install jax==$V"` gets V's value
                said, where = f"the script of `{name} -c`", offsets[i - at]
                # `sh -c 'pip install $1' _ jax==0.4.30`: what the script reads as $0, $1... is not followed
                for j in range(i + 1, len(texts)) if _READS_ARGUMENTS.search(script.text) else ():
                    self._say_pins(texts[j], self.python.at(offsets[j - at]),
                                   f"an argument of `{name} -c` (its script's $0, $1...) is not read")
            elif stdin is not None and head.xargs is None and reads_stdin(texts, at):  # `bash <<EOF`
                script = expand(stdin, scope, local)
                said, where = f"the script `{name}` reads on its standard input", offsets[0]
            elif stdin_file is not None and head.xargs is None and reads_stdin(texts, at):  # `bash < /x.sh`
                path = expand(stdin_file, scope, local)
                return self._runs(path.text if known(path) else "", self.python.at(offsets[0]), False, env,
                                  self._wrapper_env(chars, texts, head))
            else:
                file = script_file(texts, at)  # `bash /tmp/install.sh`
                if file is None:
                    return []
                return self._runs(texts[file], self.python.at(offsets[file - at]), False, env,
                                  self._wrapper_env(chars, texts, head))
            if not known(script):
                if _MAY_PIN.search(script.text):  # not a silent pass: what it installs is unread
                    self.found.warn(self.python.at(where), f"{said} is computed at build time: pins in it "
                                    "are not read")
                return []
            # its environment as it is here (its script is read after this one's end): the
            # exported variables and `X=v sh -c '...'`; not the others
            inner = {n: b for n, b in local.items() if n in self.python.exported}
            inner.update(self._own_env(env))
            inner.pop("IFS", None)  # bash and dash start with their own, whatever the environment says
            return [(Mapped(script.text, script.origin), self.python.active, inner, cwd)]
        call = pip_call(texts, at)
        if call is not None:
            given = {}
            for (n, w), (_, (value, _)) in zip(env, self._own_env(env)):  # `PIP_CONSTRAINT=/c.txt pip install ...`
                given[n] = (value, f"{n}={value.text} at line {self.python.at(word_offset(w))}")
            for n, (value, set_at) in self._wrapper_env(chars, texts, head, self.python.at(offsets[0])):
                given[n] = (value, set_at[0])
            cmd = Invocation(words, chars, texts, expanded, head, given, cwd, exec_form)
            pip_command(self.python, cmd, call, self.stage, self.image)
            return []
        if name == "git":
            found = git_clone(texts, at)
            if found is not None:
                i, skip, url = found
                line = self.found.line(word_offset(words[i]), self.ins.line)
                clone(self.found, chars[i][skip:], url, line, self.stage, self.image)
            return []
        if name in CONDA and len(texts) > at + 1 and texts[at + 1] in ("install", "create"):
            self._conda_pins(words, texts, at, name)
        scripts: list[Script] = []
        if name in (".", "source") and len(texts) > at + 1:
            scripts = self._runs(texts[at + 1], self.python.at(offsets[1]), True)
        elif "/" in texts[at] and not _PIP_OR_PYTHON.fullmatch(name):  # `sudo ./install.sh`
            scripts = self._runs(texts[at], self.python.at(offsets[0]), False, env,
                                 self._wrapper_env(chars, texts, head))
        elif not _PIP_OR_PYTHON.fullmatch(name) and (on_path := self._on_path(texts[at])):  # `env setup-jax`
            scripts = self._runs(on_path, self.python.at(offsets[0]), False, env, self._wrapper_env(chars, texts, head))
        setup_command(self.python, expanded)
        return scripts

    def _copies(self, command: str, args: tuple[Word, ...]) -> None:
        """`cp /x.sh /usr/local/bin/x`, `mv`, `install -m 755 ...`: a file the walk placed (a
        heredoc's, or the context's) is then at the new path too. One source and a destination,
        plain options only; anything else leaves the new path unknown, as before."""
        scope, local = self.state.scope, self.python.local
        chars = [c for w in args for c in fields(w, scope, local)]
        if not chars or not all(known(c) for c in chars):
            return
        texts, named, i = [_marked(c) for c in chars], [], 0
        while i < len(texts):
            if texts[i] in ("-m", "--mode", "-o", "--owner", "-g", "--group"):  # install's, with a value
                i += 1
            elif texts[i].startswith("-t") or texts[i].startswith("--target") or texts[i] == "-S":
                return  # the folder first, or a suffix: not followed
            elif not texts[i].startswith("-"):
                named.append(texts[i])
            i += 1
        if len(named) != 2:
            return
        line = self.python.at(word_offset(args[0]))
        source, dest = within(named[0], self.cwd), within(named[1], self.cwd)
        found = placement(self.state.placements, source, line) if UNKNOWN_FOLDER not in (source, dest) else None
        if found is None or found[0].folder and found[1] is None:
            return
        placed, from_context = found
        if placed.folder:  # one file of a folder the context gave
            placed = Placement(source, from_context, False, line, placed.how)
        if named[1].endswith("/") or any(p.folder and p.dest.rstrip("/") == dest.rstrip("/")
                                         for p in self.state.placements):
            dest = posixpath.join(dest, posixpath.basename(source))
        if placed.heredoc and (placed.line, placed.heredoc) in self.state.heredocs:
            self.state.heredocs[(line, placed.heredoc)] = self.state.heredocs[(placed.line, placed.heredoc)]
        self.state.placements.append(placed._replace(dest=dest, source=from_context, line=line,
                                                     until=FROM_HERE_ON,
                                                     how=f"{command} of {source} at line {self.ins.line}"))

    def _on_path(self, name: str) -> str:
        """The file a command of that name runs, where the stage put one in a folder of PATH (its
        ENV's folders first, then the image's usual ones); "" for any other."""
        folders = (*self.state.path, *_IMAGE_PATH)
        placed = {posixpath.dirname(p.dest) for p in self.state.placements
                  if not p.folder and posixpath.basename(p.dest) == name}
        return next((posixpath.join(f, name) for f in folders if f in placed), "")

    def _names_placed(self, text: str) -> bool:
        """Whether the script names a file or folder the stage put in place (`FOO=1 bin/setup`
        runs a script the context gave): such a script is read for the files it runs."""
        names = {posixpath.basename(p.dest.rstrip("/")) for p in self.state.placements}
        return any(name and name in text for name in names)

    def _the_builds(self, name: str) -> Bound:
        """A value only the build knows, for a variable set where the walk does not follow."""
        return expand((Computed("${" + name + "}", NOWHERE),), self.state.scope, {}), ()

    def _wrapper_env(self, chars: list[Chars], texts: list[str], head: Head,
                     line: int | None = None) -> tuple[tuple[str, Bound], ...]:
        """The variables `env NAME=value` or `sudo NAME=value` give the command they run."""
        out = []
        for i in head.assigns:
            n = texts[i].partition("=")[0]
            out.append((n, (chars[i][len(n) + 1:], (f"{texts[i]} at line {line or self.ins.line}",))))
        return tuple(out)

    def _runs(self, path: str, line: int, sourced: bool, env: tuple[tuple[str, Word], ...] = (),
              assigned: tuple[tuple[str, Bound], ...] = ()) -> list[Script]:
        """A script file run here. One a `COPY <<EOF` wrote is read as the build runs it (its
        text is this file's): with the variables exported here, or all of them when sourced.
        One the build context puts there is kept, for its pins to be said; a file of the
        image's own, or one the build computes, is neither."""
        where = within(path, self.cwd) if path and "\0" not in path else UNKNOWN_FOLDER
        found = placement(self.state.placements, where, line) if where != UNKNOWN_FOLDER else None
        if found is None:
            return []
        placed, source = found
        if source is not None:
            self.state.scripts.append(ScriptRun(where, line, source))
            if not placed.folder:
                return []
            # `COPY . /app` over a file the build wrote there: only the context knows whether it
            # holds one, so the one written before is read too
            below = self.state.placements[:max(i for i, p in enumerate(self.state.placements) if p is placed)]
            earlier = placement(below, where, line)
            if earlier is None or earlier[1] is not None:
                return []
            placed = earlier[0]
        written = self.state.heredocs.get((placed.line, placed.heredoc)) if placed.heredoc else None
        if written is None or _foreign_shebang(written[0].text):
            return []
        body, fixed = written
        local = self.python.local
        if sourced:  # what it sets stays set here: read after this script, its values are the build's
            for name in _ASSIGNED.findall(body.text):
                self.python.local[name] = self._the_builds(name)
        inner = dict(local) if sourced else {n: b for n, b in local.items() if n in self.python.exported}
        inner.update(self._own_env(env))
        inner.update(assigned)
        if fixed is not None:  # what BuildKit could not put in when it copied the file, as it stood there
            inner.update(fixed)
        if not sourced:
            inner.pop("IFS", None)
        # once per start: a script that runs itself (which the build would never finish) is read once
        key = (placed.line, placed.heredoc, frozenset(inner.items()), self.cwd, self.python.active)
        if key in self.started:
            return []
        self.started.add(key)
        return [(Mapped(body.text, body.origin), self.python.active, inner, self.cwd)]

    def _writes_file(self, words: tuple[Word, ...], stdin: Word | None, stdout: Word | None,
                     appends: bool) -> bool:
        """`cat <<EOF > /x.sh` (`>>`, `cat -`, `tee /x.sh <<EOF`): the heredoc becomes the file as
        the shell writes it, for a later `bash /x.sh` (this RUN's or another's) to read as a
        copied one is read; appended, after what the walk knows the file held. A text with
        values only the build knows, a path only the build knows, or a heredoc another command
        changes on its way to a file (`sed ... <<EOF > /x.sh`) is not placed: its pins are said.
        False for any other command."""
        scope, local = self.state.scope, self.python.local
        texts = [_marked(c) for w in words for c in fields(w, scope, local)]
        name = basename(texts[0]) if texts else ""
        line = self.python.at(word_offset(words[0]))
        body = expand(stdin or (), scope, local)
        if name == "cat" and texts[1:] in ([], ["-"]) and stdout is not None:
            targets = [expand(stdout, scope, local)]
        elif name == "tee" and (files := _tee_files(texts[1:])) is not None:
            appends, kept = files
            targets = [c for w in words[1:] for c in fields(w, scope, local) if _marked(c) in kept]
            targets += [expand(stdout, scope, local)] if stdout is not None else []
        else:
            if stdout is not None:
                self._say_written(body, line, f"a file `{name}` writes from a heredoc, which is not read")
            return False
        if not known(body):
            self._say_written(body, line, "a file this RUN writes from values only the build knows, which is not read")
            return True
        for target in targets:
            path = within(target.text, self.cwd) if known(target) else UNKNOWN_FOLDER
            if path == UNKNOWN_FOLDER:
                self._say_written(body, line, "a file this RUN writes where only the build knows, which is not read")
                continue
            text = Mapped(body.text, body.origin)
            before = placement(self.state.placements, path, line) if appends else None
            held = self.state.heredocs.get((before[0].line, before[0].heredoc)) if before else None
            fixed = None
            if held is not None:
                text, fixed = Mapped.join([held[0], text]), held[1]
            elif appends:  # after a text the walk does not know, which may set what this part reads
                fixed = {name: self._the_builds(name) for name in _REFERENCED.findall(body.text)}
            # numbered, not by offset: the scan cache moves a kept scan by a sync's edits
            key = f"written {sum(k[1].startswith('written ') for k in self.state.heredocs) + 1}"
            self.state.placements.append(Placement(path, None, False, line, f"written by the RUN at line "
                                                   f"{self.ins.line}", until=FROM_HERE_ON, heredoc=key))
            self.state.heredocs[(line, key)] = (text, fixed)
        return True

    def _say_written(self, body: Chars, line: int, where: str) -> None:
        for m in NAMED_PIN.finditer(body.text):  # any version: `sed` may put it in (`jax==@V@`)
            if canonicalize_name(m.group(1)) in self.found.kept:
                self.found.warn(line, f"{m.group(1)}: pinned in {where}; left alone")

    def _pins_unread(self, word: Word, where: str) -> None:
        """A kept pin in an array (`A=(jax==0.4.30)`): what `${A[@]}` passes is not followed,
        so the pin is said, not passed over."""
        for piece in word:
            if isinstance(piece, Computed) and piece.source.startswith("("):
                self._say_pins(piece.source[1:].removesuffix(")"), self.python.at(piece.offset), where)

    def _say_pins(self, text: str, line: int, where: str) -> None:
        """Each kept pin in words the walk does not follow, warned about at `line`."""
        for m in _PINNED.finditer(text):
            if canonicalize_name(m.group(1)) in self.found.kept:
                self.found.warn(line, f"{m.group(0)}: {where}, left alone")

    def _cdpath(self) -> bool:
        """Whether CDPATH (the RUN's, or an ENV or ARG) is set and not empty, or only the build knows."""
        local = self.python.local
        bound = local["CDPATH"] if "CDPATH" in local else self.state.scope.lookup("CDPATH")
        return bound is not None and bound is not UNSET_BOUND and (bool(bound[0].text) or not known(bound[0]))

    def _folder(self, chars: list[Chars], texts: list[str], head: Head) -> str:
        """The folder a command runs in: the shell's, or the one `env -C DIR`, `sudo -D DIR`,
        `conda run --cwd DIR` or `uv --directory DIR` give it (relative to the shell's)."""
        folders = list(head.chdir)
        if basename(texts[head.at]) == "uv":  # a global option, before `pip` or after it
            for k in range(head.at + 1, len(texts)):
                given = option_value(texts, k, "--directory")
                if given is not None:
                    folders.append(given)
        cwd = self.cwd
        for i, skip in folders:
            folder = chars[i][skip:] if i >= 0 else None  # None: `sudo -i`'s home
            if folder is None or not known(folder) or folder.text.startswith("~") or not folder.text:
                cwd = UNKNOWN_FOLDER
            else:
                cwd = within(folder.text, cwd)
        return cwd

    def _own_env(self, env: tuple[tuple[str, Word], ...]) -> list[tuple[str, Bound]]:
        """A command's own `NAME=value` words, each read with those before it set: bash gives
        `V=1 W=$V cmd` a W of 1, whatever V was before."""
        scope, local = self.state.scope, dict(self.python.local)
        out = []
        for n, w in env:
            local[n] = (expand(w, scope, local), via(w, scope, local))
            out.append((n, local[n]))
        return out

    def _conda_pins(self, words: tuple[Word, ...], texts: list[str], at: int, tool: str) -> None:
        """`mamba install "jax==0.4.23" "jaxlib==0.4.23=*cuda*"`: kept packages conda installs
        are not rewritten (a conda spec is not pip's), so each is said at its line, as a copied
        environment.yml is."""
        j = at + 2
        while j < len(texts):
            t = texts[j]
            if t in _CONDA_VALUED:
                j += 2
                continue
            spec = t.rpartition("::")[2]  # `conda-forge::jax==0.4.23`
            name = None if t.startswith("-") else kept_name(self.found, spec)
            named = NAME_PREFIX.match(spec)
            if name is not None and named and re.search(r"\d", spec[named.end():]):  # not `jaxlib=*=cuda*`
                self.found.warn(self.found.line(word_offset(words[j]), self.ins.line),
                                f"{t}: the version is set by `{tool} {texts[at + 1]}` (a conda spec, not pip's), "
                                "which the tool does not rewrite; update it by hand, or install it with pip")
            j += 1


# conda / mamba / micromamba install options that take a value
_CONDA_VALUED = frozenset({"-c", "--channel", "-n", "--name", "-p", "--prefix", "--file",
                           "-r", "--root-prefix", "--platform", "--subdir"})


def _tee_files(args: list[str]) -> tuple[bool, set[str]] | None:
    """What `tee ARGS` writes to: whether it appends, and its files; None for an option the walk
    does not know."""
    appends, files, options = False, set(), True
    for a in args:
        if options and a == "--":
            options = False
        elif options and a in ("-a", "--append"):
            appends = True
        elif options and a in ("-i", "--ignore-interrupts", "-p"):
            continue
        elif options and a.startswith("-") and a != "-":
            return None
        else:
            files.add(a)
    return appends, files


# the folders of PATH in the official python, ubuntu and debian images, and most others
_IMAGE_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


def _foreign_shebang(body: str) -> bool:
    if not body.startswith("#!"):
        return False
    return not _SHEBANG_SHELL.search(body.split("\n", 1)[0])
