"""The grammar of the commands a RUN runs, written once: the wrappers in front of a command
(sudo, env, xargs, conda run, ...), what counts as `pip install` (pip, pip3.X, python[X.Y] -m
pip, uv pip, with global options before the subcommand), pip's options, `git clone`, `sh -c`.

Everything here reads words already expanded (plain strings) and answers with indexes into
them, so that the caller keeps each word's file offsets.
"""
from __future__ import annotations

import os
import re

from release_hook.records import NamedTuple

SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh"})
CONDA = frozenset({"conda", "mamba", "micromamba"})
_PIP = re.compile(r"pip[0-9.]*")
PYTHON = re.compile(r"python[0-9.]*")
_UNKNOWN = re.compile(r"[$\0]")  # where a name's part only the build knows starts
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")

# Commands that run the command after their own options; the options that take a value.
WRAPPERS: dict[str, frozenset[str]] = {
    "sudo": frozenset({"-u", "-g", "-U", "-C", "-D", "-h", "-p", "-r", "-t", "-T", "--user", "--group",
                       "--other-user", "--close-from", "--chdir", "--host", "--prompt", "--role", "--type",
                       "--command-timeout"}),
    "env": frozenset({"-u", "-C", "-S", "--unset", "--chdir", "--split-string"}),
    "nice": frozenset({"-n", "--adjustment"}),
    "timeout": frozenset({"-s", "-k", "--signal", "--kill-after"}),
    "xargs": frozenset({"-I", "-n", "-P", "-d", "-L", "-s", "-E", "-a", "--max-args",  # not -i, -e, -l: glued
                        "--max-procs", "--delimiter", "--arg-file", "--replace", "--max-lines",
                        "--max-chars", "--eof", "--process-slot-var"}),
    "time": frozenset({"-f", "-o", "--format", "--output"}),
    "nohup": frozenset(),
    "exec": frozenset({"-a"}),
    "command": frozenset(),
    "builtin": frozenset(),
    "stdbuf": frozenset({"-i", "-o", "-e"}),
}
# Options of `conda run` / `mamba run` / `micromamba run` that take a value.
_CONDA_RUN_VALUES = frozenset({"-n", "--name", "-p", "--prefix", "--cwd", "-a", "--attach", "-e", "--env",
                               "--label", "-r", "--root-prefix"})
_PYTHON_VALUES = frozenset({"-W", "-X", "--check-hash-based-pycs"})
_UV_GLOBAL_VALUES = frozenset({"--cache-dir", "--directory", "--project", "--config-file", "--color",
                               "--python-preference"})
PIP_GLOBAL_VALUES = frozenset({
    "--cache-dir", "--log", "--log-file", "--proxy", "--retries", "--timeout", "--exists-action",
    "--trusted-host", "--cert", "--client-cert", "--python", "--keyring-provider", "--use-feature",
    "--use-deprecated", "--local-log", "--resume-retries",
})
# Options of pip install / download / wheel and uv pip install that take a value.
PIP_VALUES = PIP_GLOBAL_VALUES | {
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-f", "--find-links",
    "-i", "--index-url", "--extra-index-url", "-t", "--target", "--prefix", "--root", "--src",
    "--upgrade-strategy", "--platform", "--python-version", "--implementation", "--abi",
    "--global-option", "--install-option", "--build-option", "-C", "--config-settings", "--config-setting",
    "-d", "--dest", "--download", "-w", "--wheel-dir", "--no-binary", "--only-binary",
    "--progress-bar", "--report", "--root-user-action", "--group", "--override", "--overrides", "-p",
    "--index-strategy", "--extra", "--resolution", "--prerelease", "--python-platform",
    "--exclude-newer", "--index", "--default-index", "-b", "--build-constraint", "--build-constraints",
    "-P", "--upgrade-package", "--reinstall-package", "--no-build-package", "--no-binary-package",
    "--link-mode", "--refresh-package", "--torch-backend", "--fork-strategy",
    "--directory",  # uv's global option, also after `pip install`: not a requirement
}
_SHORT_VALUES = frozenset(o[1] for o in PIP_VALUES if len(o) == 2)
INDEX_OPTIONS = frozenset({"-f", "--find-links", "-i", "--index-url", "--extra-index-url", "--index",
                           "--default-index"})
_FILE_OPTIONS = {"-r": "-r", "--requirement": "-r", "-c": "-c", "--constraint": "-c",
                 "--constraints": "-c"}
# Options that change what is chosen or where it goes, kept as written for the resolver.
FLAGS = frozenset({
    "--pre", "-U", "--upgrade", "--upgrade-strategy", "--force-reinstall", "-I", "--ignore-installed",
    "--ignore-requires-python", "--only-binary", "--no-binary", "--prefer-binary", "--no-index",
    "--index-strategy", "--resolution", "--prerelease", "--exclude-newer", "--system", "--user",
    "-t", "--target", "--prefix", "--root", "--python-version", "--python-platform", "--platform",
    "--implementation", "--abi", "--override", "--overrides", "--require-hashes",
    "--no-build-isolation", "--break-system-packages", "--no-sources", "-P", "--upgrade-package",
    "--reinstall", "--reinstall-package", "--no-build", "--no-build-package", "--no-binary-package",
    "-b", "--build-constraint", "--build-constraints", "--torch-backend", "--fork-strategy",
    "--strict", "--compile-bytecode",
})


def basename(text: str) -> str:
    return os.path.basename(text.rstrip("/"))


class Head(NamedTuple):
    """A command with its wrappers read off: where the real command starts, and what the
    wrappers said (variables they set, xargs feeding it, a conda environment it runs in)."""

    at: int  # index of the real command's name (== len(words) when there is none)
    assigns: tuple[int, ...] = ()  # `NAME=value` words of env / sudo
    xargs: str | None = None  # None; "" when xargs feeds it standard input; else xargs -a's file
    replace: str | None = None  # xargs -I: this string stands for each input line
    conda: tuple[str, int, int] | None = None  # `conda run`: (tool, first, end) of its options
    # the folders `env -C DIR`, `sudo -D DIR`, `conda run --cwd DIR` run the command in, in
    # order, as (index of the word, characters to skip); index -1: `sudo -i`'s home folder
    chdir: tuple[tuple[int, int], ...] = ()


def unwrap(texts: list[str], i: int = 0) -> Head:
    """Read the wrappers in front of the command that starts at `texts[i]`."""
    assigns: list[int] = []
    xargs: str | None = None
    replace: str | None = None
    conda: tuple[str, int, int] | None = None
    chdir: list[tuple[int, int]] = []
    n = len(texts)
    while i < n:
        name = basename(texts[i])
        if name in CONDA and i + 1 < n and texts[i + 1] == "run":
            j = i + 2
            while j < n and texts[j].startswith("-"):
                folder = option_value(texts, j, "--cwd")
                if folder is not None:
                    chdir.append(folder)
                j += 2 if texts[j] in _CONDA_RUN_VALUES else 1
            conda, i = (name, i + 2, min(j, n)), j
            continue
        takes_value = WRAPPERS.get(name)
        if takes_value is None:
            break
        if name == "command" and i + 1 < n and texts[i + 1] in ("-v", "-V"):
            return Head(n)  # `command -v pip`: asks where pip is, runs nothing
        if name == "xargs":
            xargs = xargs or ""
        j = i + 1
        duration = name == "timeout"  # its first word that is not an option
        while j < n:
            w = texts[j]
            if name == "xargs":
                if w in ("-I", "--replace") or w.startswith(("-I", "--replace=")):
                    glued = w[2:] if w.startswith("-I") else w.partition("=")[2]
                    replace = glued or (texts[j + 1] if j + 1 < n else "{}")
                    j += 1 if glued else 2
                    continue
                if w == "-i":
                    replace = "{}"
                if w in ("-a", "--arg-file") or w.startswith(("-a", "--arg-file=")):
                    glued = w[2:] if w.startswith("-a") and w != "-a" else w.partition("=")[2]
                    xargs = glued or (texts[j + 1] if j + 1 < n else "")
                    j += 1 if glued else 2
                    continue
            if w == "--":
                j += 1
                break
            folder = _chdir(name, texts, j)
            if folder is not None:
                chdir.append(folder)
            if name in ("env", "sudo") and _ASSIGNMENT.match(w):
                assigns.append(j)
                j += 1
            elif w.startswith("-") and w != "-":
                j += 2 if w in takes_value else 1
            elif duration:
                duration = False
                j += 1
            else:
                break
        i = j
    return Head(i, tuple(assigns), xargs, replace, conda, tuple(chdir))


def option_value(texts: list[str], j: int, long: str) -> tuple[int, int] | None:
    """Where the value of `--long VALUE` or `--long=VALUE` at word `j` is: (index of its word,
    characters to skip); None when word `j` is not that option, or its value is missing."""
    if texts[j] == long:
        return (j + 1, 0) if j + 1 < len(texts) else None
    if texts[j].startswith(long + "="):
        return j, len(long) + 1
    return None


# the options with which env and sudo run their command in another folder
_CHDIR = {"env": ("-C", "--chdir"), "sudo": ("-D", "--chdir")}


def _chdir(wrapper: str, texts: list[str], j: int) -> tuple[int, int] | None:
    """Where the option at word `j` of `env` or `sudo` names a folder to run in, as Head.chdir."""
    short, long = _CHDIR.get(wrapper, ("", ""))
    if not short:
        return None
    w = texts[j]
    if w == short:
        return (j + 1, 0) if j + 1 < len(texts) else None
    found = option_value(texts, j, long)
    if found is not None:
        return found
    if w.startswith(short):  # `env -C/app`
        return j, 2
    if wrapper == "sudo" and w in ("-i", "--login"):  # the target user's home, the build's
        return -1, 0
    return None


class PipCall(NamedTuple):
    """`pip install` in any spelling: how it was called and where its own words start."""

    tool: str  # for messages: "pip3", "python3.11 -m pip", "uv pip"
    subcommand: str
    first: int  # index of the first word after the tool (`install` and global options included)


def pip_call(texts: list[str], at: int) -> PipCall | None:
    """pip, pip3, pip3.11, python[X.Y] -m pip, uv pip; a name with a part only the build knows
    (`python$(...)`) still counts, so that its Python is reported as unknown."""
    if at >= len(texts):
        return None
    name = basename(texts[at])
    known = _UNKNOWN.split(name, 1)[0]
    i = at + 1
    n = len(texts)
    if PYTHON.fullmatch(known):
        while i < n and texts[i].startswith("-") and texts[i] not in ("-m", "-mpip", "-c"):
            i += 2 if texts[i] in _PYTHON_VALUES else 1
        if i < n and texts[i] == "-mpip":
            i += 1
        elif i + 1 < n and texts[i] == "-m" and texts[i + 1] == "pip":
            i += 2
        else:
            return None
        tool = f"{name} -m pip"
    elif name == "uv":
        while i < n and texts[i].startswith("-"):
            i += 2 if texts[i] in _UV_GLOBAL_VALUES else 1
        if i >= n or texts[i] != "pip":
            return None
        i += 1
        tool = "uv pip"
    elif _PIP.fullmatch(known):
        tool = name
    else:
        return None
    first = i
    while i < n and texts[i].startswith("-"):
        i += 1 if "=" in texts[i] or texts[i] not in PIP_GLOBAL_VALUES else 2
    if i >= n or texts[i] not in ("install", "download", "wheel"):
        return None
    return PipCall(tool, texts[i], first)


class PipArgs:
    """A pip command's words by role, each as (index of its word, characters to skip); filled
    as `pip_arguments` reads them (a plain class: see found.Chars on dataclasses)."""

    def __init__(self) -> None:
        self.requirements: list[tuple[int, int, bool]] = []  # (index, skip, editable), in order
        self.files: list[tuple[str, int, int, str]] = []  # ("-r" or "-c", index, skip, as written)
        self.indexes: list[tuple[str, int, int]] = []  # (option, index, skip)
        self.flags: list[str] = []
        self.python: tuple[int, int, str] | None = None  # `--python X`: (index, skip, as written)
        self.no_deps = False


def pip_arguments(texts: list[str], call: PipCall) -> PipArgs:
    """pip's options the way optparse reads them: `--opt=V`, `--opt V`, `-oV`, `-o V`, `-qU`."""
    out = PipArgs()
    i = call.first
    n = len(texts)
    seen_subcommand = False
    while i < n:
        w = texts[i]
        if not w.startswith("-") or w == "-":
            if not seen_subcommand and w == call.subcommand:
                seen_subcommand = True
            else:
                out.requirements.append((i, 0, False))
            i += 1
            continue
        if w == "--":
            out.requirements.extend((k, 0, False) for k in range(i + 1, n))
            break
        if w.startswith("--"):
            option, eq, _ = w.partition("=")
            if option in PIP_VALUES:
                at, skip = (i, len(option) + 1) if eq else (i + 1, 0)
                _value(out, texts, option, at, skip, w if eq else f"{w} {texts[at]}" if at < n else w)
                i = at + 1
            else:
                _flag(out, option, w)
                i += 1
            continue
        for k in range(1, len(w)):  # a cluster of short options
            option = "-" + w[k]
            if w[k] in _SHORT_VALUES:
                at, skip = (i, k + 1) if k + 1 < len(w) else (i + 1, 0)
                written = f"{option}{w[k + 1:]}" if skip else f"{option} {texts[at]}" if at < n else option
                _value(out, texts, option, at, skip, written)
                i = at
                break
            _flag(out, option, option)
        i += 1
    return out


def _value(out: PipArgs, texts: list[str], option: str, at: int, skip: int, written: str) -> None:
    if at >= len(texts):
        return
    if option in _FILE_OPTIONS:
        out.files.append((_FILE_OPTIONS[option], at, skip, written))
    elif option in INDEX_OPTIONS:
        out.indexes.append((option, at, skip))
    elif option in ("-e", "--editable"):
        out.requirements.append((at, skip, True))
    elif option == "--python" or option == "-p":
        out.python = (at, skip, written)
    elif option in FLAGS:
        out.flags.append(written)


def _flag(out: PipArgs, option: str, written: str) -> None:
    if option == "--no-deps":
        out.no_deps = True
    elif option in FLAGS:
        out.flags.append(written)


def git_clone(texts: list[str], at: int) -> tuple[int, int, str] | None:
    """`git clone`: the --branch value's word and characters to skip, and the URL; or None."""
    i, n = at + 1, len(texts)
    while i < n and texts[i].startswith("-"):
        i += 2 if texts[i] in ("-C", "-c") else 1
    if i >= n or texts[i] != "clone":
        return None
    branch: tuple[int, int] | None = None
    url = None
    i += 1
    while i < n:
        w = texts[i]
        if w in ("-b", "--branch") and i + 1 < n:
            branch = (i + 1, 0)
            i += 2
            continue
        if w.startswith("--branch="):
            branch = (i, len("--branch="))
        elif w in ("--depth", "-o", "--origin", "-c", "--config", "-j", "--jobs", "--reference",
                   "--separate-git-dir", "--filter", "-u", "--upload-pack", "--template"):
            i += 2
            continue
        elif not w.startswith("-") and url is None:
            url = w
        i += 1
    if url is None or branch is None:
        return None
    return branch[0], branch[1], url


def _shell_options(texts: list[str], at: int) -> tuple[int, str]:
    """A shell's options after its name at `at`: the index of the first word after them, and
    the letters of those given with `-` (`-ec` gives "ec"; `-o pipefail` takes the next word)."""
    letters, i = "", at + 1
    while i < len(texts):
        s = texts[i]
        if s in ("-", "--"):  # the end of the options
            i += 1
            break
        if len(s) < 2 or s[0] not in "-+":
            break
        if not s.startswith("--"):  # not `--norc`
            letters += s[1:] if s[0] == "-" else ""
            if "o" in s or "O" in s:  # `-o pipefail`, `-O extglob`: the next word is the option's
                i += 1
        i += 1
    return i, letters


def script_file(texts: list[str], at: int) -> int | None:
    """`bash -e /tmp/install.sh a b`: the index of the script file a shell runs, if it names one."""
    i, letters = _shell_options(texts, at)
    return i if "c" not in letters and "s" not in letters and i < len(texts) else None


def reads_stdin(texts: list[str], at: int) -> bool:
    """`bash`, `sh -e`, `bash -s -- a b`: a shell that reads its script from standard input
    (no -c, and no script file named, or -s)."""
    i, letters = _shell_options(texts, at)
    return "c" not in letters and ("s" in letters or i >= len(texts) or texts[i] in _STDIN_FILES)


_STDIN_FILES = frozenset({"/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"})  # `bash /dev/stdin <<EOF`


def dash_c(texts: list[str], at: int) -> int | None:
    """`sh -c SCRIPT` (also `-ec`, `sh -c -e SCRIPT`, `sh -c -- SCRIPT`): the index of the
    script's word, the first after the options, when one of them is -c."""
    i, letters = _shell_options(texts, at)
    return i if "c" in letters and i < len(texts) else None
