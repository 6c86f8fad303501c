"""A `latest` pin is judged as the index stood when its commit was made: a commit in step
yesterday stays in step after a newer jax appears today; a commit made today is judged today.

End to end: real git, the real pre-push hook, a loopback index serving the JSON simple API
(PEP 691) with upload times (PEP 700).
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Iterator

import pytest

from conftest import git
from pkgindex import PackageIndex, serve


UTC = datetime.timezone.utc


class DatedIndex(PackageIndex):
    """The same files, served as PEP 691 JSON pages carrying each file's PEP 700 upload time."""

    uploaded: dict[str, datetime.datetime]

    def body(self, path: str, *rest: str) -> tuple[int, str, bytes]:  # rest: what the server passes
        parts = [p for p in path.split("?")[0].split("/") if p]
        if len(parts) != 2 or parts[0] != "simple" or parts[1] not in self.projects:
            return super().body(path, *rest)
        files = []
        for f in self.projects[parts[1]]:
            entry: dict[str, object] = {
                "filename": f.filename, "url": f"/files/{f.filename}",
                "hashes": {"sha256": hashlib.sha256(f.data).hexdigest()},
                "yanked": f.yanked, "size": len(f.data),
                "upload-time": self.uploaded[f.filename].strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            }
            if f.metadata is not None:
                digest = {"sha256": hashlib.sha256(f.metadata).hexdigest()}
                entry["core-metadata"] = entry["dist-info-metadata"] = digest  # PEP 714 and before
            files.append(entry)
        page = {"meta": {"api-version": "1.1"}, "name": parts[1], "files": files,
                "versions": sorted({f["filename"].split("-")[1] for f in files})}  # type: ignore[index]
        return 200, "application/vnd.pypi.simple.v1+json", json.dumps(page).encode()

    def dated_wheel(self, name: str, version: str, when: datetime.datetime, requires: list[str] = (),  # type: ignore[assignment]
                    tag: str = "py3-none-any") -> None:
        self.wheel(name, version, requires, tag=tag)
        self.uploaded[self.projects[name][-1].filename] = when


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DatedIndex]:
    idx = DatedIndex(tmp_path / "index")
    idx.uploaded = {}
    long_ago = datetime.datetime(2024, 7, 1, tzinfo=UTC)
    idx.dated_wheel("jax", "0.4.30", long_ago, ["jaxlib<=0.4.30,>=0.4.30"])
    idx.dated_wheel("jaxlib", "0.4.30", long_ago, tag="cp311-cp311-manylinux2014_x86_64")
    idx.dated_wheel("numpyro", "0.16.0", long_ago, ["jax>=0.4.30", "jaxlib>=0.4.30"])
    server, _ = serve(idx)
    monkeypatch.setenv("PIP_INDEX_URL", idx.url)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL", raising=False)
    monkeypatch.setenv("RELEASE_HOOK_TIMEOUT", "5")
    yield idx
    server.shutdown()
    server.server_close()


DEV = ("FROM python:3.11\nRUN pip install jax==0.4.30 jaxlib==0.4.30\n"
       "RUN git clone --branch 0.16.0 https://github.com/pyro-ppl/numpyro.git\n")


def test_a_latest_commit_in_step_yesterday_stays_in_step(cli, tmp_path: Path, index: DatedIndex) -> None:
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
    index.dated_wheel("jax", "0.4.31", later, ["jaxlib<=0.4.31,>=0.4.30"])
    index.dated_wheel("jaxlib", "0.4.31", later, tag="cp311-cp311-manylinux2014_x86_64")
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
