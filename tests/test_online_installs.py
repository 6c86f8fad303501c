"""Opt-in (RELEASE_HOOK_ONLINE=1): issue 14's six rows, a requirements file and issue 18's
import, against the package index pip is configured for, with the real versions."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = [pytest.mark.skipif(os.environ.get("RELEASE_HOOK_ONLINE") != "1", reason="set RELEASE_HOOK_ONLINE=1"),
              pytest.mark.online]

ROW_1 = "FROM python:3.12-slim\nRUN pip install numpy==1.26.4 scipy==1.11.4 numpyro==0.15.0 jax==0.4.25 jaxlib==0.4.25\n"


@pytest.fixture(autouse=True)
def _real_index(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RELEASE_HOOK_VERIFY", raising=False)
    monkeypatch.delenv("RELEASE_HOOK_IMPORT_TABLE", raising=False)


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "project"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "setup.cfg").write_text("[release_hook]\nrequirements = index\n")
    return root


@pytest.mark.parametrize("dockerfile, version, policy, pair", [
    (ROW_1, "0.19.0", "latest", "0.6.1"),
    ("FROM python:3.11-slim\nRUN pip install tensorflow==2.15.1 numpyro==0.13.2 jax==0.4.20 jaxlib==0.4.20\n",
     "0.15.0", "latest", "0.4.34"),
    ("FROM python:3.12-slim\nCOPY constraints.txt /tmp/constraints.txt\n"
     "RUN pip install -c /tmp/constraints.txt numpyro==0.15.0 jax==0.4.25 jaxlib==0.4.25\n", "0.19.0", "latest", "0.6.1"),
    ("FROM python:3.12-slim\nRUN pip install numpyro==0.15.0 jax==0.4.31 jaxlib==0.4.31\n", "0.19.0", "minimum", "0.4.26"),
    ("FROM python:3.12-slim\nRUN pip install numpy==2.2.0 numpyro==0.15.0 jax==0.4.31 jaxlib==0.4.31\n",
     "0.19.0", "minimum", "0.4.26"),
], ids=["row1-old-scipy", "row3-tensorflow", "row4-constraints", "row5-numpy2", "row6-numpy-pinned"])
def test_online_issue_14_rows(cli, tmp_path: Path, dockerfile: str, version: str, policy: str, pair: str) -> None:
    root = project(tmp_path, {"Dockerfile": dockerfile, "constraints.txt": "scipy<1.12\n"})
    r = cli("sync", "Dockerfile", "--no-commit", "--version", version, "--policy", policy, cwd=root)
    assert r.code == 0, r.err
    assert f"jax=={pair} jaxlib=={pair}" in (root / "Dockerfile").read_text()


def test_online_issue_14_row_2_is_refused_at_the_pin(cli, tmp_path: Path) -> None:
    root = project(tmp_path, {"Dockerfile": ROW_1})
    r = cli("sync", "Dockerfile", "--no-commit", "--version", "0.22.0", "--policy", "latest", cwd=root)
    assert (r.code, r.err) == (2, "release-hook: Dockerfile:2: no jax >=0.7.0 installs beside scipy==1.11.4 "
                                  "(line 2): jax 0.7.0 needs scipy>=1.12\n")


def test_online_a_requirements_file_follows_the_release(cli, tmp_path: Path) -> None:
    """Issue 15: the requirements file of row 1, COPY'd in, gets jax/jaxlib 0.6.1."""
    root = project(tmp_path, {
        "docker/Dockerfile": "FROM python:3.12-slim\nCOPY requirements.txt /tmp/requirements.txt\n"
                             "RUN pip install --no-cache-dir -r /tmp/requirements.txt\n",
        "docker/requirements.txt": "numpyro==0.15.0\njax==0.4.25\njaxlib==0.4.25\nscipy==1.11.4\n"})
    r = cli("sync", "docker/Dockerfile", "--no-commit", "--version", "0.19.0", "--policy", "latest", cwd=root)
    assert r.code == 0, r.err
    assert (root / "docker/requirements.txt").read_text() == "numpyro==0.19.0\njax==0.6.1\njaxlib==0.6.1\nscipy==1.11.4\n"


def test_online_latest_for_numpyro_0_18_installs_and_imports_what_it_writes(cli, tmp_path: Path) -> None:
    """Issue 18: numpyro 0.18.0 declares no upper bound on jax, and fails at import from jax
    0.7.0; latest writes the newest that imports, and --smoke installs and imports it."""
    from release_hook.resolve import pythons

    if isinstance(pythons.find((3, 11)), str):
        pytest.skip("no Python 3.11 on this machine")
    root = project(tmp_path, {"Dockerfile": "FROM python:3.11-slim\nRUN pip install numpyro==0.17.0 jax==0.4.31 "
                                            "jaxlib==0.4.31\n"})
    r = cli("sync", "Dockerfile", "--no-commit", "--version", "0.18.0", "--policy", "latest", "--smoke",
            "--explain", cwd=root)
    assert r.code == 0, r.err
    assert "jax==0.6.2 jaxlib==0.6.2" in (root / "Dockerfile").read_text()
    assert "import: imports on Python 3.11" in r.out, r.out


def test_online_a_hash_locked_requirements_file_installs_with_require_hashes(cli, tmp_path: Path) -> None:
    """Issue 15: row 1's requirements file, hash-locked from the index's own digests, synced to
    numpyro 0.19.0 `latest`, installs with pip --require-hashes into a Python 3.12 virtualenv."""
    import subprocess

    from release_hook.resolve import pipconf, pythons, uvcli
    from release_hook.resolve.index import Index

    python = pythons.find((3, 12))
    if isinstance(python, str):
        pytest.skip("no Python 3.12 on this machine")
    index = Index(pipconf.index_urls())
    lines = []
    for name, version in (("numpyro", "0.15.0"), ("jax", "0.4.25"), ("jaxlib", "0.4.25"), ("scipy", "1.11.4")):
        digests = [d.sha256 for d in index.dists(name) if str(d.version) == version and d.sha256]
        assert digests, (name, version)
        lines.append(f"{name}=={version} \\\n" + " \\\n".join(f"    --hash=sha256:{h}" for h in digests) + "\n")
    root = project(tmp_path, {
        "docker/Dockerfile": "FROM python:3.12-slim\nCOPY requirements.txt /tmp/requirements.txt\n"
                             "RUN pip install --require-hashes --no-deps -r /tmp/requirements.txt\n",
        "docker/requirements.txt": "".join(lines)})
    r = cli("sync", "docker/Dockerfile", "--no-commit", "--version", "0.19.0", "--policy", "latest", cwd=root)
    assert r.code == 0, r.err
    text = (root / "docker/requirements.txt").read_text()
    assert "jax==0.6.1 \\" in text and "jaxlib==0.6.1 \\" in text and "scipy==1.11.4 \\" in text
    uv = uvcli.binary()
    assert uv is not None
    venv = tmp_path / "venv"
    subprocess.run([uv, "venv", "-q", "--python", python.path, str(venv)], check=True, env=uvcli.environment())
    done = subprocess.run([uv, "pip", "install", "--python", str(venv / "bin" / "python"), "--require-hashes",
                           "--no-deps", "-r", str(root / "docker/requirements.txt"), *uvcli.index_options()],
                          capture_output=True, text=True, env=uvcli.environment())
    assert done.returncode == 0, done.stderr
