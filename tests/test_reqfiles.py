"""Pins where most Dockerfiles keep them: requirements and constraints files that a COPY, ADD or
bind mount puts where `pip install -r` / `-c` reads them. Real git repositories, the loopback
index of issue 14's conflicts, the real bump2version and real pushes."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from conftest import git
from indexes import rows_index
from pkgindex import PackageIndex, served_as_pips_index

BIN = Path(sys.executable).parent
DOCKERFILE = ("FROM python:3.12-slim\nCOPY requirements.txt /tmp/requirements.txt\n"
              "RUN pip install --no-cache-dir -r /tmp/requirements.txt\n")
REQUIREMENTS = "numpyro==0.15.0\njax==0.4.25\njaxlib==0.4.25\nscipy==1.11.4\n"


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PackageIndex]:
    monkeypatch.delenv("RELEASE_HOOK_VERIFY", raising=False)
    with served_as_pips_index(rows_index(tmp_path / "index"), monkeypatch) as served:
        yield served


def repo(tmp_path: Path, files: dict[str, str], settings: str = "") -> Path:
    root = tmp_path / "project"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "setup.cfg").write_text("[release_hook]\nrequirements = index\npolicy = latest\n" + settings)
    (root / ".bumpversion.cfg").write_text("[bumpversion]\ncurrent_version = 0.19.0\ncommit = True\n"
                                           "tag = True\ntag_name = {new_version}\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "init")
    return root


def test_check_names_the_requirements_file_line_and_sync_commits_it(cli, tmp_path: Path, index: PackageIndex) -> None:
    """Issue 15's first case: the file was left alone and --check passed silently."""
    root = repo(tmp_path, {"docker/Dockerfile": DOCKERFILE, "docker/requirements.txt": REQUIREMENTS})
    r = cli("sync", "--check", "docker/Dockerfile", cwd=root)
    assert r.code == 1, r.err
    assert "docker/requirements.txt:1: numpyro ==0.15.0, expected 0.19.0" in r.out
    assert "docker/requirements.txt:2: jax ==0.4.25, expected 0.6.1" in r.out
    assert "1 file(s) out of step" in r.err
    r = cli("sync", "docker/Dockerfile", cwd=root)
    assert r.code == 0, r.err
    assert (root / "docker/requirements.txt").read_text() == "numpyro==0.19.0\njax==0.6.1\njaxlib==0.6.1\nscipy==1.11.4\n"
    assert git(root, "show", "--name-only", "--format=", "HEAD").stdout.split() == ["docker/requirements.txt"]
    assert cli("sync", "--check", "docker/Dockerfile", cwd=root).code == 0


def test_the_build_context_from_the_settings(cli, tmp_path: Path, index: PackageIndex) -> None:
    """`docker build -f docker/Dockerfile .`: COPY reads from the repository's root."""
    text = DOCKERFILE.replace("COPY requirements.txt", "COPY docker/pins/requirements.txt")
    root = repo(tmp_path, {"docker/Dockerfile": text, "docker/pins/requirements.txt": REQUIREMENTS})
    r = cli("sync", "--check", "docker/Dockerfile", cwd=root)
    assert r.code == 0 and "not read (docker/docker/pins/requirements.txt is not in the repository)" in r.err, r.err
    (root / "setup.cfg").write_text((root / "setup.cfg").read_text() + "context = docker/*=.\n")
    r = cli("sync", "--check", "docker/Dockerfile", cwd=root)
    assert r.code == 1 and "docker/pins/requirements.txt:2: jax ==0.4.25, expected 0.6.1" in r.out, r.out + r.err


def test_one_line_two_images_need_differently_is_refused_with_advice_that_fits(cli, tmp_path: Path) -> None:
    root = tmp_path / "shared"
    (root / "docker" / "cpu").mkdir(parents=True)
    (root / "docker" / "cuda").mkdir(parents=True)
    (root / "requirements").mkdir()
    (root / "setup.cfg").write_text("[release_hook]\ncontext = docker/*/Dockerfile=.\n")
    (root / "requirements" / "jax.txt").write_text("numpyro==0.13.2\njax==0.4.20\njaxlib==0.4.20\n")
    (root / "docker" / "cpu" / "Dockerfile").write_text(
        "FROM python:3.12-slim\nCOPY requirements/jax.txt /tmp/jax.txt\nRUN pip install -r /tmp/jax.txt\n")
    (root / "docker" / "cuda" / "Dockerfile").write_text(
        "FROM nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04\nCOPY requirements/jax.txt /tmp/jax.txt\n"
        "RUN pip install -r /tmp/jax.txt -f https://example.invalid/jax-releases/jax_cuda_releases.html\n")
    r = cli("sync", "docker", "--no-commit", "--offline", "--pin", "jax==0.4.25", "--pin", "jaxlib==0.4.25",
            "--version", "0.13.2", cwd=root)
    assert (r.code, r.err) == (2, "release-hook: requirements/jax.txt:3: jaxlib here is read by two images that need "
                                  "different versions (python:3.12-slim: '0.4.25'; nvidia/cuda:11.8.0-cudnn8-runtime-"
                                  "ubuntu22.04: '0.4.25+cuda11.cudnn86'), and one line cannot hold both: give each "
                                  "image a file (or variable) of its own\n"), r.err  # not "separate variables"


def test_a_requirements_file_outside_the_repository_is_not_rewritten(cli, tmp_path: Path, index: PackageIndex) -> None:
    outside = tmp_path / "elsewhere" / "requirements.txt"
    outside.parent.mkdir()
    outside.write_text(REQUIREMENTS)
    root = repo(tmp_path, {"docker/Dockerfile": DOCKERFILE})
    (root / "docker" / "requirements.txt").symlink_to(outside)
    r = cli("sync", "--no-commit", "docker/Dockerfile", cwd=root)
    assert (r.code, r.err) == (2, f"release-hook: docker/requirements.txt: a symlink to {outside}, outside the "
                                  "repository; not followed (point it inside, or give the target's own path) "
                                  "(nothing written)\n")
    (root / "docker" / "requirements.txt").unlink()
    (root / "setup.cfg").write_text((root / "setup.cfg").read_text() + "context = docker/*=../elsewhere\n")
    r = cli("sync", "--no-commit", "docker/Dockerfile", cwd=root)
    assert (r.code, r.err) == (2, f"release-hook: {outside}: outside the repository (through the build context's "
                                  "setting); not rewritten (nothing written)\n")
    assert outside.read_text() == REQUIREMENTS and (root / "docker/Dockerfile").read_text() == DOCKERFILE


def test_a_bind_mount_and_nested_files_keep_every_other_byte(cli, tmp_path: Path, index: PackageIndex) -> None:
    text = ("FROM python:3.12-slim\nWORKDIR /src\n"
            "RUN --mount=type=bind,source=reqs,target=/src/reqs pip install -r reqs/main.txt\n")
    main = "# the image's pins\r\n-r base.txt  # jax and friends\r\nnumpyro==0.15.0 ; python_version >= \"3.9\"\r\n"
    base = "\ufeff-c constraints.txt\njax==0.4.25 \\\n    # a continuation, then a comment\njaxlib==0.4.25\n"
    root = repo(tmp_path, {"docker/Dockerfile": text, "docker/reqs/main.txt": main,
                           "docker/reqs/base.txt": base, "docker/reqs/constraints.txt": "scipy<1.12\n"})
    r = cli("sync", "--no-commit", "docker/Dockerfile", cwd=root)
    assert r.code == 0, r.err
    assert (root / "docker/reqs/main.txt").read_bytes() == main.replace("0.15.0", "0.19.0").encode()
    assert (root / "docker/reqs/base.txt").read_text(encoding="utf-8") == base.replace("0.4.25", "0.6.1")


def test_a_constraints_file_that_pins_jax(cli, tmp_path: Path, index: PackageIndex) -> None:
    text = ("FROM python:3.12-slim\nCOPY constraints.txt /etc/pip/constraints.txt\n"
            "ENV PIP_CONSTRAINT=/etc/pip/constraints.txt\nRUN pip install numpyro==0.15.0 jax jaxlib\n")
    root = repo(tmp_path, {"Dockerfile": text, "constraints.txt": "jax==0.4.25\njaxlib==0.4.25\nscipy==1.11.4\n"})
    r = cli("sync", "--no-commit", "Dockerfile", cwd=root)
    assert r.code == 0, r.err
    assert (root / "constraints.txt").read_text() == "jax==0.6.1\njaxlib==0.6.1\nscipy==1.11.4\n"


def test_one_file_shared_by_two_images_gets_a_pair_both_accept(cli, tmp_path: Path, index: PackageIndex) -> None:
    """Alone, the Python 3.12 image would take jax 0.10.2; the 3.11 image, whose file is the
    same, makes no difference here but the scipy==1.11.4 both install does: one pair, 0.6.1."""
    both = {"docker/a/Dockerfile": DOCKERFILE.replace("COPY requirements.txt", "COPY shared/requirements.txt"),
            "docker/b/Dockerfile": DOCKERFILE.replace("COPY requirements.txt", "COPY shared/requirements.txt")
            .replace("python:3.12", "python:3.11"),
            "docker/shared/requirements.txt": REQUIREMENTS}
    root = repo(tmp_path, both, "context = docker/*=docker\n")
    r = cli("sync", "--no-commit", cwd=root)
    assert r.code == 0, r.err
    assert (root / "docker/shared/requirements.txt").read_text().splitlines()[1:3] == ["jax==0.6.1", "jaxlib==0.6.1"]
    assert r.out.count("docker/shared/requirements.txt:2: jax 0.4.25 -> 0.6.1") == 1  # written once


def test_a_file_the_tool_cannot_place_is_named_at_its_line(cli, tmp_path: Path, index: PackageIndex) -> None:
    text = ("FROM python:3.12-slim AS build\nRUN echo 'jax==0.4.25' > /r.txt\n"
            "FROM python:3.12-slim\nCOPY --from=build /r.txt /r.txt\nRUN pip install -r /r.txt\n")
    root = repo(tmp_path, {"Dockerfile": text})
    r = cli("sync", "--check", "Dockerfile", cwd=root)
    assert "Dockerfile:5: -r /r.txt: not read (COPY --from=build at line 4)" in r.err, r.err


def test_the_bump_carries_the_requirements_file_and_a_stale_one_is_refused_at_push(
        cli, tmp_path: Path, index: PackageIndex) -> None:
    root = repo(tmp_path, {"docker/Dockerfile": DOCKERFILE,
                           "docker/requirements.txt": REQUIREMENTS.replace("0.15.0", "0.19.0")
                           .replace("0.4.25", "0.6.1")})
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(root, "remote", "add", "origin", str(bare))
    assert cli("install", cwd=root).code == 0
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("BUMPVERSION_")}
    done = subprocess.run([str(BIN / "bump2version"), "--new-version", "0.22.0", "patch"], cwd=root, text=True,
                          capture_output=True, env=env)
    # numpyro 0.22.0 needs jax 0.7.0, which no SciPy 1.11.4 allows: the bump is refused, nothing tagged
    assert done.returncode != 0 and "no jax >=0.7.0 installs beside scipy==1.11.4" in done.stderr, done.stderr
    assert git(root, "tag").stdout == ""
    git(root, "restore", "--staged", "--worktree", "--", ".bumpversion.cfg")  # as the hook said
    (root / "docker/requirements.txt").write_text((root / "docker/requirements.txt").read_text()
                                                  .replace("scipy==1.11.4", "scipy==1.15.0"))
    git(root, "commit", "-qam", "a newer scipy")
    done = subprocess.run([str(BIN / "bump2version"), "--new-version", "0.22.0", "patch"], cwd=root, text=True,
                          capture_output=True, env=env)
    assert done.returncode == 0, done.stderr
    assert sorted(git(root, "show", "--name-only", "--format=", "0.22.0^{commit}").stdout.split()) == [
        ".bumpversion.cfg", "docker/requirements.txt"]
    assert "jax==0.10.2" in git(root, "show", "0.22.0:docker/requirements.txt").stdout
    assert git(root, "push", "-q", "origin", "HEAD:refs/heads/main", "--tags", check=False, env=env).returncode == 0
    (root / "docker/requirements.txt").write_text((root / "docker/requirements.txt").read_text()
                                                  .replace("jax==0.10.2", "jax==0.7.0"))
    git(root, "commit", "-qam", "hand-edited")
    pushed = git(root, "push", "origin", "HEAD:refs/heads/main", check=False, env=env)
    assert pushed.returncode != 0
    assert "refs/heads/main: docker/requirements.txt:2: jax ==0.7.0, expected 0.10.2" in pushed.stderr, pushed.stderr


# -- versions a Dockerfile's variable gives (`jax==${JAX_VERSION}`) ------------------------------

ENV_DOCKERFILE = ("FROM python:3.12-slim\r\nENV JAX_VERSION=\"0.4.25\" \\\r\n    OTHER=0.4.25\r\n"
                  "COPY requirements.txt /tmp/requirements.txt\r\nRUN pip install -r /tmp/requirements.txt\r\n")
ENV_REQUIREMENTS = "numpyro==0.15.0\njax==${JAX_VERSION}\njaxlib==${JAX_VERSION}  # the image's ENV\nscipy==1.11.4\n"


def test_a_version_the_dockerfiles_env_gives_is_judged_and_moved_where_it_is_set(
        cli, tmp_path: Path, index: PackageIndex) -> None:
    """pip expands `${JAX_VERSION}` from the RUN's environment, which the ENV line sets: the
    pin was left alone with a warning, and numpyro moved without its jax."""
    root = repo(tmp_path, {"docker/Dockerfile": ENV_DOCKERFILE, "docker/requirements.txt": ENV_REQUIREMENTS})
    r = cli("sync", "--check", "docker/Dockerfile", cwd=root)
    assert (r.code, r.out) == (1, "docker/requirements.txt:2: jax ==0.4.25, expected 0.6.1 (set at docker/Dockerfile:2)\n"
                                  "docker/requirements.txt:3: jaxlib ==0.4.25, expected 0.6.1 (set at docker/Dockerfile:2)\n"
                                  "docker/requirements.txt:1: numpyro ==0.15.0, expected 0.19.0\n"), r.out + r.err
    assert "warning" not in r.err, r.err
    r = cli("sync", "--dry-run", "docker/Dockerfile", cwd=root)
    assert r.code == 0, r.err
    assert "  docker/requirements.txt:2: jax ==0.4.25 (set at docker/Dockerfile:2) -> 0.6.1 [release needs" in r.out
    assert '-ENV JAX_VERSION="0.4.25" \\\r\n+ENV JAX_VERSION="0.6.1" \\\r\n' in r.out, r.out
    assert "-jax==${JAX_VERSION}" not in r.out
    r = cli("sync", "docker/Dockerfile", cwd=root)
    assert r.code == 0, r.err
    assert "docker/requirements.txt:2: jax 0.4.25 -> 0.6.1 (set at docker/Dockerfile:2)\n" in r.out
    assert (root / "docker/Dockerfile").read_bytes() == ENV_DOCKERFILE.replace('"0.4.25"', '"0.6.1"').encode()
    assert (root / "docker/requirements.txt").read_text() == ENV_REQUIREMENTS.replace("0.15.0", "0.19.0")
    assert sorted(git(root, "show", "--name-only", "--format=", "HEAD").stdout.split()) == [
        "docker/Dockerfile", "docker/requirements.txt"]
    assert cli("sync", "--check", "docker/Dockerfile", cwd=root).code == 0


def test_a_stale_env_value_is_refused_at_push(cli, tmp_path: Path, index: PackageIndex) -> None:
    root = repo(tmp_path, {"docker/Dockerfile": ENV_DOCKERFILE.replace("0.4.25", "0.6.1"),
                           "docker/requirements.txt": ENV_REQUIREMENTS.replace("0.15.0", "0.19.0")})
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(root, "remote", "add", "origin", str(bare))
    assert cli("install", cwd=root).code == 0
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("BUMPVERSION_")}
    assert git(root, "push", "-q", "origin", "HEAD:refs/heads/main", check=False, env=env).returncode == 0
    (root / "docker/Dockerfile").write_text(ENV_DOCKERFILE.replace('"0.4.25"', '"0.4.26"').replace("0.4.25", "0.6.1"),
                                            newline="")
    git(root, "commit", "-qam", "hand-edited")
    pushed = git(root, "push", "origin", "HEAD:refs/heads/main", check=False, env=env)
    assert pushed.returncode != 0
    assert ("refs/heads/main: docker/requirements.txt:2: jax ==0.4.26, expected 0.6.1 (set at docker/Dockerfile:2)"
            in pushed.stderr), pushed.stderr


TWO_READERS = ("FROM python:3.12-slim AS cpu\nENV JAX_VERSION=0.4.25\nCOPY requirements.txt /tmp/\n"
               "RUN pip install -r /tmp/requirements.txt\nFROM python:3.11-slim\nARG JAX_VERSION=0.4.26\n"
               "COPY requirements.txt /tmp/\nRUN pip install -r /tmp/requirements.txt\n")


def test_one_line_two_runs_give_their_own_values_moves_each_where_it_is_set(
        cli, tmp_path: Path, index: PackageIndex) -> None:
    """Each stage's pip reads the line with its own variable: each value is judged and moved
    for its own image (this was refused as 'one line cannot follow both'; a hand-edited drift
    in one of them could then not be synced back)."""
    root = repo(tmp_path, {"docker/Dockerfile": TWO_READERS, "docker/requirements.txt": ENV_REQUIREMENTS})
    r = cli("sync", "--check", "docker/Dockerfile", cwd=root)
    assert r.code == 1, r.err
    assert "docker/requirements.txt:2: jax ==0.4.25, expected 0.6.1 (set at docker/Dockerfile:2)\n" in r.out, r.out
    assert "docker/requirements.txt:2: jax ==0.4.26, expected 0.6.1 (set at docker/Dockerfile:6)\n" in r.out, r.out
    assert cli("sync", "docker/Dockerfile", cwd=root).code == 0
    assert (root / "docker/Dockerfile").read_text() == TWO_READERS.replace("0.4.25", "0.6.1").replace("0.4.26", "0.6.1")
    assert (root / "docker/requirements.txt").read_text() == ENV_REQUIREMENTS.replace("0.15.0", "0.19.0")
    assert cli("sync", "--check", "docker/Dockerfile", cwd=root).code == 0


@pytest.mark.parametrize("dockerfile, error", [
    ("FROM python:3.12-slim\nARG JAX_VERSION\nCOPY requirements.txt /tmp/\nRUN pip install -r /tmp/requirements.txt\n",
     "docker/requirements.txt:2: jax==${JAX_VERSION}: JAX_VERSION has no value where docker/Dockerfile:4 reads "
     "this file (no ENV, or ARG with a value, sets it before in that stage; an ARG before FROM counts only where "
     "the stage declares it again), so pip would read the line as written and refuse it"),
    ("ARG JAX_VERSION=0.4.25\nFROM python:3.12-slim\nCOPY requirements.txt /tmp/\n"
     "RUN pip install -r /tmp/requirements.txt\n",
     "docker/requirements.txt:2: jax==${JAX_VERSION}: JAX_VERSION has no value where docker/Dockerfile:4 reads "
     "this file (no ENV, or ARG with a value, sets it before in that stage; an ARG before FROM counts only where "
     "the stage declares it again), so pip would read the line as written and refuse it"),
])
def test_a_variable_the_run_leaves_unset_is_refused_at_its_line(
        cli, tmp_path: Path, index: PackageIndex, dockerfile: str, error: str) -> None:
    root = repo(tmp_path, {"docker/Dockerfile": dockerfile, "docker/requirements.txt": ENV_REQUIREMENTS})
    for mode in ("--check", "--dry-run", "--no-commit"):
        r = cli("sync", mode, "docker/Dockerfile", cwd=root)
        assert (r.code, r.out, r.err) == (2, "", f"release-hook: {error}\n"), (mode, r.err)
    assert (root / "docker/Dockerfile").read_text() == dockerfile
    assert (root / "docker/requirements.txt").read_text() == ENV_REQUIREMENTS


def test_an_env_edit_for_one_pin_must_not_move_another_that_reads_it(cli, tmp_path: Path) -> None:
    """The plan reads every pin again through the edits, those of the files the RUN reads too."""
    text = ("FROM python:3.12-slim\nARG MAJ=0.4\nARG MIN=20\nCOPY requirements.txt /tmp/\n"
            "RUN pip install -r /tmp/requirements.txt\n")
    pins = "numpyro==0.6.0\njax==${MAJ}.${MIN}\njaxlib==${MAJ}.20\n"
    root = repo(tmp_path, {"docker/Dockerfile": text, "docker/requirements.txt": pins})
    r = cli("sync", "docker/Dockerfile", "--version", "1", "--pin", "jax==0.5.0", "--pin", "jaxlib==0.4.20",
            "--no-commit", cwd=root)
    assert (r.code, r.err) == (2, "release-hook: docker/requirements.txt:3: jaxlib would read '0.5.20' instead of "
                                  "'0.4.20': its version shares characters with another pin's; give each a version "
                                  "of its own\n")
    assert (root / "docker/Dockerfile").read_text() == text and (root / "docker/requirements.txt").read_text() == pins
    r = cli("sync", "docker/Dockerfile", "--version", "1", "--pin", "jax==0.4.30", "--pin", "jaxlib==0.4.20",
            "--no-commit", cwd=root)
    assert r.code == 0, r.err
    assert (root / "docker/Dockerfile").read_text() == text.replace("MIN=20", "MIN=30")
    assert (root / "docker/requirements.txt").read_text() == pins.replace("0.6.0", "1")


# -- hash locks -----------------------------------------------------------------------------------

HASHED = ("FROM python:3.11-slim\nCOPY requirements.txt /tmp/requirements.txt\n"
          "RUN pip install --require-hashes --no-deps -r /tmp/requirements.txt\n")


def test_a_hash_locked_file_gets_the_new_versions_hashes_and_installs(cli, tmp_path: Path,
                                                                     index: PackageIndex) -> None:
    """A version rewritten without its hashes fails the build: the new release's hashes come
    from the index, in the lock's own layout, and pip installs the file with --require-hashes."""
    from test_lockhashes import index_files, install, lock_for

    files = index_files(index, "numpyro", "jax", "jaxlib", "scipy")
    old = lock_for(files, {"numpyro": "0.15.0", "jax": "0.4.25", "jaxlib": "0.4.25", "scipy": "1.11.4"})
    root = repo(tmp_path, {"Dockerfile": HASHED, "requirements.txt": old})
    r = cli("sync", "--no-commit", "Dockerfile", "--version", "0.19.0", cwd=root)
    assert r.code == 0, r.err
    lock = root / "requirements.txt"
    assert lock.read_text() == lock_for(files, {"numpyro": "0.19.0", "jax": "0.6.1", "jaxlib": "0.6.1",
                                               "scipy": "1.11.4"})
    done = install(tmp_path, lock, "pip")
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_compiled_lock_is_compiled_again_for_the_new_versions(cli, tmp_path: Path, index: PackageIndex) -> None:
    """Its other pins are the compile's output: SciPy 1.11.4 moves with jax, as a re-lock moves it."""
    from test_relock import compile_lock

    root = repo(tmp_path, {"Dockerfile": HASHED.replace("3.11", f"{sys.version_info[0]}.{sys.version_info[1]}")})
    old = compile_lock(root, "numpyro\njax\njaxlib\n", "numpyro==0.15.0", "jax==0.4.25", "jaxlib==0.4.25",
                       "scipy==1.11.4")
    assert "scipy==1.11.4" in old
    git(root, "add", "-A")
    git(root, "commit", "-qm", "a lock")
    r = cli("sync", "--no-commit", "Dockerfile", "--version", "0.19.0", cwd=root)
    assert r.code == 0, r.err
    lock = (root / "requirements.txt").read_text()
    assert lock.startswith(old.split("\n", 2)[0]) and "jax==0.10.2 \\" in lock and "scipy==1.15.0 \\" in lock, lock
    from test_lockhashes import install

    done = install(tmp_path, root / "requirements.txt", "uv")
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_lock_that_cannot_be_compiled_again_is_refused_with_the_command(cli, tmp_path: Path,
                                                                         index: PackageIndex) -> None:
    from test_lockhashes import index_files, lock_for

    files = index_files(index, "numpyro", "jax", "jaxlib")
    text = ("# This file was autogenerated by uv via the following command:\n"
            "#    uv pip compile requirements.in -o requirements.txt --generate-hashes\n"
            + lock_for(files, {"numpyro": "0.15.0", "jax": "0.4.25", "jaxlib": "0.4.25"}))
    root = repo(tmp_path, {"Dockerfile": HASHED, "requirements.txt": text})  # requirements.in is missing
    r = cli("sync", "--no-commit", "Dockerfile", "--version", "0.19.0", cwd=root)
    assert r.code == 2 and r.err.count("\n") == 1, r.err
    assert r.err.startswith("release-hook: requirements.txt:2: cannot re-lock: its input requirements.in is "
                            "not beside it; run in .: uv pip compile requirements.in -o requirements.txt "
                            "--generate-hashes --upgrade-package numpyro==0.19.0 --upgrade-package jax=="), r.err
    assert (root / "requirements.txt").read_text() == text


DEFAULTED = ("FROM python:3.12-slim\nARG JAX_VERSION\nENV JAX_VERSION=${JAX_VERSION:-0.4.25}\n"
             "COPY requirements.txt /tmp/requirements.txt\nRUN pip install -r /tmp/requirements.txt\n")


def test_a_version_an_env_takes_from_its_default_word_is_judged_and_moved_there(
        cli, tmp_path: Path, index: PackageIndex) -> None:
    """`${NAME:-word}`: with no --build-arg the ARG has no value and the ENV takes the word. The
    pin was left alone as unseen ("which the tool cannot see") and --check passed with numpyro
    moved alone."""
    root = repo(tmp_path, {"docker/Dockerfile": DEFAULTED, "docker/requirements.txt": ENV_REQUIREMENTS})
    judged_then_moved(cli, root, DEFAULTED.replace(":-0.4.25}", ":-0.6.1}"))


def judged_then_moved(cli, root: Path, after: str) -> None:  # type: ignore[no-untyped-def]
    """jax of docker/requirements.txt:2, set at docker/Dockerfile:3: out of step, then moved
    there by a sync to `after`, then in step."""
    r = cli("sync", "--check", "docker/Dockerfile", cwd=root)
    assert r.code == 1 and "docker/requirements.txt:2: jax ==0.4.25, expected 0.6.1 (set at docker/Dockerfile:3)\n" \
        in r.out, r.out + r.err
    assert cli("sync", "docker/Dockerfile", cwd=root).code == 0
    assert (root / "docker/Dockerfile").read_text() == after
    assert cli("sync", "--check", "docker/Dockerfile", cwd=root).code == 0


def test_one_env_line_reads_its_variables_as_they_were_before_it(cli, tmp_path: Path, index: PackageIndex) -> None:
    """`ENV A=v B=${A}` gives B the A of before the line: here none the file sets (the base
    image may), so the pin is not judged as 0.4.25 and moved, but named as unseen."""
    dockerfile = ("FROM python:3.12-slim\nENV V=0.4.25 JAX_VERSION=${V}\n"
                  "COPY requirements.txt /tmp/requirements.txt\nRUN pip install -r /tmp/requirements.txt\n")
    root = repo(tmp_path, {"docker/Dockerfile": dockerfile, "docker/requirements.txt": ENV_REQUIREMENTS})
    r = cli("sync", "--check", "docker/Dockerfile", cwd=root)
    assert r.code == 1 and "jax ==" not in r.out, r.out + r.err
    assert "warning: docker/requirements.txt:2: jax version uses ${JAX_VERSION}, which the tool cannot see" in r.err
    later = dockerfile.replace("ENV V=0.4.25 JAX", "ENV V=0.4.25\nENV JAX")  # two lines: B reads the new A
    (root / "docker/Dockerfile").write_text(later)
    r = cli("sync", "--check", "docker/Dockerfile", cwd=root)
    assert "docker/requirements.txt:2: jax ==0.4.25, expected 0.6.1 (set at docker/Dockerfile:2)\n" in r.out, r.out


def test_a_variable_another_package_reads_too_is_not_moved_for_jax(cli, tmp_path: Path, index: PackageIndex) -> None:
    """`mylib==${V}` beside `jax==${V}`: moving V for jax moved mylib too, to a release nobody
    chose (and the proof had asked the old one)."""
    dockerfile = ("FROM python:3.12-slim\nARG V=0.4.25\n"
                  "RUN pip install numpyro==0.15.0 jax==${V} jaxlib==${V} mylib==${V}\n")
    index.wheel("mylib", "0.4.25")
    root = repo(tmp_path, {"docker/Dockerfile": dockerfile})
    r = cli("sync", "docker/Dockerfile", cwd=root)
    assert r.code == 2 and r.err.startswith("release-hook: docker/Dockerfile:3: jax"), r.err
    assert r.err.splitlines()[0].endswith(" where 'mylib==0.4.25' (line 3) reads the same characters (line 2): "
                                          "it would move too; give it a variable of its own"), r.err
    assert (root / "docker/Dockerfile").read_text() == dockerfile
    (root / "docker/Dockerfile").write_text(dockerfile.replace("mylib==${V}", "mylib==0.4.25"))
    git(root, "commit", "-qam", "mylib's own version")
    r = cli("sync", "docker/Dockerfile", cwd=root)
    assert r.code == 0, r.err  # a variable of jax's own moves
    assert "mylib==0.4.25\n" in (root / "docker/Dockerfile").read_text()


def test_a_variable_a_requirements_files_other_package_reads_is_not_moved_for_jax(
        cli, tmp_path: Path, index: PackageIndex) -> None:
    index.wheel("mylib", "0.4.25")
    dockerfile = ("FROM python:3.12-slim\nARG V=0.4.25\nCOPY requirements.txt /tmp/requirements.txt\n"
                  "RUN pip install -r /tmp/requirements.txt\n")
    requirements = "numpyro==0.15.0\njax==${V}\njaxlib==${V}\nmylib==${V}\n"
    root = repo(tmp_path, {"docker/Dockerfile": dockerfile, "docker/requirements.txt": requirements})
    for args in (("--check",), ()):
        r = cli("sync", *args, "docker/Dockerfile", cwd=root)
        assert r.code == 2 and r.err.splitlines()[0].endswith(
            " where 'mylib==0.4.25' (docker/requirements.txt:4) reads the same characters (line 2): it would "
            "move too; give it a variable of its own"), r.err
    assert (root / "docker/Dockerfile").read_text() == dockerfile
    assert (root / "docker/requirements.txt").read_text() == requirements


def test_a_variable_given_to_the_shell_that_runs_pip_is_the_files(cli, tmp_path: Path, index: PackageIndex) -> None:
    """`JAX_VERSION=0.4.25 sh -c "pip install -r ..."`: pip runs with it (was refused as unset)."""
    dockerfile = ("FROM python:3.12-slim\nCOPY requirements.txt /tmp/requirements.txt\n"
                  'RUN JAX_VERSION=0.4.25 sh -c "pip install -r /tmp/requirements.txt"\n')
    root = repo(tmp_path, {"docker/Dockerfile": dockerfile, "docker/requirements.txt": ENV_REQUIREMENTS})
    judged_then_moved(cli, root, dockerfile.replace("0.4.25", "0.6.1"))


def test_a_hash_locked_line_whose_version_an_env_sets_is_refused_only_when_it_must_move(
        cli, tmp_path: Path, index: PackageIndex) -> None:
    """Its hashes cannot move with a version written in the Dockerfile: in step it is fine (it
    was refused whatever its state), out of step it is refused at its line."""
    dockerfile = ENV_DOCKERFILE.replace("0.4.25", "0.6.1")
    locked = ("numpyro==0.19.0\njax==${JAX_VERSION} --hash=sha256:" + "a" * 64 + "\n"
              "jaxlib==${JAX_VERSION}\nscipy==1.11.4\n")
    root = repo(tmp_path, {"docker/Dockerfile": dockerfile, "docker/requirements.txt": locked})
    r = cli("sync", "--check", "docker/Dockerfile", cwd=root)
    assert r.code == 0, r.out + r.err
    (root / "docker/Dockerfile").write_text(ENV_DOCKERFILE, newline="")
    git(root, "commit", "-qam", "an older jax")
    for mode in ("--check", "--no-commit"):
        r = cli("sync", mode, "docker/Dockerfile", cwd=root)
        assert (r.code, r.err) == (2, "release-hook: docker/requirements.txt:2: jax must move to 0.6.1, but its "
                                      "version is set in docker/Dockerfile and its --hash values are here: they "
                                      "cannot move together; write the version in this file\n"), (mode, r.out + r.err)
    assert (root / "docker/Dockerfile").read_bytes() == ENV_DOCKERFILE.encode()


@pytest.mark.parametrize("arg, written, after", [
    ("ARG V\n", "${V:-0.4.25}", "${V:-0.6.1}"),  # no value: the shell takes the word
    ("ARG V=0.4.25\n", "${V:-0.4.1}", "${V:-0.4.1}"),  # a value: the shell takes it, the ARG moves
], ids=["default-word", "value"])
def test_a_default_word_in_a_run_is_judged_and_moved_as_the_shell_reads_it(
        cli, tmp_path: Path, index: PackageIndex, arg: str, written: str, after: str) -> None:
    """`pip install "jax==${V:-0.4.25}"`: the shell gives the word when V is unset or empty,
    else V. The pin was 'computed at build time', left alone, and --check passed."""
    dockerfile = (f"FROM python:3.12-slim\n{arg}"  # scipy holds jax at 0.6.1, as above
                  f'RUN pip install numpyro==0.19.0 "jax=={written}" "jaxlib=={written}" scipy==1.11.4\n')
    root = repo(tmp_path, {"docker/Dockerfile": dockerfile})
    r = cli("sync", "--check", "docker/Dockerfile", cwd=root)
    assert r.code == 1 and "docker/Dockerfile:3: jax ==0.4.25, expected 0.6.1" in r.out, r.out + r.err
    assert cli("sync", "docker/Dockerfile", cwd=root).code == 0
    moved = dockerfile.replace(written, after).replace("ARG V=0.4.25", "ARG V=0.6.1")
    assert (root / "docker/Dockerfile").read_text() == moved
    assert cli("sync", "--check", "docker/Dockerfile", cwd=root).code == 0
