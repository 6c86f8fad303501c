"""The one walk of a Dockerfile: stages, ENV/ARG scopes, WORKDIR, COPY/ADD, SHELL and RUN,
read once into a `Scan` that holds both the kept pins (with their characters' spans) and what
each stage says of its Python, its platform and every pip install it runs.

Nothing is run and nothing else is read: the Dockerfile's text is all there is. The base
image's own Python is not decided here (that is `resolve/image.py`'s table).
"""
from __future__ import annotations

import gc
import re
from typing import Iterable

from release_hook.dockerfile import Dockerfile, Instruction, Stage, split_words
from release_hook.found import JAX_PACKAGES, Evidence, PipInstall, Scan, StageFacts
from release_hook.shell import parse_exec_form
from release_hook.spans import Lit, Var
from release_hook.walk.commands import unwrap
from release_hook.walk.files import absolute, copy_placements
from release_hook.walk.findings import Findings
from release_hook.walk.run import RunReader
from release_hook.walk.scopes import Scope, as_buildkit_copies, define, expand, known, via
from release_hook.walk.state import UNSET, Install, StageState

# Variables that BuildKit sets for each build: their value is the build's, never the file's.
BUILD_PLATFORM_VARS = frozenset({"BUILDPLATFORM", "TARGETPLATFORM", "BUILDOS", "BUILDARCH",
                                 "TARGETOS", "TARGETARCH", "TARGETVARIANT", "BUILDVARIANT"})


def walk(df: Dockerfile, package: str, kept: Iterable[str] = JAX_PACKAGES) -> Scan:
    """Everything the file says that the tool keeps or needs, in one pass."""
    # A walk makes many small objects and no reference cycles: the cycle collector would walk
    # them again and again and free nothing (a quarter of the CPU time of a 60,000-pin file).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _Walker(df, package, kept).run()
    finally:
        if enabled:
            gc.enable()


class _Walker:
    def __init__(self, df: Dockerfile, package: str, kept: Iterable[str]) -> None:
        self.df = df
        self.found = Findings(df.path, df.text, package, kept)

    def run(self) -> Scan:
        df, found = self.df, self.found
        global_scope = Scope()
        for ins in df.global_args:
            define(ins, df.escape, df.path, global_scope, global_scope)
        finals: dict[str, tuple[int, StageState]] = {}
        roots: dict[str, str] = {}
        images: list[str] = []
        stages: list[tuple[int, int | None, Evidence | None, StageState]] = []
        for stage in df.stages:
            image = expand(stage.image, global_scope).text
            parent = finals.get(image.lower())
            state = parent[1].child() if parent else StageState(Scope())
            root = roots.get(image.lower(), image)
            images.append(root)
            platform = _platform(stage, df.escape, global_scope)
            if platform is None and parent is not None:
                platform = stages[parent[0]][2]
            for ins in stage.instructions:
                self.instruction(ins, state, global_scope, finals, stage.number, root)
            stages.append((stage.from_.line, parent[0] if parent else None, platform, state))
            finals[str(stage.number)] = (stage.number, state)
            if stage.name:
                finals[stage.name] = (stage.number, state)
                roots[stage.name] = root
        found.pins.sort(key=lambda p: p.line)
        index = {id(p): i for i, p in enumerate(found.pins)}
        facts = tuple(StageFacts(line, parent, platform, tuple(_pip_install(r, index) for r in state.pips),
                                 tuple(state.installs), state.bare("python"), tuple(state.placements),
                                 tuple(dict.fromkeys(state.scripts)))
                      for line, parent, platform, state in stages)
        return Scan(df.path, df.text, tuple(found.pins), tuple(found.mentions), tuple(found.warnings),
                    tuple(images), facts)

    def instruction(self, ins: Instruction, state: StageState, global_scope: Scope,
                    finals: dict[str, tuple[int, StageState]], stage: int, root: str) -> None:
        df = self.df
        keyword = ins.keyword
        if keyword == "RUN":
            RunReader(self.found, state, ins, df.escape, stage, root).read()
        elif keyword in ("ENV", "ARG"):
            for name in define(ins, df.escape, df.path, state.scope, global_scope):
                if keyword == "ENV" and name in ("PATH", "PYENV_VERSION"):
                    value = state.scope.env[name][0]
                    state.env_changed(name, value.text, ins.line)
        elif keyword in ("COPY", "ADD"):
            state.placements.extend(copy_placements(ins, df.escape, state.scope, state.workdir))
            for h in ins.heredocs:  # an unquoted delimiter: BuildKit puts the ENV and ARG values in
                quoted = re.search(r"<<-?(['\"])" + re.escape(h.name) + r"\1", ins.args.text)
                state.heredocs[(ins.line, h.name)] = (h.body, None) if quoted else \
                    as_buildkit_copies(h.body, state.scope)
            if keyword == "COPY" and "--from" in ins.args.text:
                _copied_venv(ins, df.escape, state, finals)
        elif keyword == "WORKDIR":
            words = split_words(ins.args, df.escape)
            if words:
                state.workdir = absolute(expand(words[0], state.scope).text, state.workdir)
        elif keyword == "SHELL":
            shell = parse_exec_form(ins.args)
            if shell:
                texts = [expand(w, state.scope).text for w in shell]
                head = unwrap(texts)
                if head.conda is not None and head.conda[1] == 2:
                    tool, a, b = head.conda
                    state.shell = state.conda_target(texts[a:b], f"SHELL {' '.join(texts[:4])}", ins.line)
                else:
                    state.shell = UNSET


def _pip_install(r: Install, index: dict[int, int]) -> PipInstall:
    return PipInstall(r.first, r.last, r.python, r.tool, tuple(index[id(p)] for p in r.pins), r.requirements,
                      r.files, r.no_deps, r.options, r.flags)


def _platform(stage: Stage, escape: str, global_scope: Scope) -> Evidence | None:
    """`FROM --platform=...`: "" when the build decides it (`$BUILDPLATFORM`)."""
    for word in split_words(stage.from_.args, escape):
        if not (word and isinstance(word[0], Lit) and word[0].text.startswith("--platform=")):
            continue
        head = word[0].text[len("--platform="):]
        rest = ((Lit(head, word[0].origin[len("--platform="):]),) if head else ()) + word[1:]
        value = expand(rest, global_scope)
        said = "FROM --platform=" + "".join(
            p.text if isinstance(p, Lit) else f"${p.name}" if isinstance(p, Var) else p.source for p in rest)
        by_build = any(isinstance(p, Var) and p.name in BUILD_PLATFORM_VARS for p in rest)
        return Evidence(value.text if known(value) and not by_build else "", said, stage.from_.line,
                        tuple(via(rest, global_scope)))
    return None


def _copied_venv(ins: Instruction, escape: str, state: StageState,
                 finals: dict[str, tuple[int, StageState]]) -> None:
    """`COPY --from=build /opt/venv /opt/venv`: a venv of an earlier stage keeps its Python."""
    words = [expand(w, state.scope).text for w in split_words(ins.args, escape)]
    source = next((w.partition("=")[2].lower() for w in words if w.startswith("--from=")), None)
    paths = [w for w in words if not w.startswith("--")]
    if source not in finals or len(paths) != 2:
        return  # another image's files: what they hold is not in this text
    _, other = finals[source]
    src, dest = paths[0].rstrip("/"), paths[1].rstrip("/")
    if other.known_prefix(src):
        found = other.prefix(src)
        state.envs[dest] = found if found is None else Evidence(found.value, dest, ins.line, made="copy", by=found)
