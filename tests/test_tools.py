"""The integrations users adopt, each driven by the real tool in a virtualenv of its own: the
pre-commit framework (from a local clone of this repository, a tag as `rev`) and bump-my-version
(which clashes with bump2version, so it never shares an environment with it).

The virtualenvs, the clone and the framework's store are built in the session's temporary folder
from a local folder of wheels (tests/toolenv.py says how to fill it): no network, nothing written
outside the tests' temporary folders. Without the wheels these tests are skipped.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

import toolenv
from conftest import git

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DOCKERFILE = "FROM python:3.11\nARG NUMPYRO_VERSION=0.6.0\nRUN pip install numpyro==${NUMPYRO_VERSION}\n"


@dataclass(frozen=True)
class Tools:
    wheels: Path
    scratch: Path  # the session's temporary folder for virtualenvs, caches and the framework's store

    def env(self, **extra: str) -> dict[str, str]:
        return clean_env(**toolenv.offline_pip(self.wheels, self.scratch), **extra)


@contextlib.contextmanager
def once(scratch: Path, name: str) -> Iterator[bool]:
    """Held while `name` is made in the shared folder; yields whether it is still to be made
    (another worker of `pytest -n 3` may have made it). What a failed attempt left is removed
    first, so that a second attempt fails for the first one's reason, not "already exists"."""
    with open(scratch / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = scratch / f".{name}.done"
        if not done.exists():
            shutil.rmtree(scratch / name, ignore_errors=True)
        yield not done.exists()
        done.touch()


@pytest.fixture(scope="session")
def tools(tmp_path_factory: pytest.TempPathFactory) -> Tools:
    # One folder for all workers of the suite (the parent of each worker's own basetemp): the
    # tools' virtualenvs and the framework's store are built once, not once per worker; the
    # framework's store takes its own lock while it installs.
    base = tmp_path_factory.getbasetemp()
    scratch = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "tools"
    scratch.mkdir(exist_ok=True)
    if toolenv.complete(toolenv.WHEELS):
        return Tools(toolenv.WHEELS, scratch)
    if os.environ.get("RELEASE_HOOK_ONLINE") == "1":
        with once(scratch, "wheels") as todo:
            if todo:
                toolenv.download(scratch / "wheels")
        return Tools(scratch / "wheels", scratch)
    pytest.skip(f"no wheels of the tools in {toolenv.WHEELS}: fill it with `python tests/toolenv.py`, "
                "or set RELEASE_HOOK_ONLINE=1")


@pytest.fixture(scope="session")
def pre_commit_tool(tools: Tools) -> Path:
    with once(tools.scratch, "pre-commit") as todo:
        return toolenv.build("pre-commit", tools.wheels, tools.scratch) if todo else \
            toolenv.executable("pre-commit", tools.scratch)


@pytest.fixture(scope="session")
def bump_my_version_tool(tools: Tools) -> Path:
    with once(tools.scratch, "bump-my-version") as todo:
        return toolenv.build("bump-my-version", tools.wheels, tools.scratch) if todo else \
            toolenv.executable("bump-my-version", tools.scratch)


def source_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    return sorted(p for p in listed if (ROOT / p).is_file() and not p.startswith(".venv/"))


@pytest.fixture(scope="session")
def hook_repo(tools: Tools) -> tuple[Path, str]:
    """A local clone of this repository as it is now (uncommitted edits included), tagged."""
    clone = tools.scratch / "hook-repo"
    tag = "v0.0.1"
    with once(tools.scratch, "hook-repo") as todo:
        if todo:
            _clone_as_it_is(clone, tag)
    return clone, tag


def _clone_as_it_is(clone: Path, tag: str) -> None:
    subprocess.run(["git", "clone", "-q", "--no-local", str(ROOT), str(clone)], check=True)
    for p in source_files():
        (clone / p).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / p, clone / p)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    subprocess.run(["git", "add", "-A"], cwd=clone, check=True)
    subprocess.run(["git", "commit", "-q", "--allow-empty", "--no-verify", "-m", "tree under test"],
                   cwd=clone, check=True, env=env)
    subprocess.run(["git", "tag", "-f", tag], cwd=clone, check=True)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BUMPVERSION_", "BVHOOK_"))}
    env.update(extra)
    return env


def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "docker" / "release").mkdir(parents=True)
    (root / "docker" / "release" / "Dockerfile").write_text(DOCKERFILE)
    git(root, "init", "-q")
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(root, "remote", "add", "origin", str(bare))
    return root


# -- the pre-commit framework --------------------------------------------------------------------

def off_path(tmp_path: Path) -> str:
    """PATH of a shell where this virtualenv is not active: no folder that holds a release-hook
    (this virtualenv's bin among them)."""
    return os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                           if p and Path(p) != BIN and not (Path(p) / "release-hook").exists())


def framework_project(tmp_path: Path, pre_commit_tool: Path, hook_repo: tuple[Path, str],
                      tools: Tools) -> tuple[Path, dict[str, str]]:
    """A project that follows the README: release-hook-check from a clone at a tag, and the
    framework installed for pre-push. Returns the root and the environment (virtualenv off PATH)."""
    clone, tag = hook_repo
    root = project(tmp_path)
    (root / ".bumpversion.cfg").write_text("[bumpversion]\ncurrent_version = 0.6.0\n")
    (root / "setup.cfg").write_text("[release_hook]\npackage = numpyro\n")
    (root / ".pre-commit-config.yaml").write_text(  # the address the README's walk uses: one environment
        f"repos:\n- repo: file://{clone}\n  rev: {tag}\n  hooks: [{{id: release-hook-check}}]\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "init")
    env = tools.env(PATH=off_path(tmp_path), VIRTUAL_ENV="")
    r = subprocess.run([str(pre_commit_tool), "install", "--hook-type", "pre-push"], cwd=root, env=env,
                       text=True, capture_output=True)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([str(pre_commit_tool), "install-hooks"], cwd=root, env=env, text=True,
                       capture_output=True)  # set-up: the framework installs the hook's environment
    assert r.returncode == 0, r.stdout + r.stderr
    return root, env


def test_pre_commit_framework_checks_what_is_pushed(tmp_path: Path, pre_commit_tool: Path,
                                                    hook_repo: tuple[Path, str], tools: Tools) -> None:
    root, env = framework_project(tmp_path, pre_commit_tool, hook_repo, tools)

    def pc(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(pre_commit_tool), *args], cwd=root, env=env, text=True,
                              capture_output=True)

    def push(*refs: str) -> str:
        r = git(root, "push", "origin", *refs, check=False, env=env)
        return f"{r.returncode}\n{r.stdout}{r.stderr}"

    out = push("main")
    assert out.startswith("0\n") and "Dockerfiles in step with the release" in out and "Passed" in out, out
    # an out-of-step commit that never reached the remote, pushed as a new branch
    df = root / "docker" / "release" / "Dockerfile"
    df.write_text(DOCKERFILE.replace("0.6.0", "0.5.0"))
    git(root, "commit", "-qam", "stale", "--no-verify")
    stale = git(root, "rev-parse", "HEAD").stdout.strip()
    git(root, "reset", "-q", "--hard", "HEAD~1")  # the work tree is in step: it is not what is judged
    git(root, "branch", "stale", stale)
    out = push("stale")
    assert not out.startswith("0\n"), out
    assert "Failed" in out
    assert ("release-hook: refs/heads/stale: docker/release/Dockerfile:3: numpyro ==0.5.0, expected 0.6.0"
            in out), out
    assert git(tmp_path / "remote.git", "branch", "--list", "stale").stdout == ""
    # updating a branch the remote has (the framework passes FROM_REF and TO_REF)
    git(root, "merge", "-q", "--ff-only", "stale")
    out = push("main")
    assert not out.startswith("0\n") and "refs/heads/main: docker/release/Dockerfile:3: numpyro ==0.5.0" in out, out
    # the fix it prints runs as printed, from the repository, with no virtualenv on PATH: the
    # tool lives only in the framework's environment, named by its absolute path
    fix = next(x for x in out.splitlines() if "push refused. Fix with: " in x)
    fix = fix.split("Fix with: ", 1)[1].removesuffix(", then push again")
    assert fix.endswith(" -m release_hook sync") and str(tools.scratch / "pre-commit-home") in fix, fix
    done = subprocess.run(["/bin/sh", "-c", fix], cwd=root, env=env, text=True, capture_output=True)
    assert done.returncode == 0, done.stderr
    assert push("main").startswith("0\n")
    # a branch with a history of its own (the framework names no FROM_REF/TO_REF then)
    git(root, "checkout", "-q", "--orphan", "lone")
    df.write_text(DOCKERFILE.replace("0.6.0", "0.5.0"))
    git(root, "commit", "-qam", "lone root", "--no-verify")
    out = push("lone")
    assert not out.startswith("0\n") and "refs/heads/lone: docker/release/Dockerfile:3: numpyro ==0.5.0" in out, out
    git(root, "checkout", "-q", "-f", "main")
    # at any other stage the work tree is checked (the framework sets unstaged edits aside first)
    df.write_text(DOCKERFILE.replace("0.6.0", "0.5.0"))
    git(root, "add", "-A")
    r = pc("run", "--hook-stage", "manual", "release-hook-check")
    assert r.returncode == 1 and "docker/release/Dockerfile:3: numpyro ==0.5.0, expected 0.6.0" in r.stdout, r.stdout
    df.write_text(DOCKERFILE)
    git(root, "add", "-A")
    assert pc("run", "--hook-stage", "manual", "release-hook-check").returncode == 0


def test_doctor_calls_the_documented_framework_setup_fine(tmp_path: Path, pre_commit_tool: Path,
                                                         hook_repo: tuple[Path, str], tools: Tools) -> None:
    root, env = framework_project(tmp_path, pre_commit_tool, hook_repo, tools)

    def doctor() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "release_hook", "doctor"], cwd=root, env=env, text=True,
                              capture_output=True)

    hooks = root / ".git" / "hooks"
    r = doctor()
    assert r.returncode == 0, r.stdout
    assert r.stdout.splitlines()[1:] == [
        "pre-commit: not installed (fine with the pre-commit framework's pre-push check; a bump then "
        "needs a sync of its own before the push)",
        f"pre-push: {hooks / 'pre-push'}: the pre-commit framework's hook; .pre-commit-config.yaml runs "
        "release-hook-check at pre-push: fine"], r.stdout
    # the framework's own pre-commit stage, as many set it up beside pre-push
    assert subprocess.run([str(pre_commit_tool), "install"], cwd=root, env=env).returncode == 0
    r = doctor()
    assert r.returncode == 0 and ("pre-commit: the pre-commit framework's hook; it does not sync a bump's "
                                  "Dockerfiles (the framework's pre-push check refuses a stale push): fine"
                                  ) in r.stdout, r.stdout
    # a framework configuration without the hook is named
    (root / ".pre-commit-config.yaml").write_text("repos: []\n")
    r = doctor()
    assert r.returncode == 1 and (f"pre-push: {hooks / 'pre-push'}: the pre-commit framework's hook, but "
                                  ".pre-commit-config.yaml has no release-hook-check") in r.stdout, r.stdout


# -- bump-my-version ----------------------------------------------------------------------------

def test_bump_my_version_in_its_own_virtualenv(tmp_path: Path, bump_my_version_tool: Path) -> None:
    root = project(tmp_path)
    (root / ".bumpversion.cfg").write_text("[bumpversion]\ncurrent_version = 0.6.0\ncommit = True\n"
                                           "tag = True\ntag_name = {new_version}\n")
    printed = subprocess.run([str(BIN / "release-hook"), "install", "--print-bump-my-version"], cwd=root,
                             env=clean_env(), text=True, capture_output=True, check=True).stdout
    assert f'pre_commit_hooks = ["{BIN / "release-hook"} hook bump-my-version"]' in printed
    assert 'current_version = "0.6.0"' in printed
    (root / ".bumpversion.cfg").unlink()  # as printed: bump-my-version reads .bumpversion.toml from here on
    (root / ".bumpversion.toml").write_text(printed)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "init")
    before = git(root, "rev-parse", "HEAD").stdout.strip()
    # bump-my-version's own Python has no release_hook, and PATH does not lead to ours
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if Path(p) != BIN)

    def bump() -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(bump_my_version_tool), "bump", "minor"], cwd=root, text=True,
                              capture_output=True, env=clean_env(PATH=path, VIRTUAL_ENV=""))

    # a pin the hook cannot sync: the bump stops, and says how to undo what it wrote
    df = root / "docker" / "release" / "Dockerfile"
    df.write_text(DOCKERFILE + "RUN pip install numpyro==$UNDEFINED_VERSION\n")
    git(root, "commit", "-qam", "broken pin")
    r = bump()
    assert r.returncode != 0
    out = " ".join((r.stdout + r.stderr).split())  # bump-my-version wraps what its hooks print
    assert "docker/release/Dockerfile:4: numpyro pin uses ${UNDEFINED_VERSION}" in out, out
    assert ("release-hook: the bump was not committed or tagged; its version edits are left in the "
            "work tree. Fix the above and bump again after undoing them with: git restore -- "
            ".bumpversion.toml") in out, out
    assert git(root, "status", "--porcelain").stdout == " M .bumpversion.toml\n"
    git(root, "restore", "--", ".bumpversion.toml")
    git(root, "reset", "-q", "--hard", "HEAD~1")
    assert git(root, "tag").stdout == ""

    r = bump()
    assert r.returncode == 0, r.stdout + r.stderr
    assert git(root, "rev-parse", "HEAD~1").stdout.strip() == before  # one commit
    assert sorted(git(root, "show", "--name-only", "--format=", "HEAD").stdout.split()) == [
        ".bumpversion.toml", "docker/release/Dockerfile"]
    assert git(root, "rev-parse", "0.7.0^{commit}").stdout == git(root, "rev-parse", "HEAD").stdout
    assert git(root, "show", "0.7.0:docker/release/Dockerfile").stdout == DOCKERFILE.replace("0.6.0", "0.7.0")
    assert git(root, "status", "--porcelain").stdout == ""


OLD_CFG = """[bumpversion]
current_version = 0.6.0
commit = True
tag = True
tag_name = {new_version}
message = Release {new_version} (was {current_version})
parse = (?P<major>\\d+)\\.(?P<minor>\\d+)\\.(?P<patch>\\d+)
serialize =
\t{major}.{minor}.{patch}

[bumpversion:file:setup.py]
search = version="{current_version}"
replace = version="{new_version}"

[bumpversion:file:src/pkg/__init__.py]
"""


def test_bump_my_version_with_an_old_bumpversion_cfg_is_migrated_whole(
        tmp_path: Path, bump_my_version_tool: Path, tools: Tools) -> None:
    root = project(tmp_path)
    (root / ".bumpversion.cfg").write_text(OLD_CFG)
    (root / "setup.py").write_text('from setuptools import setup\nsetup(name="pkg", version="0.6.0")\n')
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "pkg" / "__init__.py").write_text('__version__ = "0.6.0"\n')
    (root / "pyproject.toml").write_text('[build-system]\nrequires = ["setuptools"]\n')
    git(root, "add", "-A")
    git(root, "commit", "-qm", "init")
    env = tools.env(PATH=off_path(tmp_path), VIRTUAL_ENV="")

    def release_hook(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "release_hook", *args], cwd=root, env=env, text=True,
                              capture_output=True)

    assert release_hook("install").returncode == 0
    # the trap: a hook added to pyproject.toml while .bumpversion.cfg stays, which bump-my-version reads
    naive = '\n[tool.bumpversion]\ncurrent_version = "0.6.0"\npre_commit_hooks = ["release-hook hook bump-my-version"]\n'
    with (root / "pyproject.toml").open("a") as f:
        f.write(naive)
    r = release_hook("doctor")
    assert r.returncode == 1
    assert ("bump-my-version: will not run release-hook: it reads .bumpversion.cfg, which comes before "
            "pyproject.toml in its search order (.bumpversion.cfg, .bumpversion.toml, setup.cfg, "
            "pyproject.toml)") in r.stdout, r.stdout
    # what --print-bump-my-version says, followed as it says
    printed = release_hook("install", "--print-bump-my-version").stdout
    head = printed.splitlines()[0]
    assert head.startswith("# bump-my-version reads .bumpversion.cfg first") and head.endswith(
        "put it in .bumpversion.toml (a new file), then remove .bumpversion.cfg (git rm .bumpversion.cfg), "
        "and the [tool.bumpversion] tables of pyproject.toml."), head
    hook = f"{BIN / 'release-hook'} hook bump-my-version"
    assert printed.splitlines()[1:] == [
        "[tool.bumpversion]", 'current_version = "0.6.0"', "commit = true", "tag = true",
        'tag_name = "{new_version}"', 'message = "Release {new_version} (was {current_version})"',
        'parse = "(?P<major>\\\\d+)\\\\.(?P<minor>\\\\d+)\\\\.(?P<patch>\\\\d+)"',
        'serialize = ["{major}.{minor}.{patch}"]', f'pre_commit_hooks = ["{hook}"]', "",
        "[[tool.bumpversion.files]]", 'filename = "setup.py"', 'search = "version=\\"{current_version}\\""',
        'replace = "version=\\"{new_version}\\""', "", "[[tool.bumpversion.files]]",
        'filename = "src/pkg/__init__.py"'], printed
    (root / ".bumpversion.toml").write_text(printed)
    (root / "pyproject.toml").write_text('[build-system]\nrequires = ["setuptools"]\n')
    git(root, "rm", "-q", ".bumpversion.cfg")
    git(root, "add", ".bumpversion.toml")
    git(root, "commit", "-qam", "bump-my-version reads .bumpversion.toml")
    r = release_hook("doctor")
    assert r.returncode == 0, r.stdout
    assert ("bump-my-version: .bumpversion.toml runs release-hook before its commit: can run, with "
            f"{BIN / 'release-hook'}") in r.stdout
    r = subprocess.run([str(bump_my_version_tool), "bump", "minor"], cwd=root, env=env, text=True,
                       capture_output=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert git(root, "tag").stdout.split() == ["0.7.0"]  # tag_name kept, not bump-my-version's v{new_version}
    assert git(root, "log", "-1", "--format=%s").stdout.strip() == "Release 0.7.0 (was 0.6.0)"
    assert sorted(git(root, "show", "--name-only", "--format=", "HEAD").stdout.split()) == [
        ".bumpversion.toml", "docker/release/Dockerfile", "setup.py", "src/pkg/__init__.py"]
    assert git(root, "show", "0.7.0:docker/release/Dockerfile").stdout == DOCKERFILE.replace("0.6.0", "0.7.0")
    assert git(root, "status", "--porcelain").stdout == ""


def test_print_bump_my_version_for_each_kind_of_configuration(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    git(root, "init", "-q")

    def printed() -> str:
        return subprocess.run([sys.executable, "-m", "release_hook", "install", "--print-bump-my-version"],
                              cwd=root, env=clean_env(), text=True, capture_output=True, check=True).stdout

    hook = f'"{BIN / "release-hook"} hook bump-my-version"'
    assert printed() == ("# bump-my-version has no configuration here yet: add this to .bumpversion.toml. The "
                         "hook runs this installation of release-hook, not bump-my-version's Python.\n"
                         f"[tool.bumpversion]\ncommit = true\ntag = true\npre_commit_hooks = [{hook}]\n")
    (root / ".bumpversion.toml").write_text('[tool.bumpversion]\ncurrent_version = "1.0"\n'
                                            'pre_commit_hooks = ["echo hi"]\n')
    assert printed() == ("# bump-my-version reads .bumpversion.toml (the first of .bumpversion.cfg, "
                         ".bumpversion.toml, setup.cfg, pyproject.toml that configures it): set "
                         "pre_commit_hooks in its [tool.bumpversion] table to this\n"
                         f'pre_commit_hooks = ["echo hi", {hook}]\n')
    (root / ".bumpversion.toml").write_text(f'[tool.bumpversion]\ncurrent_version = "1.0"\npre_commit_hooks = [{hook}]\n')
    assert printed() == ("# bump-my-version reads .bumpversion.toml, whose pre_commit_hooks already run "
                         "release-hook\n")
    (root / "setup.cfg").write_text("[bumpversion]\ncurrent_version = 1.0\n\n[bumpversion:part:release]\n"
                                    "values =\n    dev\n    final\noptional_value = final\n\n"
                                    "[bumpversion:glob:docs/*.txt]\n")
    (root / ".bumpversion.toml").unlink()
    assert printed().splitlines()[1:] == [
        "[tool.bumpversion]", 'current_version = "1.0"', f"pre_commit_hooks = [{hook}]", "",
        "[tool.bumpversion.parts.release]", 'values = ["dev", "final"]', 'optional_value = "final"', "",
        "[[tool.bumpversion.files]]", 'glob = "docs/*.txt"']
    assert printed().splitlines()[0].endswith("put it in .bumpversion.toml (a new file), then remove the "
                                              "[bumpversion] sections from setup.cfg.")
    (root / "pyproject.toml").write_text('[tool.bumpversion]\ncurrent_version = "1.0"\n')
    assert printed().splitlines()[0].endswith("from setup.cfg, and the [tool.bumpversion] tables of pyproject.toml.")


# -- the README's section for adopters, followed step by step ----------------------------------

def readme_steps() -> list[str]:
    """The `sh` blocks of README's "Adopting it in your repository", in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Adopting it in your repository\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```sh\n(.*?)^```$", section, flags=re.S | re.M)


def test_the_readme_section_for_adopters_followed_step_by_step(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tools: Tools, hook_repo: tuple[Path, str],
        pre_commit_tool: Path, bump_my_version_tool: Path) -> None:
    from pkgindex import PackageIndex, served_as_pips_index

    idx = PackageIndex(tmp_path / "index")
    for v in ("0.4.30", "0.4.31"):
        idx.wheel("jax", v, [f"jaxlib<={v},>=0.4.30"])
        idx.wheel("jaxlib", v, tag="cp311-cp311-manylinux2014_x86_64")
    for v in ("0.14.0", "0.15.0", "0.16.0", "0.17.0", "0.18.0"):
        idx.wheel("numpyro", v, ["jax>=0.4.30", "jaxlib>=0.4.30"])
    # a library with history: releases tagged in 2025, pinned by hand (out of step by today's rules)
    root = tmp_path / "library"
    (root / "docker" / "release").mkdir(parents=True)
    (root / "docker" / "dev").mkdir(parents=True)
    git(root, "init", "-q")
    for version, month in (("0.14.0", "01"), ("0.15.0", "02"), ("0.16.0", "03")):
        (root / ".bumpversion.cfg").write_text(f"[bumpversion]\ncurrent_version = {version}\ncommit = True\n"
                                               "tag = True\ntag_name = {new_version}\n")
        (root / "docker" / "release" / "Dockerfile").write_text(
            f"FROM python:3.11\nRUN pip install numpyro=={version} jax==0.4.31 jaxlib==0.4.31\n")
        (root / "docker" / "dev" / "Dockerfile").write_text(
            "FROM python:3.11\nRUN pip install jax==0.4.30 jaxlib==0.4.30\n"
            f"RUN git clone --branch {version} https://example.invalid/numpyro.git\n")
        date = f"2025-{month}-20T10:00:00+00:00"
        env = clean_env(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
        git(root, "add", "-A")
        git(root, "commit", "-qm", f"Release {version}", env=env)
        git(root, "tag", "-a", "-m", f"Release {version}", version, env=env)
    git(tmp_path, "init", "-q", "--bare", str(tmp_path / "remote.git"))
    git(root, "remote", "add", "origin", str(tmp_path / "remote.git"))
    # the tools a user has installed on their own; this virtualenv is not on PATH
    own = tmp_path / "own-tools"
    own.mkdir()
    for tool in (pre_commit_tool, bump_my_version_tool):
        (own / tool.name).symlink_to(tool)
    clone, tag = hook_repo
    steps = readme_steps()
    assert len(steps) == 8 and "export RELEASE_HOOK_REPO=" in steps[0], steps
    with served_as_pips_index(idx, monkeypatch):
        env = tools.env(PATH=f"{own}{os.pathsep}{off_path(tmp_path)}", VIRTUAL_ENV="",
                        RELEASE_HOOK_REPO=f"file://{clone}", RELEASE_HOOK_TAG=tag)
        # the steps install from the wheels folder (no index); the tool then reads the loopback
        # index, as pip would with PIP_NO_INDEX unset
        del env["PIP_NO_INDEX"]
        for step in steps[1:]:  # the first names this repository's URL and tag: set just above
            r = subprocess.run(["/bin/sh", "-e", "-c", step], cwd=root, env=env, text=True, capture_output=True)
            assert r.returncode == 0, f"{step}\n{r.stdout}\n{r.stderr}"
            if "sync --dry-run" in step:
                assert "docker/dev/Dockerfile (policy: latest)" in r.stdout and "+RUN pip install jax==0.4.31" in r.stdout
    remote = tmp_path / "remote.git"
    assert git(remote, "tag").stdout.split() == ["0.14.0", "0.15.0", "0.16.0", "0.17.0", "0.18.0"]
    for version in ("0.17.0", "0.18.0"):  # each bump's commit and tag carry the synced Dockerfiles
        assert git(remote, "show", f"{version}:docker/release/Dockerfile").stdout == (
            f"FROM python:3.11\nRUN pip install numpyro=={version} jax==0.4.30 jaxlib==0.4.30\n")
        assert f"--branch {version} " in git(remote, "show", f"{version}:docker/dev/Dockerfile").stdout
    assert git(remote, "rev-parse", "main").stdout == git(root, "rev-parse", "HEAD").stdout
    assert git(root, "status", "--porcelain").stdout == ""
