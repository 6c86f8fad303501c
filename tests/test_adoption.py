"""Adopting the tool in a repository with history: pushes judged as of each commit's date, old
release tags left alone, hooks that survive a moved environment, refusals with a next step.
Real git, real bump2version, a real package index on loopback; no mocks."""
from __future__ import annotations

import datetime
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from release_hook.invocation import command
from conftest import git
from pkgindex import PackageIndex, served_as_pips_index

BIN = Path(sys.executable).parent
BUMPVERSION = "[bumpversion]\ncurrent_version = {v}\ncommit = True\ntag = True\ntag_name = {{new_version}}\n"
RELEASE = ("FROM python:3.11\nARG NUMPYRO_VERSION={numpyro}\n"
           "RUN pip install numpyro==${{NUMPYRO_VERSION}} jax=={jax} jaxlib=={jax}\n")
DEV = ("FROM python:3.11\nRUN pip install jax=={jax} jaxlib=={jax}\n"
       "RUN git clone --branch {numpyro} https://github.com/pyro-ppl/numpyro.git\n")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BUMPVERSION_", "BVHOOK_"))}
    env.update(extra)
    return env


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PackageIndex]:
    """numpyro 0.14.0 to 0.17.0 (jax>=0.4.30), jax and jaxlib 0.4.30 and 0.4.31."""
    idx = PackageIndex(tmp_path / "index")
    for v in ("0.4.30", "0.4.31"):
        idx.wheel("jax", v, [f"jaxlib<={v},>=0.4.30"])
        idx.wheel("jaxlib", v, tag="cp311-cp311-manylinux2014_x86_64")
    for v in ("0.14.0", "0.15.0", "0.16.0", "0.17.0"):
        idx.wheel("numpyro", v, ["jax>=0.4.30", "jaxlib>=0.4.30"])
    with served_as_pips_index(idx, monkeypatch, "5"):
        yield idx


def commit_release(root: Path, version: str, release_jax: str, dev_jax: str, tag: bool = True,
                   date: str | None = None) -> str:
    (root / ".bumpversion.cfg").write_text(BUMPVERSION.format(v=version))
    (root / "docker" / "release" / "Dockerfile").write_text(RELEASE.format(numpyro=version, jax=release_jax))
    (root / "docker" / "dev" / "Dockerfile").write_text(DEV.format(numpyro=version, jax=dev_jax))
    git(root, "add", "-A")
    env = clean_env(**({"GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date} if date else {}))
    git(root, "commit", "-qm", f"release {version}", "--no-verify", env=env)
    if tag:
        git(root, "tag", "-a", "-m", f"release {version}", version, env=env)
    return git(root, "rev-parse", "HEAD").stdout.strip()


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """Releases 0.14.0 and 0.15.0 pinned by hand before adoption (out of step today), then 0.16.0
    in step: the release image at the lowest jax numpyro accepts, the dev image at the newest."""
    root = tmp_path / "project"
    (root / "docker" / "release").mkdir(parents=True)
    (root / "docker" / "dev").mkdir(parents=True)
    git(root, "init", "-q")
    commit_release(root, "0.14.0", "0.4.31", "0.4.30", date="2024-06-01T12:00:00+00:00")
    commit_release(root, "0.15.0", "0.4.31", "0.4.30", date="2024-08-01T12:00:00+00:00")
    commit_release(root, "0.16.0", "0.4.30", "0.4.31")
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(root, "remote", "add", "origin", str(bare))
    return root


def push(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return git(root, "push", "origin", *args, check=False, env=env or clean_env())


# -- history is not re-litigated ---------------------------------------------------------------

def test_adoption_push_follow_tags_passes_and_stale_commit_today_is_refused(
        cli, history: Path, index: PackageIndex) -> None:
    assert cli("sync", "--check", cwd=history).code == 0  # 0.16.0 is in step today
    assert cli("install", cwd=history).code == 0
    r = push(history, "--follow-tags", "main")
    assert r.returncode == 0, r.stderr
    assert "refs/tags/0.14.0: not checked: an earlier release (0.14.0; 0.16.0 is newer)" in r.stderr
    assert "refs/tags/0.15.0: not checked: an earlier release" in r.stderr
    assert "refs/tags/0.16.0: not checked" not in r.stderr
    remote = history.parent / "remote.git"
    assert git(remote, "tag").stdout.split() == ["0.14.0", "0.15.0", "0.16.0"]
    # a commit made today with a stale dev pin: refused at push, naming the pin
    dev = history / "docker" / "dev" / "Dockerfile"
    dev.write_text(dev.read_text().replace("jax==0.4.31", "jax==0.4.30"))
    git(history, "commit", "-qam", "stale dev pin", "--no-verify")
    r = push(history, "main")
    assert r.returncode == 1, r.stderr
    assert "release-hook: refs/heads/main: docker/dev/Dockerfile:2: jax ==0.4.30, expected 0.4.31" in r.stderr
    assert "release-hook: refs/heads/main: judged as of 20" in r.stderr


def test_the_newest_tag_is_still_checked(cli, history: Path, index: PackageIndex) -> None:
    assert cli("install", cwd=history).code == 0
    commit_release(history, "0.17.0", "0.4.30", "0.4.31", tag=False)
    (history / "docker" / "release" / "Dockerfile").write_text(
        RELEASE.format(numpyro="0.16.0", jax="0.4.30"))
    git(history, "commit", "-qam", "forgot the sync", "--no-verify")
    git(history, "tag", "-a", "-m", "r", "0.17.0")
    git(history, "checkout", "-q", "0.14.0")  # HEAD's version does not make a newer tag old
    r = push(history, "refs/tags/0.17.0", "refs/tags/0.14.0")
    assert r.returncode == 1
    assert "refs/tags/0.17.0: docker/release/Dockerfile:3: numpyro ==0.16.0, expected 0.17.0" in r.stderr
    assert "refs/tags/0.14.0: not checked: an earlier release (0.14.0; 0.17.0 is newer)" in r.stderr


def test_a_tag_older_than_head_alone_is_not_refused(cli, history: Path, index: PackageIndex) -> None:
    assert cli("install", cwd=history).code == 0
    r = push(history, "refs/tags/0.14.0")
    assert r.returncode == 0, r.stderr
    assert "not checked: an earlier release (0.14.0; 0.16.0 is newer)" in r.stderr


def test_each_pushed_commit_is_judged_once(cli, history: Path, index: PackageIndex,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from release_hook import check_commit

    judged: list[str] = []
    real = check_commit.check

    def counting(repo_path: str, sha: str) -> check_commit.Verdict:
        judged.append(sha)
        return real(repo_path, sha)

    monkeypatch.setattr(check_commit, "check", counting)
    head = git(history, "rev-parse", "HEAD").stdout.strip()
    tag = git(history, "rev-parse", "refs/tags/0.16.0").stdout.strip()  # the annotated tag object
    zero = "0" * 40
    lines = (f"refs/heads/main {head} refs/heads/main {zero}\n"
             f"refs/tags/0.16.0 {tag} refs/tags/0.16.0 {zero}\n"
             f"refs/heads/main {head} refs/heads/release {zero}\n")
    monkeypatch.setattr(sys, "stdin", io.StringIO(lines))
    r = cli("hook", "pre-push", "origin", "url", cwd=history)
    assert r.code == 0, r.err
    assert judged == [head]


def test_a_commit_pushed_under_two_refs_is_reported_once(cli, repo: Path) -> None:
    df = repo / "docker" / "release" / "Dockerfile"
    df.write_text(df.read_text().replace("NUMPYRO_VERSION=0.6.0", "NUMPYRO_VERSION=0.5.0"))
    git(repo, "commit", "-qam", "stale", "--no-verify")
    git(repo, "tag", "-a", "-m", "r", "0.6.0")
    assert cli("install", cwd=repo).code == 0
    r = push(repo, "main", "refs/tags/0.6.0")
    assert r.returncode == 1
    lines = [line for line in r.stderr.splitlines() if line.startswith("release-hook")]
    assert len(lines) == 5, r.stderr
    assert lines[0] == ("release-hook: refs/heads/main: docker/release/Dockerfile:3: numpyro ==0.5.0, "
                        "expected 0.6.0 (set at line 2)")
    assert lines[1].startswith("release-hook: refs/heads/main: judged as of ")
    assert lines[2] == "release-hook: refs/tags/0.6.0: the same commit as refs/heads/main, judged above"
    assert lines[3] == f"release-hook: push refused. Fix with: {command('sync')}, then push again"
    assert lines[4] == ("release-hook: refs/tags/0.6.0 cannot be synced (a sync makes a new commit; a tag "
                        "keeps naming its own): once the branch is synced, push it without the tag: git "
                        "push origin main; or move the tag, deliberately, to a synced commit: "
                        f"{command('sync')}, then git tag -f -a 0.6.0 -m 0.6.0, then git push --force "
                        "origin refs/tags/0.6.0")


# -- judged as of the commit's date ------------------------------------------------------------

def test_a_commit_is_judged_as_of_its_committer_date(history: Path, index: PackageIndex) -> None:
    from release_hook import check_commit

    sha = git(history, "rev-parse", "0.15.0^{commit}").stdout.strip()
    verdict = check_commit.check(str(history), sha)
    assert verdict.as_of == datetime.datetime(2024, 8, 1, 12, tzinfo=datetime.timezone.utc)
    assert verdict.as_of.tzinfo is not None


def test_as_of_values(history: Path) -> None:
    from release_hook.cli import _as_of

    utc = datetime.timezone.utc
    assert _as_of("2024-05-01", str(history)) == datetime.datetime(2024, 5, 1, tzinfo=utc)
    assert _as_of("2024-05-01T10:30:00+02:00", str(history)) == datetime.datetime(2024, 5, 1, 8, 30,
                                                                                 tzinfo=utc)
    assert _as_of("2024-05-01T10:30:00Z", str(history)) == datetime.datetime(2024, 5, 1, 10, 30, tzinfo=utc)
    assert _as_of("0.15.0", str(history)) == datetime.datetime(2024, 8, 1, 12, tzinfo=utc)
    assert _as_of("HEAD~2", str(history)) == datetime.datetime(2024, 6, 1, 12, tzinfo=utc)


@pytest.mark.parametrize("args, message", [
    (("--check", "--as-of", "no-such-ref"), "--as-of: 'no-such-ref' is neither an ISO date nor a commit here"),
    (("--check", "--as-of", "2024-13-45"), "--as-of: '2024-13-45' is not an ISO date or time"),
    (("--no-commit", "--as-of", "2024-05-01"), "--as-of judges, it does not write"),
])
def test_bad_as_of(cli, history: Path, args: tuple[str, ...], message: str) -> None:
    r = cli("sync", *args, cwd=history)
    assert r.code == 2 and message in r.err and len(r.err.splitlines()) == 1, r.err


# -- hooks that survive ------------------------------------------------------------------------

@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "small"
    (root / "docker" / "release").mkdir(parents=True)
    (root / "docker" / "release" / "Dockerfile").write_text(
        "FROM python:3.11\nARG NUMPYRO_VERSION=0.6.0\nRUN pip install numpyro==${NUMPYRO_VERSION}\n")
    (root / ".bumpversion.cfg").write_text(BUMPVERSION.format(v="0.6.0"))
    (root / "README.md").write_text("hello\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "init")
    bare = tmp_path / "small.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(root, "remote", "add", "origin", str(bare))
    return root


def path_without_release_hook(tmp_path: Path) -> str:
    """PATH with git and sh but no release-hook (this virtualenv's bin is left out)."""
    keep = tmp_path / "bin-no-release-hook"
    keep.mkdir(exist_ok=True)
    for tool in ("git", "sh", "cat", "dirname", "printf"):
        found = shutil.which(tool)
        if found and not (keep / tool).exists():
            (keep / tool).symlink_to(found)
    return str(keep)


def break_python(hook: Path) -> None:
    hook.write_text(hook.read_text().replace(f"python={sys.executable}", "python=/gone/venv/bin/python"))


def test_hook_falls_back_to_release_hook_on_path_then_says_how_to_reinstall(
        cli, repo: Path, tmp_path: Path) -> None:
    assert cli("install", cwd=repo).code == 0
    hook = repo / ".git" / "hooks" / "pre-push"
    break_python(hook)
    bare_path = path_without_release_hook(tmp_path)
    # release-hook on PATH (this virtualenv's console script) takes over
    on_path = tmp_path / "bin-with-release-hook"
    on_path.mkdir()
    (on_path / "release-hook").symlink_to(BIN / "release-hook")
    r = push(repo, "main", env=clean_env(PATH=f"{on_path}:{bare_path}"))
    assert r.returncode == 0, r.stderr
    # nothing left to run it: the push fails, with one line saying what to do
    git(repo, "commit", "-q", "--allow-empty", "-m", "x")
    r = push(repo, "main", env=clean_env(PATH=bare_path))
    assert r.returncode == 1
    lines = [line for line in r.stderr.splitlines() if line.startswith("release-hook")]
    assert lines == ["release-hook: cannot run the pre-push hook: /gone/venv/bin/python no longer has "
                     "release_hook and no release-hook is on PATH; put release-hook back (that "
                     "environment, or onto PATH), then run: release-hook install"], r.stderr
    assert "error: failed to push" in r.stderr


def test_bump_path_fails_without_a_python_but_ordinary_commits_start_none(
        cli, repo: Path, tmp_path: Path) -> None:
    assert cli("install", cwd=repo).code == 0
    break_python(repo / ".git" / "hooks" / "pre-commit")
    bare_path = path_without_release_hook(tmp_path)
    (repo / "README.md").write_text("x\n")
    r = git(repo, "commit", "-qam", "ordinary", env=clean_env(PATH=bare_path), check=False)
    assert r.returncode == 0, r.stderr
    r = git(repo, "commit", "-q", "--allow-empty", "-m", "bump", check=False,
            env=clean_env(PATH=bare_path, BUMPVERSION_NEW_VERSION="0.7.0"))
    assert r.returncode == 1 and "then run: release-hook install" in r.stderr


def tracked_team_hooks(repo: Path) -> Path:
    """A team's pre-commit hook, tracked in .githooks, which core.hooksPath points git at."""
    hooks = repo / ".githooks"
    hooks.mkdir()
    (hooks / "pre-commit").write_text("#!/bin/sh\necho team hook\n")
    (hooks / "pre-commit").chmod(0o755)
    git(repo, "add", ".githooks")
    git(repo, "commit", "-qm", "team hooks")
    git(repo, "config", "core.hooksPath", ".githooks")
    return hooks


def test_install_refuses_tracked_hooks_unless_forced(cli, repo: Path) -> None:
    hooks = tracked_team_hooks(repo)
    r = cli("install", cwd=repo)
    assert r.code == 2
    assert r.err == ("release-hook: .githooks/pre-commit: is tracked by git (core.hooksPath); install "
                     "would write this machine's Python path into it. Call `release-hook hook "
                     "pre-commit` / `hook pre-push` from it yourself (README: install), or pass "
                     "--force to rewrite it (nothing written)\n")
    assert sorted(p.name for p in hooks.iterdir()) == ["pre-commit"]
    assert git(repo, "status", "--porcelain").stdout == ""
    r = cli("install", "--force", cwd=repo)
    assert r.code == 0, r.err
    assert "note: pre-commit holds this machine's Python path; keep it out of commits" in r.out
    assert (hooks / "pre-commit.release-hook-chained").read_text() == "#!/bin/sh\necho team hook\n"
    assert "release-hook: managed hook" in (hooks / "pre-commit").read_text()


def test_doctor_advice_under_tracked_hooks_matches_what_install_does(cli, repo: Path) -> None:
    hooks = tracked_team_hooks(repo)
    r = cli("doctor", cwd=repo)
    assert r.code == 1
    advice = ("install refuses while git tracks .githooks/pre-commit (core.hooksPath): call "
              "`release-hook hook pre-commit` / `hook pre-push` from the tracked hooks (README: "
              f"install), or run: {command('install', '--force')}")
    assert r.out.splitlines()[1:] == [
        f"pre-commit: {hooks / 'pre-commit'} is another tool's hook, not release-hook's ({advice}, "
        "which keeps it as pre-commit.release-hook-chained)",
        f"pre-push: not installed ({advice})"], r.out
    assert cli("install", cwd=repo).code == 2  # what doctor said
    assert cli("install", "--force", cwd=repo).code == 0
    assert cli("doctor", cwd=repo).code == 0


def test_doctor_reports_what_is_installed_and_whether_it_runs(cli, repo: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    hooks = repo / ".git" / "hooks"
    r = cli("doctor", cwd=repo)
    assert r.code == 1
    assert f"hooks folder: {hooks}" in r.out
    assert f"pre-commit: not installed (run: {command('install')})" in r.out
    assert cli("install", cwd=repo).code == 0
    r = cli("install", "--check", cwd=repo)
    assert r.code == 0, r.out
    assert f"pre-push: {hooks / 'pre-push'}: can run, with {sys.executable}" in r.out
    break_python(hooks / "pre-push")
    monkeypatch.setenv("PATH", path_without_release_hook(tmp_path))
    r = cli("doctor", cwd=repo)
    assert r.code == 1
    assert (f"pre-push: {hooks / 'pre-push'}: cannot run: /gone/venv/bin/python no longer has "
            f"release_hook and no release-hook is on PATH (reinstall with: {command('install')})") in r.out
    assert f"pre-commit: {hooks / 'pre-commit'}: can run" in r.out
    # a hook from before the fallback (the Python inline, no python= line)
    old = hooks / "pre-commit"
    old.write_text(f"#!/bin/sh\n# release-hook: managed hook\n{sys.executable} -m release_hook hook pre-commit\n")
    r = cli("doctor", cwd=repo)
    assert (f"pre-commit: {old}: written by an older release-hook, without a fallback; reinstall with: "
            f"{command('install')}") in r.out
    assert cli("install", cwd=repo).code == 0 and "python=" in old.read_text()


# -- refusals with a next step ----------------------------------------------------------------

CONFLICTED = ("FROM python:3.11\n<<<<<<< HEAD\nARG NUMPYRO_VERSION=0.6.0\n=======\n"
              "ARG NUMPYRO_VERSION=0.5.0\n>>>>>>> other\nRUN pip install numpyro==${NUMPYRO_VERSION}\n")


@pytest.mark.parametrize("mode", [(), ("--no-commit",), ("--stage",), ("--check",), ("--dry-run",)])
def test_conflict_markers_are_refused(cli, repo: Path, mode: tuple[str, ...]) -> None:
    df = repo / "docker" / "release" / "Dockerfile"
    df.write_text(CONFLICTED)
    r = cli("sync", "--version", "0.7.0", "--allow-dirty", *mode, cwd=repo)
    assert r.code == 2
    assert r.err == ("release-hook: docker/release/Dockerfile:2: unresolved merge conflict marker "
                     "<<<<<<<; resolve the conflict first (nothing written)\n")
    assert df.read_text() == CONFLICTED


def test_conflict_markers_refused_at_push(cli, repo: Path) -> None:
    assert cli("install", cwd=repo).code == 0
    (repo / "docker" / "release" / "Dockerfile").write_text(CONFLICTED.replace("<<<<<<< HEAD\n", ""))
    git(repo, "commit", "-qam", "half-resolved", "--no-verify")
    r = push(repo, "main")
    assert r.returncode == 1
    assert [line for line in r.stderr.splitlines() if line.startswith("release-hook")] == [
        "release-hook: refs/heads/main: docker/release/Dockerfile:3: unresolved merge conflict marker "
        "=======; resolve the conflict first"], r.stderr
    assert git(repo.parent / "small.git", "branch").stdout == ""


def test_a_dockerfile_linking_outside_the_repository_is_refused(cli, repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "Dockerfile"
    outside.parent.mkdir()
    outside.write_text("FROM python:3.11\nRUN pip install numpyro==0.6.0\n")
    (repo / "docker" / "linked").mkdir()
    (repo / "docker" / "linked" / "Dockerfile").symlink_to(outside)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "link")
    for mode in ((), ("--no-commit",), ("--check",)):
        r = cli("sync", "--version", "0.7.0", *mode, cwd=repo)
        assert r.code == 2
        assert r.err == (f"release-hook: docker/linked/Dockerfile: a symlink to {outside.resolve()}, "
                         "outside the repository; not followed (point it inside, or give the "
                         "target's own path) (nothing written)\n")
    assert outside.read_text() == "FROM python:3.11\nRUN pip install numpyro==0.6.0\n"
    # a link inside the repository is followed as before
    (repo / "docker" / "linked" / "Dockerfile").unlink()
    (repo / "docker" / "linked" / "Dockerfile").symlink_to("../release/Dockerfile")
    assert cli("sync", "--version", "0.7.0", "--no-commit", cwd=repo).code == 0


def release_hook_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("release-hook")]


@pytest.mark.parametrize("how", ["absolute", "relative"])
def test_a_committed_dockerfile_linking_outside_the_repository_is_refused_at_push(
        cli, repo: Path, tmp_path: Path, how: str) -> None:
    outside = tmp_path / "elsewhere" / "Dockerfile"
    outside.parent.mkdir()
    outside.write_text("FROM python:3.11\nRUN pip install numpyro==0.6.0\n")
    (repo / "docker" / "linked").mkdir()
    target = str(outside) if how == "absolute" else "../../../elsewhere/Dockerfile"
    (repo / "docker" / "linked" / "Dockerfile").symlink_to(target)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "link", "--no-verify")
    assert cli("install", cwd=repo).code == 0
    r = push(repo, "main")
    assert r.returncode == 1
    assert release_hook_lines(r.stderr) == [
        f"release-hook: refs/heads/main: docker/linked/Dockerfile: a symlink to {target}, outside "
        "the repository; not followed (point it inside the repository)"], r.stderr
    assert git(repo.parent / "small.git", "branch").stdout == ""


def test_a_committed_link_inside_the_repository_is_read_through_at_push(cli, repo: Path) -> None:
    # the target is outside the Dockerfile globs, so only the link can bring its pins in
    (repo / "images").mkdir()
    (repo / "images" / "stale.txt").write_text("FROM python:3.11\nRUN pip install numpyro==0.5.0\n")
    (repo / "docker" / "linked").mkdir()
    (repo / "docker" / "linked" / "Dockerfile").symlink_to("../../images/stale.txt")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "link", "--no-verify")
    assert cli("install", cwd=repo).code == 0
    r = push(repo, "main")
    assert r.returncode == 1
    assert ("release-hook: refs/heads/main: docker/linked/Dockerfile:2: numpyro ==0.5.0, expected 0.6.0"
            in release_hook_lines(r.stderr)), r.stderr
    (repo / "images" / "stale.txt").write_text("FROM python:3.11\nRUN pip install numpyro==0.6.0\n")
    git(repo, "commit", "-qam", "in step", "--no-verify")
    r = push(repo, "main")
    assert r.returncode == 0, r.stderr
    assert release_hook_lines(r.stderr) == []


def test_tree_follows_links_as_a_checkout_would() -> None:
    from release_hook.errors import UserError
    from release_hook.files import Tree

    tree = Tree(frozenset({"images/a/Dockerfile"}),
                {"docker/Dockerfile": "../imgs/a/Dockerfile", "imgs": "images", "docker/loop": "loop",
                 "docker/up": "../../x/Dockerfile"},
                frozenset({"docker", "images", "images/a"}))
    assert tree.follow("docker/Dockerfile") == "images/a/Dockerfile"  # through a linked folder
    assert tree.follow("images/a/Dockerfile") == "images/a/Dockerfile"
    with pytest.raises(UserError, match="a loop of symbolic links"):
        tree.follow("docker/loop")
    with pytest.raises(UserError, match=r"a symlink to \.\./\.\./x/Dockerfile, outside the repository"):
        tree.follow("docker/up")


def test_a_committed_dangling_link_is_named_at_push(cli, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    (repo / "docker" / "Dockerfile.gpu").symlink_to("gpu/Dockerfile")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "dangling", "--no-verify")
    line = ("release-hook: refs/heads/main: docker/Dockerfile.gpu: dangling symbolic link (to "
            "gpu/Dockerfile), matched by docker/**/Dockerfile*")
    head = git(repo, "rev-parse", "HEAD").stdout.strip()
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"refs/heads/main {head} refs/heads/main {'0' * 40}\n"))
    r = cli("hook", "pre-push", "origin", "url", cwd=repo)
    assert (r.code, r.err) == (2, line + "\n")
    assert cli("install", cwd=repo).code == 0
    r = push(repo, "main")
    assert r.returncode == 1
    assert release_hook_lines(r.stderr) == [line], r.stderr
    assert git(repo.parent / "small.git", "branch").stdout == ""


def test_a_failed_bump_says_how_to_undo_what_bump2version_staged(cli, repo: Path) -> None:
    cfg = repo / ".bumpversion.cfg"
    cfg.write_text(BUMPVERSION.format(v="0.6.0") + "\n[bumpversion:file:README.md]\n")
    (repo / "README.md").write_text("version 0.6.0\n")
    df = repo / "docker" / "release" / "Dockerfile"
    df.write_text(df.read_text() + "RUN pip install numpyro==$UNDEFINED_VERSION\n")
    git(repo, "commit", "-qam", "broken pin")
    assert cli("install", cwd=repo).code == 0
    (repo / "notes.txt").write_text("my own staged work\n")  # bump2version --allow-dirty lets it be
    git(repo, "add", "notes.txt")
    r = subprocess.run([str(BIN / "bump2version"), "--allow-dirty", "minor"], cwd=repo, text=True,
                       capture_output=True, env=clean_env())
    assert r.returncode != 0
    assert ("release-hook: the bump was not committed or tagged; its version edits are still staged. "
            "Fix the above and commit them, or undo them with: git restore --staged --worktree -- "
            ".bumpversion.cfg README.md") in r.stderr.splitlines()
    assert git(repo, "status", "--porcelain").stdout == "M  .bumpversion.cfg\nM  README.md\nA  notes.txt\n"
    git(repo, "restore", "--staged", "--worktree", "--", ".bumpversion.cfg", "README.md")
    assert git(repo, "status", "--porcelain").stdout == "A  notes.txt\n"
    assert git(repo, "tag").stdout == ""


def test_a_failed_bump_never_offers_to_restore_the_users_own_staged_work(cli, repo: Path) -> None:
    cfg = repo / ".bumpversion.cfg"
    cfg.write_text(BUMPVERSION.format(v="0.6.0") + "\n[bumpversion:glob:docs/*.txt]\n[bumpversion:file:./setup.py]\n")
    (repo / "docs").mkdir()
    (repo / "docs" / "version.txt").write_text("0.6.0\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "docs")
    assert cli("install", cwd=repo).code == 0
    (repo / "notes.txt").write_text("my own staged work\n")
    (repo / "docs" / "more").mkdir()
    (repo / "docs" / "more" / "mine.txt").write_text("mine too\n")  # not docs/*.txt: a `*` is one folder
    git(repo, "add", "notes.txt", "docs/more/mine.txt")
    # a commit that is no bump's (the version is not one): nothing the bump tool writes is staged
    r = git(repo, "commit", "-qm", "t", check=False, env=clean_env(BUMPVERSION_NEW_VERSION="abc"))
    assert r.returncode != 0
    assert release_hook_lines(r.stderr)[-1] == "release-hook: the bump was not committed or tagged", r.stderr
    # a bump to 0.7.0 that cannot be synced (a pin of an undefined variable)
    df = repo / "docker" / "release" / "Dockerfile"
    df.write_text(df.read_text() + "RUN pip install numpyro==$UNDEFINED_VERSION\n")
    git(repo, "commit", "-qm", "broken pin", "--no-verify", "--", str(df))
    bump = clean_env(BUMPVERSION_NEW_VERSION="0.7.0", BUMPVERSION_CURRENT_VERSION="0.6.0")
    # a glob section's files are the bump tool's own: named, and the user's work is not
    (repo / "docs" / "version.txt").write_text("0.7.0\n")
    (repo / "setup.py").write_text("version = '0.7.0'\n")
    git(repo, "add", "docs/version.txt", "setup.py")
    r = git(repo, "commit", "-qm", "t", check=False, env=bump)
    assert release_hook_lines(r.stderr)[-1].endswith(
        "git restore --staged --worktree -- docs/version.txt setup.py"), r.stderr  # only version edits: no caution
    # a bump file that also holds the user's own staged edit (allow_dirty): the restore is said to take it too
    (repo / "docs" / "version.txt").write_text("0.7.0\nmy own line\n")
    git(repo, "add", "docs/version.txt")
    r = git(repo, "commit", "-qm", "t", check=False, env=bump)
    assert release_hook_lines(r.stderr)[-1].endswith(
        "git restore --staged --worktree -- docs/version.txt setup.py (careful: docs/version.txt also hold edits "
        "that are not the version's, which this discards too)"), r.stderr
    assert git(repo, "status", "--porcelain").stdout == "A  docs/more/mine.txt\nM  docs/version.txt\nA  notes.txt\nA  setup.py\n"


def test_the_readme_lines_for_tracked_hooks_work(repo: Path, tmp_path: Path) -> None:
    hooks = repo / ".githooks"
    hooks.mkdir()
    (hooks / "pre-commit").write_text('#!/bin/sh\nif [ -n "${BUMPVERSION_NEW_VERSION:-}" ]; then '
                                      'release-hook hook pre-commit || exit $?; fi\n')
    (hooks / "pre-push").write_text('#!/bin/sh\nrelease-hook hook pre-push "$@" || exit $?\n')
    for h in hooks.iterdir():
        h.chmod(0o755)
    git(repo, "add", ".githooks")
    git(repo, "commit", "-qm", "team hooks")
    git(repo, "config", "core.hooksPath", ".githooks")
    env = clean_env(PATH=f"{BIN}:{os.environ['PATH']}")
    r = subprocess.run([str(BIN / "bump2version"), "minor"], cwd=repo, text=True, capture_output=True,
                       env=env)
    assert r.returncode == 0, r.stderr
    assert "ARG NUMPYRO_VERSION=0.7.0" in git(repo, "show", "0.7.0:docker/release/Dockerfile").stdout
    df = repo / "docker" / "release" / "Dockerfile"
    df.write_text(df.read_text().replace("NUMPYRO_VERSION=0.7.0", "NUMPYRO_VERSION=0.6.0"))
    git(repo, "commit", "-qam", "stale", "--no-verify")
    r = push(repo, "main", env=env)
    assert r.returncode == 1 and "refs/heads/main: docker/release/Dockerfile:3: numpyro" in r.stderr, r.stderr


# -- the first push after adoption, and each printed fix run as printed ------------------------

SETTINGS = "[release_hook]\npackage = numpyro\npolicy =\n    docker/dev/*=latest\n"


@pytest.fixture
def adopted(cli, tmp_path: Path, index: PackageIndex) -> Path:
    """Tags 0.14.0 to 0.16.0 dated 2025 (annotated, pinned by hand, out of step by today's
    rules, no release-hook settings), then today: a commit adding [release_hook] and a sync."""
    root = tmp_path / "project"
    (root / "docker" / "release").mkdir(parents=True)
    (root / "docker" / "dev").mkdir(parents=True)
    git(root, "init", "-q")
    for version, month in (("0.14.0", "01"), ("0.15.0", "02"), ("0.16.0", "03")):
        commit_release(root, version, "0.4.31", "0.4.30", date=f"2025-{month}-20T10:00:00+00:00")
    (root / "setup.cfg").write_text(SETTINGS)
    git(root, "add", "setup.cfg")
    git(root, "commit", "-qm", "Adopt release-hook", "--no-verify")
    assert cli("sync", cwd=root).code == 0
    assert cli("sync", "--check", cwd=root).code == 0
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(root, "remote", "add", "origin", str(bare))
    return root


def off_path(tmp_path: Path) -> dict[str, str]:
    """The environment of a shell where the virtualenv is not active: PATH leads to no
    release-hook and no python with release_hook."""
    return clean_env(PATH=path_without_release_hook(tmp_path), VIRTUAL_ENV="")


def run_printed(command: str, root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A command exactly as the tool printed it, run by a POSIX shell."""
    return subprocess.run(["/bin/sh", "-c", command], cwd=root, env=env, text=True, capture_output=True)


def printed_fix(stderr: str) -> str:
    line = next(x for x in stderr.splitlines() if x.startswith("release-hook: push refused. Fix with: "))
    return line.removeprefix("release-hook: push refused. Fix with: ").removesuffix(", then push again")


def test_the_first_push_after_adoption_passes_and_a_printed_fix_runs_as_printed(
        adopted: Path, tmp_path: Path) -> None:
    env = off_path(tmp_path)
    r = subprocess.run([sys.executable, "-m", "release_hook", "install"], cwd=adopted, env=env, text=True,
                       capture_output=True)
    assert r.returncode == 0, r.stderr
    r = push(adopted, "--follow-tags", "main", env=env)
    assert r.returncode == 0, r.stderr
    for tag in ("0.14.0", "0.15.0", "0.16.0"):
        assert f"release-hook: refs/tags/{tag}: not checked: made before release-hook was adopted\n" in r.stderr
    assert "refs/heads/main" not in r.stderr  # judged, in step
    assert git(adopted.parent / "remote.git", "tag").stdout.split() == ["0.14.0", "0.15.0", "0.16.0"]
    # a stale commit made today is refused; the printed fix, run as printed, lets the next push by
    dev = adopted / "docker" / "dev" / "Dockerfile"
    dev.write_text(dev.read_text().replace("jax==0.4.31", "jax==0.4.30"))
    git(adopted, "commit", "-qam", "stale dev pin", "--no-verify")
    r = push(adopted, "main", env=env)
    assert r.returncode == 1, r.stderr
    assert "refs/heads/main: docker/dev/Dockerfile:2: jax ==0.4.30, expected 0.4.31" in r.stderr
    fix = printed_fix(r.stderr)
    assert fix == f"{sys.executable} -m release_hook sync"  # the hook's own Python: PATH has none
    done = run_printed(fix, adopted, env)
    assert done.returncode == 0, done.stderr
    r = push(adopted, "main", env=env)
    assert r.returncode == 0, r.stderr


def test_release_hook_on_path_is_printed_as_release_hook(adopted: Path, tmp_path: Path) -> None:
    env = off_path(tmp_path)
    on_path = tmp_path / "bin-with-release-hook"
    on_path.mkdir()
    (on_path / "release-hook").symlink_to(BIN / "release-hook")
    env["PATH"] = f"{on_path}:{env['PATH']}"
    assert subprocess.run([sys.executable, "-m", "release_hook", "install"], cwd=adopted, env=env).returncode == 0
    dev = adopted / "docker" / "dev" / "Dockerfile"
    dev.write_text(dev.read_text().replace("jax==0.4.31", "jax==0.4.30"))
    git(adopted, "commit", "-qam", "stale dev pin", "--no-verify")
    r = push(adopted, "main", env=env)
    assert r.returncode == 1 and printed_fix(r.stderr) == "release-hook sync", r.stderr
    assert run_printed("release-hook sync", adopted, env).returncode == 0
    assert push(adopted, "main", env=env).returncode == 0


def test_a_branch_forked_before_adoption_is_checked_once_it_merges_the_adoption(
        adopted: Path, tmp_path: Path) -> None:
    env = off_path(tmp_path)
    assert subprocess.run([sys.executable, "-m", "release_hook", "install"], cwd=adopted, env=env).returncode == 0
    git(adopted, "checkout", "-q", "-b", "old-feature", "0.16.0")
    (adopted / "README.md").write_text("a feature begun before the adoption\n")
    git(adopted, "add", "README.md")
    git(adopted, "commit", "-qm", "feature", "--no-verify")
    r = push(adopted, "old-feature", env=env)
    assert r.returncode == 0, r.stderr
    assert ("release-hook: refs/heads/old-feature: not checked: made before release-hook was adopted "
            "(no [release_hook] in its setup.cfg: it is checked once it merges the commit that adopted "
            "it)") in r.stderr
    git(adopted, "merge", "-q", "--no-edit", "main", env=clean_env())
    dev = adopted / "docker" / "dev" / "Dockerfile"
    dev.write_text(dev.read_text().replace("jax==0.4.31", "jax==0.4.30"))
    git(adopted, "commit", "-qam", "stale", "--no-verify")
    r = push(adopted, "old-feature", env=env)
    assert r.returncode == 1 and "refs/heads/old-feature: docker/dev/Dockerfile:2: jax ==0.4.30" in r.stderr


def test_a_stale_tag_gets_the_routes_a_tag_has_each_runnable_as_printed(
        adopted: Path, tmp_path: Path) -> None:
    env = off_path(tmp_path)
    assert subprocess.run([sys.executable, "-m", "release_hook", "install"], cwd=adopted, env=env).returncode == 0
    assert push(adopted, "--follow-tags", "main", env=env).returncode == 0
    # a release bumped and tagged without the hook: its Dockerfiles still say 0.16.0
    cfg = adopted / ".bumpversion.cfg"
    cfg.write_text(cfg.read_text().replace("0.16.0", "0.17.0"))
    git(adopted, "commit", "-qam", "Bump version: 0.16.0 -> 0.17.0", "--no-verify")
    git(adopted, "tag", "-a", "-m", "release 0.17.0", "0.17.0")
    r = push(adopted, "refs/tags/0.17.0", env=env)
    assert r.returncode == 1
    sync = f"{sys.executable} -m release_hook sync"
    routes = [x for x in r.stderr.splitlines() if "cannot be synced" in x]
    # main is at the tag's commit, as stale: pushing it alone would be refused too, so it is synced first
    assert routes == [
        "release-hook: push refused: refs/tags/0.17.0 cannot be synced (a sync makes a new commit; a "
        f"tag keeps naming its own): sync the branch, which is at the same commit ({sync}), then push it "
        "without the tag: git push origin main; or move the tag, "
        f"deliberately, to a synced commit: {sync}, then git tag -f -a 0.17.0 -m 0.17.0, then git push "
        "--force origin refs/tags/0.17.0"], r.stderr
    assert "Fix with" not in r.stderr  # a sync cannot change the tag
    # the first route, then the rest of the second, each step as printed
    for step in (sync, "git push origin main", "git tag -f -a 0.17.0 -m 0.17.0",
                 "git push --force origin refs/tags/0.17.0"):
        done = run_printed(step, adopted, env)
        assert done.returncode == 0, (step, done.stderr)
    assert git(adopted.parent / "remote.git", "rev-parse", "0.17.0^{commit}").stdout == \
        git(adopted, "rev-parse", "HEAD").stdout


def test_a_push_that_drops_the_settings_is_refused_not_waved_through_as_before_adoption(
        adopted: Path, tmp_path: Path) -> None:
    env = off_path(tmp_path)
    assert subprocess.run([sys.executable, "-m", "release_hook", "install"], cwd=adopted, env=env).returncode == 0
    assert push(adopted, "main", env=env).returncode == 0
    adopted_at = git(adopted, "rev-parse", "HEAD").stdout.strip()
    # the settings go (a move to pyproject.toml, say) with a stale pin: not "made before adoption"
    git(adopted, "rm", "-q", "setup.cfg")
    dev = adopted / "docker" / "dev" / "Dockerfile"
    dev.write_text(dev.read_text().replace("jax==0.4.31", "jax==0.4.30"))
    git(adopted, "commit", "-qam", "settings gone; stale pin", "--no-verify")
    r = push(adopted, "main", env=env)
    assert r.returncode != 0, r.stderr
    assert release_hook_lines(r.stderr) == [
        f"release-hook: refs/heads/main: its setup.cfg has no [release_hook], which {adopted_at[:12]} (an "
        "ancestor) has: without it nothing would be checked. Put the section back; to stop using the tool, "
        "run: release-hook uninstall"], r.stderr
    # a review server's ref is named, not passed in silence
    git(adopted, "revert", "--no-edit", "HEAD")
    r = push(adopted, "HEAD:refs/for/main", env=env)
    assert "release-hook: refs/for/main: not checked: neither a branch nor a tag" in r.stderr, r.stderr


def test_on_a_detached_head_the_printed_fix_may_commit_there(adopted: Path, tmp_path: Path) -> None:
    env = off_path(tmp_path)
    assert subprocess.run([sys.executable, "-m", "release_hook", "install"], cwd=adopted, env=env).returncode == 0
    git(adopted, "checkout", "-q", "--detach", "main")
    dev = adopted / "docker" / "dev" / "Dockerfile"
    dev.write_text(dev.read_text().replace("jax==0.4.31", "jax==0.4.30"))
    git(adopted, "commit", "-qam", "stale dev pin", "--no-verify")
    r = push(adopted, "HEAD:refs/heads/detached", env=env)
    assert r.returncode == 1, r.stderr
    fix = printed_fix(r.stderr)
    assert fix == f"{sys.executable} -m release_hook sync --allow-detached"
    assert run_printed(fix, adopted, env).returncode == 0
    assert push(adopted, "HEAD:refs/heads/detached", env=env).returncode == 0


def test_a_check_as_of_a_moment_prints_no_sync_that_judges_as_of_now(cli, history: Path,
                                                                      index: PackageIndex) -> None:
    dev = history / "docker" / "dev" / "Dockerfile"
    dev.write_text(dev.read_text().replace("jax==0.4.31", "jax==0.4.30"))
    git(history, "commit", "-qam", "stale dev pin", "--no-verify")
    when = git(history, "log", "-1", "--format=%cd", "--date=format-local:%Y-%m-%d %H:%M:%S",
               env=clean_env(TZ="UTC")).stdout.strip()
    r = cli("sync", "--check", "--as-of", "HEAD", cwd=history)
    assert r.code == 1
    assert r.err == (f"1 Dockerfile(s) out of step with numpyro 0.16.0 as of {when} UTC; a sync judges "
                     f"`latest` as of now: see what it would write with: {command('sync', '--dry-run')}\n")
    r = cli("sync", "--check", cwd=history)
    assert r.err.endswith(f"; run: {command('sync')}\n")
