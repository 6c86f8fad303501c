"""One walk of a Dockerfile: each pip install with the Python that runs it and everything it
installs (kept pins, neighbours, requirements and constraints files, options), and where the
build context puts the files it reads."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES, git

from release_hook.dockerfile import parse
from release_hook.errors import UserError
from release_hook.found import FileArg, PipInstall, Placement, Scan, ScriptRun
from release_hook.scancache import ScanCache
from release_hook.walk import walk
from release_hook.walk.files import place


def scan_text(text: str) -> Scan:
    return walk(parse(text, "Dockerfile"), "numpyro")


def only_install(s: Scan, stage: int = 0) -> PipInstall:
    (install,) = s.stages[stage].pips
    return install


def files(install: PipInstall) -> list[tuple[str, str, str | None, str]]:
    return [(f.option, f.path, f.source, f.why) for f in install.files]


# -- which pip runs, under which Python -----------------------------------------------------------

WRAPPED = ["stdbuf -o L", "stdbuf -oL", "xargs -a /f", "xargs --arg-file=/f", "xargs -i", "xargs -0 -n 1",
           "timeout 600", "timeout -s KILL -k 5 10m", "nice -n 5",
           "nohup", "exec", "command", "time -p", "env PIP_NO_CACHE_DIR=1", "sudo -u root -H", "sudo -E"]


@pytest.mark.parametrize("wrapper", WRAPPED)
def test_a_wrapped_pip_install_is_recorded_with_its_python(wrapper: str) -> None:
    s = scan_text(f"FROM ubuntu:jammy\nRUN {wrapper} python3.11 -m pip install jax==0.4.30 scipy\n")
    assert [(p.line, p.package, p.version) for p in s.pins] == [(2, "jax", "0.4.30")]
    install = only_install(s)
    assert (install.tool, install.pins, install.first, install.last) == ("python3.11 -m pip", (0,), 2, 2)
    assert install.python is not None and install.python.value == "3.11"
    assert install.python.how == "python3.11 -m pip install at line 2"
    assert install.requirements[0].text == "scipy"


def test_xargs_arguments_are_known_only_to_the_build() -> None:
    s = scan_text("FROM ubuntu:jammy\nRUN xargs -a /reqs.txt python3.11 -m pip install\n")
    (req,) = only_install(s).requirements
    assert (req.text, req.computed) == ("", "xargs: arguments read from /reqs.txt")
    assert [str(w) for w in s.warnings] == [
        "Dockerfile:2: python3.11 -m pip run by xargs: requirements read from /reqs.txt are computed at "
        "build time, left alone"]


def test_kept_packages_a_conda_install_pins_are_said_at_their_lines() -> None:
    s = scan_text('FROM condaforge/miniforge3\nRUN CONDA_OVERRIDE_CUDA="12.2" mamba install -y -c jax \\\n'
                  '    python=3.11 "jax==0.4.23" \\\n    "jaxlib==0.4.23=*cuda*" jax-cuda12-plugin numpy=1.26 \\\n'
                  '  && micromamba create -n app conda-forge::numpyro=0.13.2 && conda install -n jax jaxlib\n'
                  'RUN mamba install "jaxlib=*=cuda*" jax\n')
    assert s.pins == ()  # a conda spec is not pip's: nothing is rewritten
    tail = "(a conda spec, not pip's), which the tool does not rewrite; update it by hand, or install it with pip"
    assert [str(w) for w in s.warnings] == [
        f"Dockerfile:3: jax==0.4.23: the version is set by `mamba install` {tail}",
        f"Dockerfile:4: jaxlib==0.4.23=*cuda*: the version is set by `mamba install` {tail}",
        f"Dockerfile:5: conda-forge::numpyro=0.13.2: the version is set by `micromamba create` {tail}",
    ]  # `-c jax`, `-n jax`: a channel and an environment; `jaxlib=*=cuda*`: a build, no version


def test_command_v_runs_nothing() -> None:
    assert scan_text("FROM a\nRUN command -v pip install jax==0.4.1\n").stages[0].pips == ()


CONDA = "FROM continuumio/miniconda3\nRUN conda create -y -n app python=3.11\n"


@pytest.mark.parametrize("run", [
    "conda run -n app pip install jax==0.4.30",
    "conda run -n app python -m pip install jax==0.4.30",
    "conda run --no-capture-output -n app pip install jax==0.4.30",
    "conda run --live-stream --name app python3 -m pip install jax==0.4.30",
    "mamba run -n app pip install jax==0.4.30",
    "micromamba run -n app pip install jax==0.4.30",
    "sudo conda run -n app bash -c 'pip install jax==0.4.30'",
])
def test_pins_under_conda_run_are_found_with_the_environments_python(run: str) -> None:
    s = scan_text(CONDA + f"RUN {run}\n")
    assert [(p.line, p.package, p.version) for p in s.pins] == [(3, "jax", "0.4.30")]
    install = only_install(s)
    assert install.pins == (0,)
    assert install.python is not None and install.python.value == "3.11"
    assert install.python.how == "conda create -n app python=3.11 at line 2"


def test_conda_create_and_run_in_one_run() -> None:
    s = scan_text("FROM continuumio/miniconda3\nRUN conda create -y -n app python=3.10 && \\\n"
                  "    conda run -n app pip install numpyro==0.15.0\n")
    assert [(p.line, p.package) for p in s.pins] == [(3, "numpyro")]
    python = only_install(s).python
    assert python is not None and (python.value, python.line) == ("3.10", 2)


# -- what a pip install installs besides the kept pins --------------------------------------------

def test_neighbours_are_every_other_requirement_expanded() -> None:
    s = scan_text("FROM python:3.12\nARG SCIPY=1.11.4\n"
                  "RUN pip install --no-cache-dir numpyro==0.15.0 scipy==${SCIPY} \\\n"
                  "    'numpy<2; python_version>\"3.9\"' \\\n"
                  "    'tensorflow[and-cuda]>=2.15' 'jax>=0.4' \"foo @ https://example.invalid/foo.whl\" \\\n"
                  "    \"bar==$(cat /v)\" baz==$UNSET -e ./src ./local jaxlib==0.4.30\n")
    install = only_install(s)
    assert [s.pins[i].package for i in install.pins] == ["numpyro", "jaxlib"]
    assert [(r.text, r.line, r.computed) for r in install.requirements] == [
        ("scipy==1.11.4", 3, ""),
        ('numpy<2; python_version>"3.9"', 4, ""),
        ("tensorflow[and-cuda]>=2.15", 5, ""),
        ("jax>=0.4", 5, ""),  # a kept package's range: listed, and part of the install
        ("foo @ https://example.invalid/foo.whl", 5, ""),
        ("bar==$(cat /v)", 6, "$(cat /v)"),
        ("baz==${UNSET}", 6, "${UNSET}"),
        ("./src", 6, ""),
        ("./local", 6, ""),
    ]
    assert [str(m) for m in s.mentions] == ["Dockerfile:5: 'jax>=0.4' is a range: listed, not changed"]


def test_no_deps_index_options_and_flags() -> None:
    s = scan_text("FROM python:3.12\nARG LINKS=https://example.invalid/jax_releases.html\n"
                  "RUN pip install --no-deps -qU --pre --only-binary :all: --prefer-binary -f $LINKS "
                  "--index-url=https://example.invalid/simple --no-cache-dir jax==0.4.30 \\\n"
                  " && uv pip install --system --index-strategy first-index --extra-index-url https://x.invalid "
                  "jaxlib==0.4.30\n")
    pip, uv = s.stages[0].pips
    assert (pip.no_deps, pip.tool, uv.no_deps, uv.tool) == (True, "pip", False, "uv pip")
    assert pip.flags == ("-U", "--pre", "--only-binary :all:", "--prefer-binary")
    assert [(o, c.text) for o, c in pip.options] == [
        ("-f", "https://example.invalid/jax_releases.html"), ("--index-url", "https://example.invalid/simple")]
    assert pip.options == s.pins[0].addresses  # the same values as the pin's
    assert uv.flags == ("--system", "--index-strategy first-index")
    assert [(o, c.text) for o, c in uv.options] == [("--extra-index-url", "https://x.invalid")]


def test_index_options_pip_takes_from_its_environment() -> None:
    """PIP_FIND_LINKS and PIP_EXTRA_INDEX_URL add to the command's own; its -i replaces
    PIP_INDEX_URL; a variable pip is not given (not exported) and uv's commands take none."""
    s = scan_text("FROM python:3.12\nENV PIP_FIND_LINKS='https://a.invalid/jax_cuda_releases.html  /wheels' "
                  "PIP_INDEX_URL=https://b.invalid/simple\n"
                  "RUN PIP_EXTRA_INDEX_URL=https://c.invalid pip install -f /more jax==0.4.30 \\\n"
                  " && pip install -i https://d.invalid/simple jaxlib==0.4.30 \\\n"
                  " && LOCAL=https://e.invalid; PIP_NO=1 uv pip install jax-cuda12-plugin==0.4.30\n")
    one, two, uv = s.stages[0].pips
    assert [(o, c.text) for o, c in one.options] == [
        ("-f", "/more"), ("--index-url", "https://b.invalid/simple"), ("--extra-index-url", "https://c.invalid"),
        ("--find-links", "https://a.invalid/jax_cuda_releases.html"), ("--find-links", "/wheels")]
    assert [(o, c.text) for o, c in two.options] == [
        ("-i", "https://d.invalid/simple"), ("--find-links", "https://a.invalid/jax_cuda_releases.html"),
        ("--find-links", "/wheels")]
    assert (uv.options, s.pins[1].addresses) == ((), two.options)
    page = one.options[3][1]  # offsets in the ENV line, for a page a sync moves
    assert s.text[page.origin[0]:page.origin[-1] + 1] == "https://a.invalid/jax_cuda_releases.html"


@pytest.mark.parametrize("spelling, option", [
    ("-r /w/r.txt", "-r"), ("--requirement /w/r.txt", "-r"), ("--requirement=/w/r.txt", "-r"),
    ("-r/w/r.txt", "-r"), ("-qr /w/r.txt", "-r"), ("-c /w/r.txt", "-c"), ("--constraint /w/r.txt", "-c"),
    ("--constraint=/w/r.txt", "-c"), ("-c/w/r.txt", "-c"), ("-r $REQS", "-r"), ("-r ${DIR}/r.txt", "-r"),
    ("-c r.txt", "-c"), ("-r ./sub/../r.txt", "-r"),
])
def test_every_spelling_of_a_requirements_or_constraints_file(spelling: str, option: str) -> None:
    s = scan_text("FROM python:3.12\nARG DIR=/w\nENV REQS=/w/r.txt\nWORKDIR /w\nCOPY docker/r.txt /w/\n"
                  f"RUN pip install {spelling} jax==0.4.30\n")
    install = only_install(s)
    assert files(install) == [(option, "/w/r.txt", "docker/r.txt", "")]
    assert install.pins == (0,) and install.requirements == ()


def test_constraint_variables_from_env_arg_and_the_command() -> None:
    s = scan_text("FROM python:3.12\nENV PIP_CONSTRAINT=\"/c/a.txt /c/b.txt\"\nARG UV_CONSTRAINT=/c/uv.txt\n"
                  "COPY c/ /c/\n"
                  "RUN pip install jax==0.4.30\n"
                  "RUN uv pip install --system jax==0.4.30\n"
                  "RUN PIP_CONSTRAINT=/c/inline.txt pip install jax==0.4.30\n"
                  "RUN env PIP_CONSTRAINT=/c/env.txt python3 -m pip install jax==0.4.30\n"
                  "RUN export PIP_CONSTRAINT=/c/exported.txt && pip3 install jax==0.4.30\n")
    pip, uv, inline, env, exported = s.stages[0].pips
    assert [(f.option, f.path, f.line, f.how, f.source) for f in pip.files] == [
        ("-c", "/c/a.txt", 2, "ENV PIP_CONSTRAINT=/c/a.txt /c/b.txt at line 2", "c/a.txt"),
        ("-c", "/c/b.txt", 2, "ENV PIP_CONSTRAINT=/c/a.txt /c/b.txt at line 2", "c/b.txt")]
    assert [(f.path, f.how) for f in uv.files] == [("/c/uv.txt", "ARG UV_CONSTRAINT=/c/uv.txt at line 3")]
    assert [(f.path, f.how) for f in inline.files] == [("/c/inline.txt", "PIP_CONSTRAINT=/c/inline.txt at line 7")]
    assert [(f.path, f.how) for f in env.files] == [("/c/env.txt", "PIP_CONSTRAINT=/c/env.txt at line 8")]
    assert [(f.path, f.how) for f in exported.files] == [
        ("/c/exported.txt", "export PIP_CONSTRAINT=/c/exported.txt at line 9")]


def test_a_file_only_the_build_knows() -> None:
    s = scan_text("FROM python:3.12\nRUN pip install -r $(cat /which) -c \"$UNSET\" jax==0.4.30\n")
    assert [(f.option, f.path, f.how, f.source, f.why) for f in only_install(s).files] == [
        ("-r", "", "-r $(cat /which)", None, "computed at build time"),
        ("-c", "", "-c ${UNSET}", None, "computed at build time")]


# -- where the build context puts the files a command reads ----------------------------------------

PLACED = [
    pytest.param("COPY --chown=1000:1000 --chmod=644 --link r.txt /tmp/", "/tmp/r.txt", "r.txt", id="flags"),
    pytest.param("COPY r.txt /tmp/reqs.txt", "/tmp/reqs.txt", "r.txt", id="renamed"),
    pytest.param("COPY r.txt /tmp", "/tmp/r.txt", "r.txt", id="into-an-existing-folder-without-slash"),
    pytest.param("COPY a.txt docker/r.txt c.txt /tmp/", "/tmp/r.txt", "docker/r.txt", id="several-sources"),
    pytest.param('COPY ["docker/r.txt", "/tmp/"]', "/tmp/r.txt", "docker/r.txt", id="json-form"),
    pytest.param('COPY --chmod=644 ["docker/r.txt", "/tmp/"]', "/tmp/r.txt", "docker/r.txt", id="json-form-flags"),
    pytest.param("COPY . /src", "/src/docker/r.txt", "docker/r.txt", id="the-whole-context"),
    pytest.param("COPY docker/ /src/", "/src/r.txt", "docker/r.txt", id="a-folder"),
    pytest.param("COPY docker /src/docker", "/src/docker/r.txt", "docker/r.txt", id="a-folder-without-slash"),
    pytest.param("COPY requirements*.txt /tmp/", "/tmp/requirements-dev.txt", "requirements-dev.txt", id="glob"),
    pytest.param("WORKDIR /app\nCOPY r.txt .", "/app/r.txt", "r.txt", id="workdir-dot"),
    pytest.param("WORKDIR /app\nWORKDIR sub\nCOPY r.txt reqs/", "/app/sub/reqs/r.txt", "r.txt", id="workdir-relative"),
    pytest.param("ADD --chmod=644 r.txt /tmp/", "/tmp/r.txt", "r.txt", id="add-local"),
    pytest.param("COPY --parents docker/r.txt /x/", "/x/docker/r.txt", "docker/r.txt", id="parents"),
    pytest.param("COPY ./docker/r.txt /x/", "/x/r.txt", "docker/r.txt", id="dot-slash-source"),
]


@pytest.mark.parametrize("copy, path, source", PLACED)
def test_copy_and_add_place_a_file(copy: str, path: str, source: str) -> None:
    s = scan_text(f"FROM python:3.12\n{copy}\nRUN pip install -r {path} jax==0.4.30\n")
    assert files(only_install(s)) == [("-r", path, source, "")]


NOT_PLACED = [
    pytest.param("COPY --from=build /w/r.txt /tmp/r.txt", "/tmp/r.txt", "COPY --from=build at line 2",
                 id="from-a-stage"),
    pytest.param("COPY --from=ghcr.io/x/y:1 /w /tmp", "/tmp/r.txt", "COPY --from=ghcr.io/x/y:1 at line 2",
                 id="a-folder-from-an-image"),
    pytest.param("ADD https://example.invalid/r.txt /tmp/r.txt", "/tmp/r.txt", "ADD of a URL at line 2", id="add-url"),
    pytest.param("ADD reqs.tar.gz /tmp/", "/tmp/r.txt", "ADD unpacks the archive reqs.tar.gz at line 2",
                 id="add-archive"),
    pytest.param("COPY <<EOF /tmp/r.txt\njax\nEOF", "/tmp/r.txt", "COPY <<EOF at line 2", id="heredoc"),
    pytest.param("COPY r.txt /tmp/", "/tmp/other.txt", "no COPY, ADD or bind mount puts a file at /tmp/other.txt",
                 id="nothing-there"),
    pytest.param("RUN echo 'scipy<1.12' > /tmp/r.txt", "/tmp/r.txt",
                 "no COPY, ADD or bind mount puts a file at /tmp/r.txt", id="written-by-the-build"),
]


@pytest.mark.parametrize("copy, path, why", NOT_PLACED)
def test_a_file_the_context_does_not_put_there_says_why(copy: str, path: str, why: str) -> None:
    s = scan_text(f"FROM python:3.12\n{copy}\nRUN pip install -c {path} jax==0.4.30\n")
    assert files(only_install(s)) == [("-c", path, None, why)]


def test_bind_mounts_place_files_for_their_run_only() -> None:
    s = scan_text("FROM python:3.12\n"
                  "RUN --mount=type=cache,target=/root/.cache --mount=type=bind,source=docker/r.txt,target=/r.txt \\\n"
                  "    --mount=type=bind,target=/ctx \\\n"
                  "    pip install -r /r.txt -c /ctx/docker/c.txt jax==0.4.30\n"
                  "RUN --mount=type=bind,from=build,source=/w,target=/w \\\n"
                  "    pip install -r /w/r.txt -r /r.txt jax==0.4.30\n")
    first, second = s.stages[0].pips
    assert files(first) == [("-r", "/r.txt", "docker/r.txt", ""), ("-c", "/ctx/docker/c.txt", "docker/c.txt", "")]
    assert files(second) == [("-r", "/w/r.txt", None, "RUN --mount=type=bind,from=build at line 5"),
                             ("-r", "/r.txt", None, "no COPY, ADD or bind mount puts a file at /r.txt")]
    assert [(p.dest, p.source, p.folder, p.line, p.until) for p in s.stages[0].placements] == [
        ("/r.txt", "docker/r.txt", False, 2, 4), ("/ctx", ".", True, 2, 4), ("/w", None, True, 5, 6)]


def test_placements_are_inherited_and_later_ones_win() -> None:
    s = scan_text("FROM python:3.12 AS base\nWORKDIR /app\nCOPY old/r.txt ./\nCOPY new/r.txt ./\n"
                  "RUN --mount=type=bind,source=m.txt,target=/m.txt true\n"
                  "FROM base\nRUN cd /app && pip install -r r.txt -c /m.txt jax==0.4.30\n"
                  "FROM python:3.12\nRUN pip install -r /app/r.txt jax==0.4.30\n")
    assert [p.source for p in s.stages[1].placements] == ["old/r.txt", "new/r.txt"]  # the mount ended
    assert files(only_install(s, 1)) == [
        ("-r", "/app/r.txt", "new/r.txt", ""),
        ("-c", "/m.txt", None, "no COPY, ADD or bind mount puts a file at /m.txt")]
    assert files(only_install(s, 2)) == [
        ("-r", "/app/r.txt", None, "no COPY, ADD or bind mount puts a file at /app/r.txt")]


def test_a_cd_in_a_subshell_ends_with_it() -> None:
    """`(cd /app && pip install -r a.txt) && pip install -r b.txt` reads b.txt where the RUN
    started: the subshell's `cd` ended with it, and the file the COPY put there is followed
    (it was looked for in /app, not found, and its pins not kept in step)."""
    s = scan_text("FROM python:3.12\nWORKDIR /w\nCOPY b.txt ./\n"
                  "RUN (cd /app && pip install -r a.txt) && pip install -r b.txt\n")
    first, second = s.stages[0].pips
    assert files(first) == [("-r", "/app/a.txt", None, "no COPY, ADD or bind mount puts a file at /app/a.txt")]
    assert files(second) == [("-r", "/w/b.txt", "b.txt", "")]


@pytest.mark.parametrize("run", ["D=$(cd /app && pwd) && pip install -r b.txt",
                                 "D=`cd /app && pwd` && pip install -r b.txt",
                                 "cat <(cd /app && cat a.txt) && pip install -r b.txt"])
def test_a_cd_in_a_command_substitution_ends_with_it(run: str) -> None:
    """`$( ... )`, backquotes and `<( ... )` run in a shell of their own, as `( ... )` does: the
    `cd` of `D=$(cd /app && pwd)` had leaked, b.txt was looked for in /app, and the pins of the
    file the COPY put in /w were not kept in step."""
    s = scan_text(f"FROM python:3.12\nWORKDIR /w\nCOPY b.txt ./\nRUN {run}\n")
    assert files(only_install(s)) == [("-r", "/w/b.txt", "b.txt", "")]


def test_a_sh_c_in_a_subshell_starts_in_the_subshells_folder() -> None:
    """`(cd /app && sh -c 'pip install -r b.txt')`: the `sh -c` script is read after the RUN's
    own, when the subshell's `cd` has been undone; it was read in the WORKDIR, the file the COPY
    put in /app was not found and its pins were not kept in step. Each `sh -c` starts where it
    ran."""
    s = scan_text("FROM python:3.12\nWORKDIR /w\nCOPY b.txt /app/\n"
                  "RUN (cd /app && sh -c 'pip install -r b.txt') && sh -c 'pip install -r c.txt'\n")
    first, second = s.stages[0].pips
    assert files(first) == [("-r", "/app/b.txt", "b.txt", "")]
    assert files(second) == [("-r", "/w/c.txt", None, "no COPY, ADD or bind mount puts a file at /w/c.txt")]


def test_a_venv_activated_in_a_subshell_ends_with_it() -> None:
    """The pip after the subshell is the base image's (Python 3.12), not the venv's 3.11: the
    activation had leaked, and the second install was judged for the wrong Python's wheels."""
    s = scan_text("FROM python:3.12\nRUN python3.11 -m venv /opt/v\n"
                  "RUN (. /opt/v/bin/activate && pip install jax==0.4.30) && pip install jaxlib==0.4.30\n")
    first, second = s.stages[0].pips
    assert first.python is not None and (first.python.value, first.python.said) == ("3.11", "/opt/v")
    assert second.python is None  # the base image's own Python


def test_a_copy_after_the_command_does_not_place_its_file() -> None:
    s = scan_text("FROM python:3.12\nRUN pip install -r /r.txt jax==0.4.30\nCOPY r.txt /r.txt\n")
    assert files(only_install(s))[0][2] is None
    placements = s.stages[0].placements
    assert place(placements, "/r.txt", 4) == ("r.txt", "")  # a command after it would read it
    assert place(placements, "/r.txt", 2)[0] is None


def test_the_placement_of_a_nested_file_is_found_the_same_way() -> None:
    # a requirements file's own `-r base.txt` is read beside it: the same lookup answers
    placements = (Placement("/app", "docker", True, 3, "COPY docker/ /app/ at line 3"),)
    assert place(placements, "/app/base.txt", 5) == ("docker/base.txt", "")
    assert isinstance(FileArg("-r", "/app/base.txt", 5, "-r base.txt"), FileArg)


# -- a conda run image, end to end ----------------------------------------------------------------

CONDA_IMAGE = """\
FROM continuumio/miniconda3
ARG JAX_VERSION=0.4.1
RUN conda create -y -n app python=3.11 && \\
    conda run -n app pip install jax==${JAX_VERSION} jaxlib==0.4.1
RUN conda run --no-capture-output -n app python -m pip install numpyro==0.6.0
RUN mamba run -n app pip install "jax==0.4.1" && micromamba run -n app pip install jaxlib==0.4.1
"""


def test_conda_run_pins_are_checked_reported_and_rewritten(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "project"
    (root / "docker").mkdir(parents=True)
    (root / "docker" / "Dockerfile").write_text(CONDA_IMAGE)
    (root / ".bumpversion.cfg").write_text("[bumpversion]\ncurrent_version = 0.7.0\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "init")
    pins = ("--offline", "--pin", "jax==0.4.13", "--pin", "jaxlib==0.4.13")
    r = cli("sync", "--check", "--format", "json", *pins, cwd=root)
    assert r.code == 1, r.err
    (doc,) = json.loads(r.out)["files"]
    assert [(p["line"], p["package"], p["current"], p["target"]) for p in doc["pins"]] == [
        (4, "jax", "0.4.1", "0.4.13"), (4, "jaxlib", "0.4.1", "0.4.13"), (5, "numpyro", "0.6.0", "0.7.0"),
        (6, "jax", "0.4.1", "0.4.13"), (6, "jaxlib", "0.4.1", "0.4.13")]
    r = cli("sync", "--check", *pins, cwd=root)
    assert r.code == 1 and "docker/Dockerfile:5: numpyro ==0.6.0, expected 0.7.0" in r.out + r.err
    r = cli("sync", *pins, cwd=root)
    assert r.code == 0, r.err
    assert (root / "docker" / "Dockerfile").read_text() == (
        CONDA_IMAGE.replace("0.4.1", "0.4.13").replace("0.6.0", "0.7.0"))
    assert git(root, "status", "--porcelain").stdout == ""  # committed
    assert cli("sync", "--check", *pins, cwd=root).code == 0


# -- the scan cache keeps all of it -----------------------------------------------------------------

RICH = """\
FROM continuumio/miniconda3 AS base
WORKDIR /app
COPY --chown=1:1 requirements.txt constraints.txt ./
ENV PIP_CONSTRAINT=/app/constraints.txt
RUN conda create -y -n app python=3.11 && conda run -n app pip install --no-deps -U -r requirements.txt \\
    -f https://example.invalid/links.html scipy==1.11.4 "numpy<2" jax==0.4.30 jaxlib==0.4.30
FROM base
RUN --mount=type=bind,source=c.txt,target=/c.txt uv pip install --system -c /c.txt $(cat x) numpyro==0.15.0
"""


COPIED_VENV = ("FROM ubuntu:jammy\nARG PY=3.11\nRUN apt-get install -y python${PY} && python${PY} -m venv /opt/venv\n"
               "FROM ubuntu:jammy\nCOPY --from=0 /opt/venv /opt/venv\nRUN /opt/venv/bin/pip install jax==0.4.30\n")

SCRIPTS = ("FROM python:3.12\nCOPY install.sh /tmp/\nCOPY <<EOF /opt/setup.sh\npip install jax==0.4.30\nEOF\n"
           "RUN bash /tmp/install.sh && bash /opt/setup.sh\n")


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.Dockerfile")) + ["rich", "copied venv",
                                                                                          "scripts"])
def test_a_cached_scan_equals_a_fresh_one(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = {"rich": RICH, "copied venv": COPIED_VENV, "scripts": SCRIPTS}.get(name) or \
        (FIXTURES / name).read_text(encoding="utf-8")
    path = str(tmp_path / "Dockerfile")
    monkeypatch.setenv("RELEASE_HOOK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("RELEASE_HOOK_NO_CACHE", raising=False)
    first = ScanCache("numpyro", str(tmp_path))
    (fresh,) = first.scan_all([(path, text.encode())])
    first.save()
    assert fresh == walk(parse(text, path), "numpyro")
    assert any(f.pips for f in fresh.stages)
    if name == "scripts":  # what the scripts a RUN runs brings: a context file kept, a heredoc read
        assert fresh.stages[0].scripts == (ScriptRun("/tmp/install.sh", 6, "install.sh"),)
        assert fresh.stages[0].placements[1].heredoc == "EOF" and len(fresh.pins) == 1

    def no_walk(*args: object) -> None:
        raise AssertionError("walked again")

    monkeypatch.setattr("release_hook.walk.walk", no_walk)
    assert ScanCache("numpyro", str(tmp_path)).scan_all([(path, text.encode())]) == [fresh]


def test_the_python_of_a_pip_install_is_evidence_as_values() -> None:
    python = only_install(scan_text(COPIED_VENV), 1).python
    assert python is not None and python.value == "3.11"
    # what made it, as values: a venv copied from the first stage, made by python3.11 (through PY)
    assert (python.made, python.said, python.line) == ("copy", "/opt/venv", 5)
    assert python.by is not None and (python.by.made, python.by.said) == ("venv", "/opt/venv")
    made_by = python.by.by
    assert made_by is not None and (made_by.said, made_by.line, made_by.via) == ("python3.11", 3, ("PY=3.11 at line 2",))
    assert python.how == ("venv /opt/venv made by python3.11 at line 3 [PY=3.11 at line 2], "
                          "copied to /opt/venv at line 5")


def test_lines_of_one_package_for_other_environments_are_all_asked() -> None:
    from release_hook.resolve.install import installs_of

    s = scan_text("FROM python:3.11\nRUN pip install 'jax==0.4.20; python_version >= \"3.9\"' "
                  "'jax==0.4.13; python_version < \"3.9\"' jaxlib==0.4.20\nRUN pip install jaxlib==0.4.21\n")
    lines, _ = installs_of(s)[0].lines(lambda pin: None, "numpyro")
    # both jax lines (the resolver keeps the one for the image); a later jaxlib replaces the earlier
    assert lines == ('jax==0.4.20; python_version >= "3.9"', 'jax==0.4.13; python_version < "3.9"', "jaxlib==0.4.21")


# -- ENV and ARG values as the Dockerfile reference expands them ----------------------------------

@pytest.mark.parametrize("lines, version, set_at", [
    ("ARG V\nENV J=${V:-0.4.25}", "0.4.25", 3),  # no value: the word, movable where it is written
    ("ARG V=\nENV J=${V:-0.4.25}", "0.4.25", 3),  # empty: the word too
    ("ARG V=0.4.30\nENV J=${V:-0.4.25}", "0.4.30", 2),  # a value: the value
    ("ARG V=1\nENV J=${V:+0.4.26}", "0.4.26", 3),  # a value: the word
    ("ENV V=0.4.30\nENV V=0.4.25 J=${V}", "0.4.30", 2),  # one ENV reads the values of before it
    ("ARG V=0.4.30\nARG V=0.4.25 J=${V}", "0.4.25", 3),  # an ARG's pairs one after another
])
def test_a_variables_value_as_buildkit_gives_it(lines: str, version: str, set_at: int) -> None:
    s = scan_text(f"FROM python:3.12\n{lines}\nRUN pip install jax==${{J}}\n")
    (pin,) = s.pins
    text = f"FROM python:3.12\n{lines}\nRUN pip install jax==${{J}}\n"
    assert (pin.version, pin.defined_at(text)) == (version, f" (set at line {set_at})")


def test_a_variable_only_the_build_knows_leaves_the_default_to_the_build() -> None:
    s = scan_text("FROM python:3.12\nENV V=${W/x/y}\nENV J=${V:-0.4.25}\nRUN pip install jax==${J}\n")
    assert s.pins == () and any("computed" in str(w) or "cannot see" in str(w) or "left alone" in str(w)
                                for w in s.warnings), s.warnings


def test_a_shell_given_a_variable_passes_it_to_its_commands_and_keeps_its_own() -> None:
    text = "FROM python:3.12\nRUN J=0.4.22 sh -c 'pip install jax==$J'\n"
    (inner,) = scan_text(text).pins
    assert (inner.package, inner.version) == ("jax", "0.4.22")
    assert text[inner.chars.origin[0]:inner.chars.origin[-1] + 1] == "0.4.22"  # moved in the prefix
    with pytest.raises(UserError, match=r"jaxlib pin uses \$\{J\}, which no ENV or ARG defines"):
        scan_text(text.replace("'\n", "' && pip install jaxlib==$J\n"))  # the outer shell never had J


def test_the_bash_grammar_loaded_alone_is_the_packages_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """shell.py loads tree-sitter-bash's compiled grammar without the package's `__init__` (it
    imports importlib.resources, 8 ms a run); it must be the same grammar, and a package laid
    out otherwise (no `_binding` beside it) is imported the package's own way."""
    import importlib.util

    import tree_sitter
    import tree_sitter_bash

    from release_hook import shell

    alone = tree_sitter.Language(shell._bash_grammar())
    own = tree_sitter.Language(tree_sitter_bash.language())
    assert (alone.abi_version, alone.node_kind_count, alone.field_count) == \
        (own.abi_version, own.node_kind_count, own.field_count)
    assert [alone.node_kind_for_id(i) for i in range(alone.node_kind_count)] == \
        [own.node_kind_for_id(i) for i in range(own.node_kind_count)]
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert tree_sitter.Language(shell._bash_grammar()).node_kind_count == own.node_kind_count
