"""The integrations users adopt, each driven by the real tool in a virtualenv of its own: the
pre-commit framework (from a local clone of this repository, a tag as `rev`) and bump-my-version
(which clashes with bump2version, so it never shares an environment with it).

Building those virtualenvs is set-up, like the Quick start's install: pip installs the tools from
the index pip is configured for. They are kept across runs in ~/.cache/release-hook-tests (one
folder per tool and Python version; delete it to rebuild), and so is pre-commit's own store,
keyed by a hash of this repository's files, so an unchanged tree does not reinstall its hook.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import git

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# Read now, before the tests' own HOME (tests/conftest.py) replaces it.
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "release-hook-tests"
PY = f"py{sys.version_info[0]}.{sys.version_info[1]}"
DOCKERFILE = "FROM python:3.11\nARG NUMPYRO_VERSION=0.6.0\nRUN pip install numpyro==${NUMPYRO_VERSION}\n"


def tool_venv(tool: str, spec: str) -> Path:
    """A virtualenv holding `spec`, built once per tool, spec and Python."""
    folder = CACHE / f"{tool}-{hashlib.sha256(spec.encode()).hexdigest()[:8]}-{PY}"
    done = folder / "release-hook-tests.done"
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
        r = subprocess.run([str(folder / "bin" / "python"), "-m", "pip", "install", "-q", spec],
                           capture_output=True, text=True)
        assert r.returncode == 0, f"set-up: pip install {spec} failed:\n{r.stderr[-2000:]}"
        version = subprocess.run([str(folder / "bin" / tool), "--version"], capture_output=True,
                                 text=True, check=True).stdout.strip()
        done.write_text(version + "\n")
    return folder


@pytest.fixture(scope="session")
def pre_commit_tool() -> Path:
    return tool_venv("pre-commit", "pre-commit>=3.2") / "bin" / "pre-commit"


@pytest.fixture(scope="session")
def bump_my_version_tool() -> Path:
    return tool_venv("bump-my-version", "bump-my-version>=0.28") / "bin" / "bump-my-version"


def source_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    return sorted(p for p in listed if (ROOT / p).is_file() and not p.startswith(".venv/"))


def installed_files(files: list[str]) -> list[str]:
    """What the framework installs from the clone: an edit to a test does not change it."""
    return [p for p in files if p.startswith("release_hook/") or "/" not in p]


@pytest.fixture(scope="session")
def hook_repo(pre_commit_tool: Path) -> tuple[Path, str]:
    """A local clone of this repository as it is now (uncommitted edits included), tagged."""
    digest = hashlib.sha256()
    files = source_files()
    for p in installed_files(files):
        digest.update(p.encode() + b"\0" + (ROOT / p).read_bytes() + b"\0")
    clone = CACHE / "hook-repos" / digest.hexdigest()[:16]
    tag = "v0.0.1"
    if not (clone / ".git" / "release-hook-tests.done").exists():
        prune(clone.parent, pre_commit_tool)
        shutil.rmtree(clone, ignore_errors=True)
        subprocess.run(["git", "clone", "-q", "--no-local", str(ROOT), str(clone)], check=True)
        for p in files:
            (clone / p).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / p, clone / p)
        env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
        subprocess.run(["git", "add", "-A"], cwd=clone, check=True)
        subprocess.run(["git", "commit", "-q", "--allow-empty", "--no-verify", "-m", "tree under test"],
                       cwd=clone, check=True, env=env)
        subprocess.run(["git", "tag", "-f", tag], cwd=clone, check=True)
        (clone / ".git" / "release-hook-tests.done").write_text("")
    return clone, tag


def prune(clones: Path, pre_commit_tool: Path, keep: int = 2) -> None:
    """Drop all but the newest clones, and the framework's environments nothing uses any more."""
    if clones.is_dir():
        old = sorted(clones.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)[keep:]
        for path in old:
            shutil.rmtree(path, ignore_errors=True)
    subprocess.run([str(pre_commit_tool), "gc"], capture_output=True,
                   env={**os.environ, "PRE_COMMIT_HOME": str(CACHE / "pre-commit-home")})


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

def test_pre_commit_framework_checks_what_is_pushed(tmp_path: Path, pre_commit_tool: Path,
                                                    hook_repo: tuple[Path, str]) -> None:
    clone, tag = hook_repo
    root = project(tmp_path)
    (root / ".bumpversion.cfg").write_text("[bumpversion]\ncurrent_version = 0.6.0\n")
    (root / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {clone}\n  rev: {tag}\n  hooks: [{{id: release-hook-check}}]\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "init")
    # pip's and virtualenv's caches too: the tests' own HOME is new each time
    env = clean_env(PRE_COMMIT_HOME=str(CACHE / "pre-commit-home"), PIP_CACHE_DIR=str(CACHE / "pip"),
                    VIRTUALENV_OVERRIDE_APP_DATA=str(CACHE / "virtualenv"))

    def pc(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(pre_commit_tool), *args], cwd=root, env=env, text=True,
                              capture_output=True)

    assert pc("install", "--hook-type", "pre-push").returncode == 0
    r = pc("install-hooks")  # set-up: the framework installs the hook's environment
    assert r.returncode == 0, r.stdout + r.stderr

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
    # a branch with a history of its own (the framework names no FROM_REF/TO_REF then)
    git(root, "checkout", "-q", "--orphan", "lone")
    git(root, "commit", "-qm", "lone root", "--no-verify")
    out = push("lone")
    assert not out.startswith("0\n") and "refs/heads/lone: docker/release/Dockerfile:3: numpyro ==0.5.0" in out, out
    git(root, "checkout", "-q", "main")
    # at any other stage the work tree is checked (the framework sets unstaged edits aside first)
    r = pc("run", "--hook-stage", "manual", "release-hook-check")
    assert r.returncode == 1 and "docker/release/Dockerfile:3: numpyro ==0.5.0, expected 0.6.0" in r.stdout, r.stdout
    df.write_text(DOCKERFILE)
    git(root, "add", "-A")
    assert pc("run", "--hook-stage", "manual", "release-hook-check").returncode == 0


# -- bump-my-version ----------------------------------------------------------------------------

def test_bump_my_version_in_its_own_virtualenv(tmp_path: Path, bump_my_version_tool: Path) -> None:
    root = project(tmp_path)
    (root / ".bumpversion.cfg").write_text("[bumpversion]\ncurrent_version = 0.6.0\n")
    printed = subprocess.run([str(BIN / "release-hook"), "install", "--print-bump-my-version"], cwd=root,
                             env=clean_env(), text=True, capture_output=True, check=True).stdout
    assert f'pre_commit_hooks = ["{BIN / "release-hook"} hook bump-my-version"]' in printed
    assert 'current_version = "0.6.0"' in printed
    (root / ".bumpversion.cfg").unlink()  # bump-my-version reads pyproject.toml from here on
    (root / "pyproject.toml").write_text(printed + 'tag_name = "{new_version}"\n')
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
            "pyproject.toml") in out, out
    assert git(root, "status", "--porcelain").stdout == " M pyproject.toml\n"
    git(root, "restore", "--", "pyproject.toml")
    git(root, "reset", "-q", "--hard", "HEAD~1")
    assert git(root, "tag").stdout == ""

    r = bump()
    assert r.returncode == 0, r.stdout + r.stderr
    assert git(root, "rev-parse", "HEAD~1").stdout.strip() == before  # one commit
    assert sorted(git(root, "show", "--name-only", "--format=", "HEAD").stdout.split()) == [
        "docker/release/Dockerfile", "pyproject.toml"]
    assert git(root, "rev-parse", "0.7.0^{commit}").stdout == git(root, "rev-parse", "HEAD").stdout
    assert git(root, "show", "0.7.0:docker/release/Dockerfile").stdout == DOCKERFILE.replace("0.6.0", "0.7.0")
    assert git(root, "status", "--porcelain").stdout == ""
