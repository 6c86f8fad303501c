"""bump-my-version's configuration as it will read it: which file it takes, whether that file's
`pre_commit_hooks` run release-hook, and an old bump2version configuration moved whole to TOML.

bump-my-version documents its search order: `--config-file`, `BUMPVERSION_CONFIG_FILE`, then
the first of `.bumpversion.cfg`, `.bumpversion.toml`, `setup.cfg`, `pyproject.toml` that holds
its section. An old `.bumpversion.cfg` therefore wins over a `[tool.bumpversion]` added to
pyproject.toml, and a hook written there never runs.
"""
from __future__ import annotations

import configparser
import json
import os
import re
from dataclasses import dataclass

from release_hook import config as cfg
from release_hook.errors import UserError

SEARCH_ORDER = (".bumpversion.cfg", ".bumpversion.toml", "setup.cfg", "pyproject.toml")
# bump2version's keys whose value is a boolean, and those that are a list, one item a line.
_BOOLEANS = {"commit", "tag", "sign_tags", "allow_dirty", "independent", "ignore_missing_version",
             "ignore_missing_files", "regex"}
_LISTS = {"serialize", "values"}


@dataclass(frozen=True)
class BumpConfig:
    path: str  # relative to the repository's top
    toml: bool
    hooks: tuple[str, ...]  # pre_commit_hooks, as written
    text: str

    def runs_release_hook(self) -> bool:
        return any(runs_release_hook(h) for h in self.hooks)


def runs_release_hook(command: str) -> bool:
    return bool(re.search(r"release[-_]hook", command))


def found(root: str) -> list[BumpConfig]:
    """Every file of the search order that holds bump-my-version's section, in that order."""
    out = []
    for name in SEARCH_ORDER:
        path = os.path.join(root, name)
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError):
            continue
        if name.endswith(".toml"):
            try:
                table = cfg.read_toml(text, name).get("tool", {}).get("bumpversion")
            except UserError:
                continue
            if isinstance(table, dict):
                hooks = table.get("pre_commit_hooks", [])
                out.append(BumpConfig(name, True, tuple(str(h) for h in hooks)
                                      if isinstance(hooks, list) else (), text))
        elif "bumpversion]" in text:  # as bump-my-version itself tells an INI file that has it
            out.append(BumpConfig(name, False, (), text))
    return out


def read_by_bump_my_version(root: str) -> BumpConfig | None:
    """The file bump-my-version will read (BUMPVERSION_CONFIG_FILE, else the search order)."""
    named = os.environ.get("BUMPVERSION_CONFIG_FILE")
    configs = found(root)
    if named:
        rel = os.path.relpath(os.path.join(root, named), root)
        return next((c for c in configs if c.path == rel), None)
    return configs[0] if configs else None


# -- an INI configuration (bump2version's) as TOML ---------------------------------------------

def _value(key: str, raw: str) -> object:
    text = raw.strip()
    if key in _BOOLEANS and text.lower() in ("true", "false", "yes", "no", "1", "0", "on", "off"):
        return text.lower() in ("true", "yes", "1", "on")
    if key in _LISTS:
        return [line.strip() for line in text.splitlines() if line.strip()]
    return text


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a TOML basic string


def _table(name: str, items: dict[str, object], array: bool = False) -> list[str]:
    head = f"[[{name}]]" if array else f"[{name}]"
    return [head, *(f"{key} = {_toml(v)}" for key, v in items.items())]


def from_ini(text: str, where: str, hook: str) -> str:
    """The whole of a bump2version configuration as bump-my-version's TOML, with `hook` added
    to `pre_commit_hooks`: every key of `[bumpversion]` (tag_name, message, parse, serialize,
    ...), each `[bumpversion:file:PATH]` / `[bumpversion:glob:PATTERN]` with its own keys, and
    each `[bumpversion:part:NAME]`."""
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text, source=where)
    except configparser.Error as e:
        raise UserError(f"cannot read: {str(e).splitlines()[0]}", where) from None
    if not parser.has_section("bumpversion"):
        raise UserError("no [bumpversion] section", where)
    main = {k: _value(k, v) for k, v in parser.items("bumpversion")}
    hooks = main.pop("pre_commit_hooks", None)
    main["pre_commit_hooks"] = [*([hooks] if isinstance(hooks, str) and hooks else []), hook]
    lines = _table("tool.bumpversion", main)
    files: list[list[str]] = []
    for section in parser.sections():
        kind, _, rest = section.partition(":")
        if kind != "bumpversion" or not rest:
            continue
        what, _, target = rest.partition(":")
        own = {k: _value(k, v) for k, v in parser.items(section)}
        if what == "part":
            lines += ["", *_table(f"tool.bumpversion.parts.{_key(target)}", own)]
        elif what.startswith("file"):  # file:PATH, or file(NAME):PATH to name one file twice
            files.append(_table("tool.bumpversion.files", {"filename": target, **own}, array=True))
        elif what == "glob":
            files.append(_table("tool.bumpversion.files", {"glob": target, **own}, array=True))
        else:
            raise UserError(f"[{section}]: a section bump-my-version has no TOML form for", where)
    for table in files:
        lines += ["", *table]
    return "\n".join(lines) + "\n"


def _key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name)


def fresh(version: str | None, hook: str) -> str:
    """A configuration for a repository that has none yet."""
    main: dict[str, object] = {"current_version": version} if version else {}
    main.update(commit=True, tag=True, pre_commit_hooks=[hook])
    return "\n".join(_table("tool.bumpversion", main)) + "\n"


# -- what `install --print-bump-my-version` prints ---------------------------------------------

def hook_command() -> str:
    """A hook command that runs this installation, whatever Python runs bump-my-version (it
    lives in a virtualenv of its own: it clashes with bump2version)."""
    import shlex
    import sys

    from release_hook.invocation import console_script

    if os.access(console_script(), os.X_OK):
        return f"{shlex.quote(console_script())} hook bump-my-version"
    return f"{shlex.quote(sys.executable)} -m release_hook hook bump-my-version"


def advice(root: str, hook: str) -> str:
    """The configuration to write, and where: migrated whole from the file bump-my-version
    would read, or the one line its TOML lacks, or a new one."""
    order = ", ".join(SEARCH_ORDER)
    chosen = read_by_bump_my_version(root)
    if chosen is None:
        try:
            version: str | None = cfg.current_version(root)
        except UserError:
            version = None  # the user adds current_version
        dest = "pyproject.toml" if os.path.isfile(os.path.join(root, "pyproject.toml")) else ".bumpversion.toml"
        return (f"# bump-my-version has no configuration here yet: add this to {dest}. The hook runs "
                "this installation of release-hook, not bump-my-version's Python.\n" + fresh(version, hook))
    if chosen.toml:
        if chosen.runs_release_hook():
            return f"# bump-my-version reads {chosen.path}, whose pre_commit_hooks already run release-hook\n"
        hooks = [*chosen.hooks, hook]
        return (f"# bump-my-version reads {chosen.path} (the first of {order} that configures it): "
                f"set pre_commit_hooks in its [tool.bumpversion] table to this\npre_commit_hooks = {_toml(hooks)}\n")
    remove = ("remove .bumpversion.cfg (git rm .bumpversion.cfg)" if chosen.path == ".bumpversion.cfg"
              else "remove the [bumpversion] sections from setup.cfg")
    stale = [c.path for c in found(root) if c.toml]
    if stale:
        remove += f", and the [tool.bumpversion] tables of {' and '.join(stale)}"
    return (f"# bump-my-version reads {chosen.path} first (its search order: {order}), so a hook written "
            "anywhere else never runs. This is all of its configuration as TOML, with release-hook's "
            f"hook: put it in .bumpversion.toml (a new file), then {remove}.\n"
            + from_ini(chosen.text, chosen.path, hook))


def diagnosis(root: str) -> tuple[str, bool] | None:
    """doctor's line for bump-my-version, and whether it is fine; None when no file of its
    search order names release-hook."""
    import shlex
    import shutil

    from release_hook.invocation import command

    ours = next((c for c in found(root) if c.runs_release_hook()), None)
    if ours is None:
        return None
    printed = command("install", "--print-bump-my-version")
    chosen = read_by_bump_my_version(root)
    if chosen is not None and chosen.path != ours.path:
        return (f"bump-my-version: will not run release-hook: it reads {chosen.path}, which comes before "
                f"{ours.path} in its search order ({', '.join(SEARCH_ORDER)}); move {chosen.path}'s "
                f"settings into {ours.path} and remove it ({printed} prints them as TOML)", False)
    hook = next(h for h in ours.hooks if runs_release_hook(h))
    words = shlex.split(hook)
    program = words[0] if words else ""
    where = program if os.sep in program else shutil.which(program)
    if where and os.access(where, os.X_OK):
        return f"bump-my-version: {ours.path} runs release-hook before its commit: can run, with {where}", True
    return (f"bump-my-version: {ours.path}'s pre_commit_hooks cannot run: {program} is missing "
            f"({printed} prints the command of this installation)", False)
