"""What a Dockerfile pins, and where each version's characters sit in the file.

A pin's version may be written in the RUN itself (`jax==0.2.13`) or reach it through ENV and
ARG variables (`jaxlib==${JAXLIB_VERSION}+cuda${JAXLIB_CUDA}`); either way each of its characters
is traced to its file offset, so the plan can rewrite the definition rather than the use.

This module walks the stages and the forms of RUN; what is found is found by the modules of
`release_hook.find`, one per kind: requirements, source references, jaxlib wheel URLs, and the
ENV/ARG scopes they expand through.
"""
from __future__ import annotations

import gc
import re
from typing import Iterable

from release_hook.dockerfile import Dockerfile, Instruction, run_flags_end
from release_hook.find.found import Found
from release_hook.found import Chars, Note, Pin, Scan
from release_hook.find.requirements import kept_name, requirement, xargs_computed
from release_hook.find.scopes import Scope, define, expand
from release_hook.find.sources import clone
from release_hook.shell import Command, find_commands, parse_exec_form, parse_script
from release_hook.spans import NOWHERE, Mapped, Word, line_of, word_offset, word_text


__all__ = ["JAX_PACKAGES", "Chars", "Note", "Pin", "Scan", "find_pins", "line_of"]

JAX_PACKAGES = ("jax", "jaxlib", "jax-cuda12-plugin", "jax-cuda12-pjrt", "jax-cuda13-plugin",
                "jax-cuda13-pjrt")


class _Finder:
    def __init__(self, df: Dockerfile, package: str, kept: Iterable[str]) -> None:
        self.df = df
        self.found = Found.of(df, package, kept)

    def run(self) -> Scan:
        df = self.df
        global_scope = Scope()
        for ins in df.global_args:
            define(ins, df.escape, df.path, global_scope, global_scope)
        finals: dict[str, Scope] = {}
        images: list[str] = []
        roots: dict[str, str] = {}
        for stage in df.stages:
            image = expand(stage.image, global_scope).text
            parent = finals.get(image.lower())
            scope = Scope(env=dict(parent.env) if parent else {})
            root = roots.get(image.lower(), image)
            images.append(root)
            for ins in stage.instructions:
                if ins.keyword in ("ENV", "ARG"):
                    define(ins, df.escape, df.path, scope, global_scope)
                elif ins.keyword == "RUN":
                    self.read_run(ins, scope, stage.index, root)
            if stage.name:
                finals[stage.name] = scope
                roots[stage.name] = root
            finals[str(stage.index)] = scope
        found = self.found
        found.pins.sort(key=lambda p: p.line)
        return Scan(df.path, df.text, tuple(found.pins), tuple(found.mentions), tuple(found.warnings),
                    tuple(images))

    def read_run(self, ins: Instruction, scope: Scope, stage: int, image: str) -> None:
        found = self.found
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
                found.warn(found.line(script.syntax_error_at, ins),
                           "shell syntax error: pins after this point may be missed")
            local = {name: expand(value, scope) for name, value in script.assignments}
            pips, clones, nested = find_commands(script.commands)
            scripts.extend(nested)
            for pip in pips:
                if pip.via_xargs:
                    found.warn(found.line(pip.offset, ins), f"{pip.tool} run by xargs: requirements "
                               "read from standard input are computed at build time, left alone")
                addresses = tuple((opt, expand(w, scope, local)) for opt, w in pip.addresses)
                for word in pip.requirements:
                    if pip.replace and pip.replace in word_text(word):
                        word = xargs_computed(word, pip.replace)
                    requirement(found, word, found.line(word_offset(word), ins), scope, local, stage,
                                image, addresses)
            for c in clones:
                line = found.line(word_offset(c.branch), ins) if c.branch is not None else ins.line
                clone(found, c.branch, c.url, line, scope, local, stage, image)

    def read_commands_from_exec(self, ins: Instruction, words: list[Word], scope: Scope,
                                stage: int, image: str) -> None:
        found = self.found
        pips, _, _ = find_commands((Command(tuple(words), word_offset(words[0])),))
        for pip in pips:
            for word in pip.requirements:
                text = word_text(word)
                if "$" in text and kept_name(found, text):
                    raise found.error(f"exec form does not expand variables: {text!r}", ins.line)
                requirement(found, word, found.line(word_offset(word), ins), scope, {}, stage, image, ())


def _foreign_shebang(body: str) -> bool:
    if not body.startswith("#!"):
        return False
    first = body.split("\n", 1)[0]
    return not re.search(r"\b(sh|bash|dash|ash|zsh)\b", first)


def find_pins(df: Dockerfile, package: str, kept: Iterable[str] = JAX_PACKAGES) -> Scan:
    # A scan makes many small objects and no reference cycles: the cycle collector would walk
    # them again and again and free nothing (a quarter of the CPU time of a 60,000-pin file).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _Finder(df, package, kept).run()
    finally:
        if enabled:
            gc.enable()
