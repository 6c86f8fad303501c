"""A `latest` pin is judged as the index stood when its commit was made: a commit in step
yesterday stays in step after a newer jax appears today; a commit made today is judged today.

End to end: real git, the real pre-push hook, a loopback index serving the JSON simple API
(PEP 691) with upload times (PEP 700).
"""
from __future__ import annotations

import datetime
import json
import os
import shutil
from pathlib import Path
from typing import Iterator

import pytest

from conftest import git
from pkgindex import PackageIndex, served_as_pips_index


UTC = datetime.timezone.utc


def dated(idx: PackageIndex, name: str, version: str, when: datetime.datetime, requires: list[str] = (),  # type: ignore[assignment]
          tag: str = "py3-none-any") -> None:
    """A wheel whose JSON page entry carries its PEP 700 upload time."""
    idx.wheel(name, version, list(requires), tag=tag, upload_time=when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PackageIndex]:
    idx = PackageIndex(tmp_path / "index")
    long_ago = datetime.datetime(2024, 7, 1, tzinfo=UTC)
    dated(idx, "jax", "0.4.30", long_ago, ["jaxlib<=0.4.30,>=0.4.30"])
    dated(idx, "jaxlib", "0.4.30", long_ago, tag="cp311-cp311-manylinux2014_x86_64")
    dated(idx, "numpyro", "0.16.0", long_ago, ["jax>=0.4.30", "jaxlib>=0.4.30"])
    with served_as_pips_index(idx, monkeypatch, "5"):
        yield idx


DEV = ("FROM python:3.11\nRUN pip install jax==0.4.30 jaxlib==0.4.30\n"
       "RUN git clone --branch 0.16.0 https://github.com/pyro-ppl/numpyro.git\n")


def test_a_latest_commit_in_step_yesterday_stays_in_step(cli, tmp_path: Path, index: PackageIndex) -> None:
    now = datetime.datetime.now(UTC).replace(microsecond=0)
    yesterday = now - datetime.timedelta(days=1)
    root = tmp_path / "project"
    (root / "docker" / "dev").mkdir(parents=True)
    (root / "docker" / "dev" / "Dockerfile").write_text(DEV)
    (root / ".bumpversion.cfg").write_text("[bumpversion]\ncurrent_version = 0.16.0\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    env = {**os.environ, "GIT_COMMITTER_DATE": yesterday.isoformat(), "GIT_AUTHOR_DATE": yesterday.isoformat()}
    git(root, "commit", "-qm", "in step yesterday", env=env)
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(root, "remote", "add", "origin", str(bare))
    assert cli("sync", "--check", cwd=root).code == 0
    assert cli("install", cwd=root).code == 0

    # jax 0.4.31 appears on the index after the commit was made
    later = now - datetime.timedelta(minutes=5)
    dated(index, "jax", "0.4.31", later, ["jaxlib<=0.4.31,>=0.4.30"])
    dated(index, "jaxlib", "0.4.31", later, tag="cp311-cp311-manylinux2014_x86_64")
    shutil.rmtree(os.environ["RELEASE_HOOK_CACHE_DIR"], ignore_errors=True)  # no remembered page

    r = cli("sync", "--check", cwd=root)  # the work tree is judged today
    assert r.code == 1 and "docker/dev/Dockerfile:2: jax ==0.4.30, expected 0.4.31" in r.out, r.out + r.err
    r = cli("sync", "--check", "--explain", "--as-of", "HEAD", cwd=root)  # as the commit was made
    assert r.code == 0, r.out + r.err
    assert yesterday.date().isoformat() in r.out  # --explain shows the date used

    r = git(root, "push", "origin", "main", check=False)
    assert r.returncode == 0, r.stderr
    # the same pins committed today are judged against today's index
    (root / "README.md").write_text("today\n")
    git(root, "add", "README.md")
    git(root, "commit", "-qm", "made today", "--no-verify")
    r = git(root, "push", "origin", "main", check=False)
    assert r.returncode == 1
    assert "refs/heads/main: docker/dev/Dockerfile:2: jax ==0.4.30, expected 0.4.31" in r.stderr


def test_a_mirror_that_dates_some_projects_only_is_judged_with_all_releases_of_the_others(
        cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A mirror with PEP 700 dates for jax but none for scipy: uv, asked as of the commit with
    --exclude-newer, leaves out every file without a date, so the pins that install were
    refused ("no jax/jaxlib pair ... installs") at --as-of and at every push of a `latest`
    image. When the index cannot say when scipy was published, all its releases are
    considered (as the tool's own view of the index does), and the proof says so."""
    monkeypatch.setenv("RELEASE_HOOK_VERIFY", "1")
    idx = PackageIndex(tmp_path / "index")
    long_ago = datetime.datetime(2024, 7, 1, tzinfo=UTC)
    dated(idx, "jax", "0.4.30", long_ago, ["jaxlib<=0.4.30,>=0.4.30", "scipy>=1.9", "opt-einsum"])
    dated(idx, "jaxlib", "0.4.30", long_ago, tag="cp311-cp311-manylinux2014_x86_64")
    dated(idx, "numpyro", "0.16.0", long_ago, ["jax>=0.4.30", "jaxlib>=0.4.30"])
    idx.wheel("scipy", "1.11.4", [])  # no upload-time
    idx.sdist("opt-einsum", "3.3.0", {})  # a name with a dash, as a source archive
    idx.wheel("opt-einsum", "3.3.0", [])
    with served_as_pips_index(idx, monkeypatch, "5"):
        root = tmp_path / "project"
        (root / "docker" / "dev").mkdir(parents=True)
        (root / "docker" / "dev" / "Dockerfile").write_text(DEV.replace("jaxlib==0.4.30", "jaxlib==0.4.30 scipy==1.11.4"))
        (root / ".bumpversion.cfg").write_text("[bumpversion]\ncurrent_version = 0.16.0\n")
        git(root, "init", "-q")
        git(root, "add", "-A")
        git(root, "commit", "-qm", "in step")
        r = cli("sync", "--check", "--explain", "--as-of", "HEAD", cwd=root)
        assert r.code == 0, r.out + r.err
        proof = next(line for line in r.out.splitlines() if "proof:" in line)
        assert "installs it for Python 3.11" in proof, r.out
        assert ("(the index gives no date for files of opt-einsum, scipy: all their releases were "
                "considered)") in proof, proof
        bare = tmp_path / "remote.git"
        git(tmp_path, "init", "-q", "--bare", str(bare))
        git(root, "remote", "add", "origin", str(bare))
        assert cli("install", cwd=root).code == 0
        r = git(root, "push", "origin", "main", check=False)
        assert r.returncode == 0, r.stderr


def test_an_answer_that_took_all_releases_of_an_undated_project_is_not_kept_as_settled(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An answer as of a past moment is kept 30 days: the index's files up to then do not change.
    One for which a project without upload dates was judged with all its releases is not of that
    kind (its next release changes it), and was kept as long; it is kept as an answer as of now."""
    import time

    from release_hook import cache
    from release_hook.resolve import solver
    from release_hook.resolve.image import Target

    monkeypatch.setenv("RELEASE_HOOK_CACHE_DIR", str(tmp_path / "cache"))
    idx = PackageIndex(tmp_path / "index")
    long_ago = datetime.datetime(2024, 7, 1, tzinfo=UTC)
    dated(idx, "jax", "0.4.30", long_ago, ["scipy>=1.9"])
    dated(idx, "jaxlib", "0.4.30", long_ago)
    idx.wheel("scipy", "1.11.4", [])  # no upload-time
    target = Target((3, 11), "linux/amd64", "x86_64", 35)
    uv = solver.choose()
    with served_as_pips_index(idx, monkeypatch, "5"):
        for requirement, undated in (("jaxlib==0.4.30", False), ("jax==0.4.30", True)):
            question = solver.Ask((requirement,), target, exclude_newer=long_ago + datetime.timedelta(days=1))
            answer = solver.ask(question, uv)
            assert answer.state == "installs", answer
            assert ("no date for files of scipy" in answer.reason) == undated, answer
            key = "answer " + json.dumps([question.key(), uv.name, solver.index_settings()])
            kept = cache.get(key, None)["until"] - time.time()
            assert kept <= solver.ANSWER_TTL if undated else kept > solver.ANSWER_TTL, (requirement, kept)
