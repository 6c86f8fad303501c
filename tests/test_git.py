"""Committing a sync, the hooks, bump2version and pushes: real git, real bump2version, no mocks."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from release_hook.invocation import command
from conftest import git

DOCKERFILE = ("FROM python:3.11\nARG NUMPYRO_VERSION=0.6.0\n"
              "RUN pip install numpyro==${NUMPYRO_VERSION}\n"
              "RUN git clone --branch 0.6.0 https://github.com/pyro-ppl/numpyro.git\n")
BUMPVERSION = "[bumpversion]\ncurrent_version = 0.6.0\ncommit = True\ntag = True\ntag_name = {new_version}\n"
BIN = Path(sys.executable).parent


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "docker" / "release").mkdir(parents=True)
    (root / "docker" / "release" / "Dockerfile").write_text(DOCKERFILE)
    (root / ".bumpversion.cfg").write_text(BUMPVERSION)
    (root / "README.md").write_text("hello\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "init")
    return root


def head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").stdout.strip()


def files_in(root: Path, rev: str = "HEAD") -> list[str]:
    return git(root, "show", "--name-only", "--format=", rev).stdout.split()


def run_hook_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUMPVERSION_")}
    env.update(extra)
    return env


# -- sync commits --------------------------------------------------------------------------------

def test_sync_commits_only_the_dockerfiles_it_changed(cli, repo: Path) -> None:
    (repo / "README.md").write_text("staged change\n")
    git(repo, "add", "README.md")
    (repo / "notes.txt").write_text("untracked\n")
    (repo / ".bumpversion.cfg").write_text(BUMPVERSION.replace("0.6.0", "0.7.0"))  # unstaged
    r = cli("sync", cwd=repo)
    assert r.code == 0, r.err
    assert "committed" in r.out
    assert files_in(repo) == ["docker/release/Dockerfile"]
    assert git(repo, "log", "-1", "--format=%s").stdout.strip() == "Sync Dockerfiles with numpyro 0.7.0"
    status = git(repo, "status", "--porcelain").stdout.splitlines()
    assert sorted(status) == [" M .bumpversion.cfg", "?? notes.txt", "M  README.md"]


def test_commit_message_names_what_moved(cli, repo: Path) -> None:
    df = repo / "docker" / "release" / "Dockerfile"
    df.write_text(DOCKERFILE + "RUN pip install jax==0.2.10 jaxlib==0.1.62+cuda112\n")
    git(repo, "commit", "-qam", "jax")
    r = cli("sync", "--version", "0.7.0", "--pin", "jax==0.2.13", "--pin", "jaxlib==0.1.65", cwd=repo)
    assert r.code == 2 and "cannot tell the CUDA version of python:3.11" in r.err
    r = cli("sync", "--version", "0.7.0", "--pin", "jax==0.2.13", "--pin", "jaxlib==0.1.65",
            "--cuda", "11.2", cwd=repo)
    assert r.code == 0, r.err
    assert git(repo, "log", "-1", "--format=%s").stdout.strip() == (
        "Sync Dockerfiles with numpyro 0.7.0 (jax 0.2.13, jaxlib 0.1.65+cuda112)")


def test_nothing_changed_no_commit(cli, repo: Path) -> None:
    before = head(repo)
    r = cli("sync", "--version", "0.6.0", cwd=repo)
    assert (r.code, r.out) == (0, "")
    assert head(repo) == before


def test_dirty_dockerfile_is_refused_unless_allowed(cli, repo: Path) -> None:
    df = repo / "docker" / "release" / "Dockerfile"
    df.write_text(DOCKERFILE + "# my own edit\n")
    before = head(repo)
    r = cli("sync", "--version", "0.7.0", cwd=repo)
    assert r.code == 2
    assert r.err == ("release-hook: docker/release/Dockerfile: has uncommitted edits; commit or "
                     "stash them, or pass --allow-dirty (nothing written)\n")
    assert df.read_text() == DOCKERFILE + "# my own edit\n"
    assert head(repo) == before
    assert cli("sync", "--version", "0.7.0", "--allow-dirty", cwd=repo).code == 0
    assert "# my own edit" in git(repo, "show", "HEAD:docker/release/Dockerfile").stdout


@pytest.mark.parametrize("setup, message", [
    ("detached", "HEAD is detached"),
    ("merge", "a merge is in progress"),
    ("identity", "no git identity"),
])
def test_refusals_change_nothing(cli, repo: Path, monkeypatch: pytest.MonkeyPatch, setup: str,
                                 message: str) -> None:
    if setup == "detached":
        git(repo, "checkout", "-q", "--detach")
    elif setup == "merge":
        (repo / ".git" / "MERGE_HEAD").write_text(head(repo) + "\n")
    else:
        (Path(os.environ["HOME"]) / ".gitconfig").write_text("[user]\n\tuseConfigOnly = true\n")
        monkeypatch.setenv("EMAIL", "")
        for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
            monkeypatch.delenv(var, raising=False)
    r = cli("sync", "--version", "0.7.0", cwd=repo)
    assert r.code == 2
    assert message in r.err and len(r.err.splitlines()) == 1
    assert (repo / "docker" / "release" / "Dockerfile").read_text() == DOCKERFILE
    if setup == "detached":
        assert cli("sync", "--version", "0.7.0", "--allow-detached", cwd=repo).code == 0


def test_not_a_repository(cli, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    r = cli("sync", "Dockerfile", "--version", "0.7.0")
    assert (r.code, r.err) == (2, "release-hook: not a git repository (use --no-commit to write "
                                  "without committing)\n")
    assert (tmp_path / "Dockerfile").read_text() == DOCKERFILE
    assert cli("sync", "Dockerfile", "--version", "0.7.0", "--no-commit").code == 0


def test_ignored_dockerfile_is_written_not_committed(cli, repo: Path) -> None:
    (repo / ".gitignore").write_text("local/\n")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-qm", "ignore")
    (repo / "local").mkdir()
    (repo / "local" / "Dockerfile").write_text(DOCKERFILE)
    before = head(repo)
    r = cli("sync", "local/Dockerfile", "--version", "0.7.0", cwd=repo)
    assert r.code == 0, r.err
    assert "numpyro==${NUMPYRO_VERSION}" in (repo / "local" / "Dockerfile").read_text()
    assert "ARG NUMPYRO_VERSION=0.7.0" in (repo / "local" / "Dockerfile").read_text()
    assert head(repo) == before


# -- install / uninstall -------------------------------------------------------------------------

def test_install_is_idempotent_and_chains_an_existing_hook(cli, repo: Path) -> None:
    hooks = repo / ".git" / "hooks"
    (hooks / "pre-commit").write_text("#!/bin/sh\necho other tool ran >> \"$(git rev-parse --git-dir)/ran\"\n")
    (hooks / "pre-commit").chmod(0o755)
    r = cli("install", cwd=repo)
    assert r.code == 0
    assert r.out == ("kept the existing pre-commit hook; it still runs, as pre-commit.release-hook-chained\n"
                     f"installed {hooks / 'pre-commit'}\ninstalled {hooks / 'pre-push'}\n")
    first = (hooks / "pre-commit").read_text()
    assert "release-hook" in first and (hooks / "pre-commit.release-hook-chained").exists()
    mtime = (hooks / "pre-commit").stat().st_mtime_ns
    r = cli("install", cwd=repo)
    assert r.code == 0  # a second install says so, and changes nothing
    assert r.out == f"already installed: {hooks / 'pre-commit'}\nalready installed: {hooks / 'pre-push'}\n"
    assert (hooks / "pre-commit").stat().st_mtime_ns == mtime
    (repo / "README.md").write_text("x\n")
    git(repo, "commit", "-qam", "ordinary")
    assert (repo / ".git" / "ran").read_text() == "other tool ran\n"
    assert cli("uninstall", cwd=repo).code == 0
    assert (hooks / "pre-commit").read_text().startswith("#!/bin/sh\necho other tool ran")
    assert not (hooks / "pre-push").exists()


def test_install_respects_core_hooks_path(cli, repo: Path) -> None:
    git(repo, "config", "core.hooksPath", ".githooks")
    assert cli("install", cwd=repo).code == 0
    assert (repo / ".githooks" / "pre-commit").exists()
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()


def test_install_from_a_linked_worktree_uses_the_common_git_dir(cli, repo: Path, tmp_path: Path) -> None:
    git(repo, "worktree", "add", "-q", str(tmp_path / "wt"), "-b", "other")
    assert cli("install", cwd=tmp_path / "wt").code == 0
    assert (repo / ".git" / "hooks" / "pre-push").exists()


# -- bump2version ----------------------------------------------------------------------------------

def bump(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "bump2version"), *args], cwd=repo, text=True,
                          capture_output=True, env=run_hook_env())


def test_bump2version_minor_commits_the_synced_dockerfiles_and_tags(cli, repo: Path) -> None:
    assert cli("install", cwd=repo).code == 0
    r = bump(repo, "minor")
    assert r.returncode == 0, r.stderr
    assert git(repo, "status", "--porcelain").stdout == ""
    assert sorted(files_in(repo)) == [".bumpversion.cfg", "docker/release/Dockerfile"]
    assert git(repo, "rev-parse", "0.7.0^{commit}").stdout == git(repo, "rev-parse", "HEAD").stdout
    tagged = git(repo, "show", "0.7.0:docker/release/Dockerfile").stdout
    assert tagged == DOCKERFILE.replace("0.6.0", "0.7.0")
    assert "docker/release/Dockerfile:3: numpyro 0.6.0 -> 0.7.0" in r.stderr


def test_failed_sync_fails_the_bump_commit(cli, repo: Path) -> None:
    df = repo / "docker" / "release" / "Dockerfile"
    df.write_text(DOCKERFILE + "RUN pip install numpyro==$UNDEFINED_VERSION\n")
    git(repo, "commit", "-qam", "broken")
    assert cli("install", cwd=repo).code == 0
    before = head(repo)
    r = bump(repo, "minor")
    assert r.returncode != 0
    assert "release-hook: docker/release/Dockerfile:5: numpyro pin uses ${UNDEFINED_VERSION}" in r.stderr
    assert head(repo) == before
    assert git(repo, "tag").stdout == ""


# -- pre-push ----------------------------------------------------------------------------------------

@pytest.fixture
def remote(repo: Path, tmp_path: Path) -> Path:
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(repo, "remote", "add", "origin", str(bare))
    return bare


def push(repo: Path, *refs: str) -> subprocess.CompletedProcess[str]:
    return git(repo, "push", "origin", *refs, check=False, env=run_hook_env())


def test_push_refuses_out_of_step_then_accepts_the_fix(cli, repo: Path, remote: Path) -> None:
    assert cli("install", cwd=repo).code == 0
    assert bump(repo, "minor").returncode == 0
    r = push(repo, "HEAD:refs/heads/main", "--tags")
    assert r.returncode == 0, r.stderr
    df = repo / "docker" / "release" / "Dockerfile"
    df.write_text(df.read_text().replace("numpyro==${NUMPYRO_VERSION}", "numpyro==0.6.1"))
    git(repo, "commit", "-qam", "break a pin")
    r = push(repo, "HEAD:refs/heads/main")
    assert r.returncode != 0
    assert ("release-hook: refs/heads/main: docker/release/Dockerfile:3: numpyro ==0.6.1, "
            "expected 0.7.0") in r.stderr
    assert f"Fix with: {command('sync')}, then push again" in r.stderr
    assert git(remote, "rev-parse", "main").stdout != git(repo, "rev-parse", "HEAD").stdout
    assert cli("sync", cwd=repo).code == 0
    r = push(repo, "HEAD:refs/heads/main")
    assert r.returncode == 0, r.stderr
    assert git(remote, "rev-parse", "main").stdout == git(repo, "rev-parse", "HEAD").stdout


def test_push_reads_the_commit_not_the_work_tree(cli, repo: Path, remote: Path) -> None:
    assert cli("install", cwd=repo).code == 0
    df = repo / "docker" / "release" / "Dockerfile"
    df.write_text(DOCKERFILE.replace("0.6.0", "0.5.0"))  # uncommitted, out of step
    assert push(repo, "HEAD:refs/heads/main").returncode == 0
    df.write_text(DOCKERFILE)
    git(repo, "commit", "-q", "--allow-empty", "-m", "x")
    (repo / ".bumpversion.cfg").write_text(BUMPVERSION.replace("0.6.0", "0.9.0"))  # not committed
    assert push(repo, "HEAD:refs/heads/main").returncode == 0


def test_push_checks_annotated_tags_and_skips_deletions(cli, repo: Path, remote: Path) -> None:
    assert cli("install", cwd=repo).code == 0
    (repo / ".bumpversion.cfg").write_text(BUMPVERSION.replace("0.6.0", "0.7.0"))
    git(repo, "commit", "-qam", "bump without sync", "--no-verify")
    git(repo, "tag", "-a", "-m", "release", "0.7.0")
    r = push(repo, "refs/tags/0.7.0")
    assert r.returncode != 0 and "refs/tags/0.7.0: docker/release/Dockerfile:3" in r.stderr
    git(repo, "push", "-q", "--no-verify", "origin", "refs/tags/0.7.0")
    r = push(repo, ":refs/tags/0.7.0")
    assert r.returncode == 0, r.stderr


def test_push_of_a_tag_that_names_no_commit_and_a_push_from_inside_the_git_folder(
        cli, repo: Path, remote: Path) -> None:
    assert cli("install", cwd=repo).code == 0
    git(repo, "tag", "readme", git(repo, "rev-parse", "HEAD:README.md").stdout.strip())  # a tag of a blob
    r = push(repo, "refs/tags/readme")
    assert r.returncode == 0 and "release-hook: refs/tags/readme: not checked: it names no commit" in r.stderr, r.stderr
    (repo / ".bumpversion.cfg").write_text(BUMPVERSION.replace("0.6.0", "0.7.0"))
    git(repo, "commit", "-qam", "bump without sync", "--no-verify")
    # `git -C .git push`: git runs the hook inside the git folder, with GIT_DIR=. and no work tree
    r = git(repo / ".git", "push", "origin", "HEAD:refs/heads/main", check=False, env=run_hook_env())
    assert r.returncode == 1 and "refs/heads/main: docker/release/Dockerfile:3: numpyro ==0.6.0" in r.stderr, r.stderr


def test_pre_push_input_with_sha256_zero_ids(cli, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    zero = "0" * 64
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"(delete) {zero} refs/heads/gone {'1' * 64}\n"))
    assert cli("hook", "pre-push", "origin", "url", cwd=repo).code == 0


def test_the_pre_push_reader_reads_commits_as_gitpython_does(tmp_path: Path) -> None:
    """gitops.Objects reads the pushed commits with git's own plumbing (GitPython's import alone
    cost every push about 80 ms); GitPython, still the sync's committer, is the reference."""
    import datetime

    import git as gitpython

    from release_hook.errors import UserError
    from release_hook.gitops import Objects

    root = tmp_path / "odd"
    for name in ("docker/a b/Dockerfile", "docker/ünï/Dockerfile", "docker/new\nline/Dockerfile",
                 "setup.cfg", "deep/er/x.txt"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(f"FROM python:3.11 # {name}\n".encode())
    (root / "setup.cfg\r").write_bytes(b"CR\n")
    (root / "docker" / "link").symlink_to("a b/Dockerfile")
    git(root, "init", "-q")
    git(root, "add", "-A")
    # a submodule's entry: a commit id in the tree, no object in this repository
    git(root, "update-index", "--add", "--cacheinfo", f"160000,{'1' * 40},vendor/sub")
    env = {**os.environ, "GIT_COMMITTER_DATE": "2024-08-01T17:30:00+05:30"}
    git(root, "commit", "-qm", "odd names", env=env)
    git(root, "tag", "-a", "-m", "r", "1.0")
    sha = head(root)
    ref = gitpython.Repo(root).commit(sha)
    expected_files = {str(i.path) for i in ref.tree.traverse() if i.type == "blob" and i.mode != 0o120000}

    with Objects.open(str(root / ".git")) as objects:  # `git -C .git push` runs the hook there
        assert objects.top == str(root)
    with Objects.open(str(root / "deep")) as objects:
        assert objects.top == str(root)
        tree = objects.tree(sha)
        assert tree.files == expected_files and "docker/new\nline/Dockerfile" in tree.files
        assert tree.folders == {str(i.path) for i in ref.tree.traverse() if i.type == "tree"}
        assert tree.links == {"docker/link": "a b/Dockerfile"}
        for path in sorted(expected_files):
            assert objects.blob(sha, path) == ref.tree[path].data_stream.read(), path
        assert objects.blob(sha, "docker/link") == b"a b/Dockerfile"  # a link's blob: its target's name
        assert objects.blob(sha, "docker") is None  # a folder
        assert objects.blob(sha, "vendor/sub") is None  # a submodule
        assert objects.blob(sha, "missing") is None
        assert objects.blob(sha, "missing 5") is None  # git answers "missing 5 missing"
        # no tree holds such a path (git would read ./x and ../x from the cwd, or stop); a later read works
        assert [objects.blob(sha, p) for p in ("../setup.cfg", "./setup.cfg", "deep/../setup.cfg", "/setup.cfg",
                                               "deep/", "")] == [None] * 6
        assert objects.blob(sha, "setup.cfg") == b"FROM python:3.11 # setup.cfg\n"
        assert objects.blob(sha, "setup.cfg\r") == b"CR\n"  # not setup.cfg: the batch drops a CR before LF
        tag = git(root, "rev-parse", "refs/tags/1.0").stdout.strip()
        assert (objects.kind(tag), objects.kind(sha), objects.peel(tag)) == ("tag", "commit", sha)
        assert objects.head() == sha and objects.branch_tips() == [sha]
        assert objects.committer_date(tag) == datetime.datetime(2024, 8, 1, 12, tzinfo=datetime.timezone.utc)
        assert objects.committer_date(sha) == ref.committed_datetime
        with pytest.raises(UserError, match="names no commit"):
            objects.peel("nope")

    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(root), str(bare))
    with Objects.open(str(bare)) as objects:
        assert objects.top == str(bare) and objects.blob("1.0", "setup.cfg") == b"FROM python:3.11 # setup.cfg\n"
    unborn = tmp_path / "unborn"
    git(tmp_path, "init", "-q", str(unborn))
    with Objects.open(str(unborn)) as objects:
        assert objects.head() is None and objects.branch_tips() == []
    (tmp_path / "plain").mkdir()
    with pytest.raises(UserError, match="not a git repository"):
        Objects.open(str(tmp_path / "plain"))


def test_the_top_level_is_where_git_says_it_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder holding `.git` is its own top-level without asking git (as git runs its hooks
    there), a linked one too; GIT_DIR and GIT_WORK_TREE, which git obeys over any `.git`, are
    obeyed too."""
    from release_hook import gitops
    from release_hook.errors import UserError

    outer, other = tmp_path / "outer", tmp_path / "other"
    for folder in (outer, other):
        folder.mkdir()
        git(folder, "init", "-q")
    (tmp_path / "link").symlink_to(outer)
    assert gitops.toplevel(str(outer)) == str(outer)
    assert gitops.toplevel(str(tmp_path / "link")) == str(outer)  # as git says it: links resolved
    (outer / "sub").mkdir()
    assert gitops.toplevel(str(outer / "sub")) == str(outer)  # asked of git
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    assert gitops.toplevel(str(tmp_path / "link")) == str(other)
    monkeypatch.delenv("GIT_DIR")
    monkeypatch.delenv("GIT_WORK_TREE")
    with pytest.raises(UserError, match="not a git repository"):
        gitops.toplevel(str(tmp_path))


def test_stage_writes_and_stages_without_committing(cli, repo: Path) -> None:
    before = head(repo)
    r = cli("sync", "--stage", "--version", "0.7.0", cwd=repo)
    assert r.code == 0, r.err
    assert head(repo) == before
    assert git(repo, "status", "--porcelain").stdout == "M  docker/release/Dockerfile\n"


@pytest.mark.parametrize("allow_dirty", [False, True])
def test_stage_adds_what_it_wrote_but_not_what_git_ignores(cli, repo: Path, allow_dirty: bool) -> None:
    """One git status says both whether a file has edits of the user's own and whether git
    ignores it (with --allow-dirty, git is asked which it ignores); a name with a space and a
    non-ASCII letter is read as git writes it."""
    (repo / ".gitignore").write_text("local/\n")
    (repo / "docker" / "gpu é").mkdir()
    (repo / "docker" / "gpu é" / "Dockerfile").write_text(DOCKERFILE)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "more images")
    (repo / "local").mkdir()
    (repo / "local" / "Dockerfile").write_text(DOCKERFILE)
    paths = ("docker/release/Dockerfile", "docker/gpu é/Dockerfile", "local/Dockerfile")
    r = cli("sync", "--stage", "--version", "0.7.0", *paths, *(["--allow-dirty"] if allow_dirty else []), cwd=repo)
    assert r.code == 0, r.err
    for path in paths:
        assert "ARG NUMPYRO_VERSION=0.7.0" in (repo / path).read_text()
    staged = git(repo, "diff", "--cached", "--name-only", "-z").stdout.split("\0")
    assert sorted(filter(None, staged)) == ["docker/gpu é/Dockerfile", "docker/release/Dockerfile"]
    assert git(repo, "status", "--porcelain", "-z", "--ignored").stdout.split("\0")[-2] == "!! local/"
    # an edit of the user's own in the file with the odd name is named as it is, nothing written
    (repo / "docker" / "gpu é" / "Dockerfile").write_text(DOCKERFILE + "# mine\n")
    r = cli("sync", "--stage", "--version", "0.8.0", *paths, cwd=repo)
    assert (r.code, r.err) == (2, "release-hook: docker/gpu é/Dockerfile: has uncommitted edits; commit "
                                  "or stash them, or pass --allow-dirty (nothing written)\n")
    assert "ARG NUMPYRO_VERSION=0.7.0" in (repo / "docker/release/Dockerfile").read_text()


def test_version_from_bump_my_version_hook_environment(cli, repo: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BVHOOK_NEW_VERSION", "0.8.0")
    assert cli("sync", "--stage", cwd=repo).code == 0
    assert "ARG NUMPYRO_VERSION=0.8.0" in (repo / "docker/release/Dockerfile").read_text()


def test_current_version_from_bump_my_version_toml(cli, repo: Path) -> None:
    (repo / ".bumpversion.cfg").unlink()
    (repo / "pyproject.toml").write_text('[tool.bumpversion]\ncurrent_version = "0.9.0"\n')
    assert cli("sync", "--no-commit", cwd=repo).code == 0
    assert "ARG NUMPYRO_VERSION=0.9.0" in (repo / "docker/release/Dockerfile").read_text()


@pytest.mark.parametrize("policy", ["refuse", "allow"])
def test_push_when_the_index_cannot_be_reached(cli, repo: Path, remote: Path, policy: str,
                                               monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    df = repo / "docker" / "release" / "Dockerfile"
    df.write_text(DOCKERFILE + "RUN pip install jax==0.2.13\n")
    (repo / "setup.cfg").write_text(f"[release_hook]\nrequirements = index\noffline_push = {policy}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "jax pin")
    assert cli("install", cwd=repo).code == 0
    env = run_hook_env(PIP_INDEX_URL="http://127.0.0.1:9/simple/", PIP_CONFIG_FILE=os.devnull,
                       RELEASE_HOOK_CACHE_DIR=str(tmp_path / "cache"), RELEASE_HOOK_TIMEOUT="2")
    r = git(repo, "push", "origin", "HEAD:refs/heads/main", check=False, env=env)
    assert "not checked: docker/release/Dockerfile:5: jax (cannot read numpyro 0.6.0 metadata" in r.stderr
    assert (r.returncode == 0) == (policy == "allow"), r.stderr
    last = [line for line in r.stderr.splitlines() if line.startswith("release-hook")][-1]
    if policy == "refuse":  # sync cannot help here: say what can
        assert last == ("release-hook: push refused: the package index could not be reached; push "
                        "again when it answers, or set [release_hook] offline_push = allow"), r.stderr
    # what can be checked offline still is: the released package's own pin
    df.write_text(df.read_text().replace("numpyro==${NUMPYRO_VERSION}", "numpyro==0.5.0"))
    git(repo, "commit", "-qam", "break", "--no-verify")
    r = git(repo, "push", "origin", "HEAD:refs/heads/main", check=False, env=env)
    assert r.returncode != 0 and "numpyro ==0.5.0, expected 0.6.0" in r.stderr
    last = [line for line in r.stderr.splitlines() if line.startswith("release-hook")][-1]
    assert last == f"release-hook: push refused. Fix with: {command('sync')}, then push again" + (
        " when the package index answers (or set [release_hook] offline_push = allow)"
        if policy == "refuse" else ""), r.stderr
