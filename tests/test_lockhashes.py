"""Hash locks never go stale (release_hook.lockhashes): a requirement whose version changes gets
the new version's hashes in the file's own layout, of every file of the release or only of the
kinds the lock limited itself to, and never another version's hashes. Then the proof: the
refreshed file installs with --require-hashes from the loopback index, with pip and with uv."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from pkgindex import PackageIndex, served_as_pips_index
from release_hook.errors import UserError
from release_hook.lockhashes import Files, plan_lock
from release_hook.reqfile import ReqFile, parse
from release_hook.resolve import uvcli

KEPT = ("jax", "jaxlib", "jax-cuda12-plugin")


def digest(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def files_of(*names: str) -> list[tuple[str, dict[str, str]]]:
    return [(n, {"sha256": digest(n)}) for n in names]


JAXLIB_OLD = files_of("jaxlib-0.4.25-cp310-cp310-manylinux2014_x86_64.whl",
                      "jaxlib-0.4.25-cp311-cp311-manylinux2014_x86_64.whl",
                      "jaxlib-0.4.25-cp311-cp311-macosx_11_0_arm64.whl",
                      "jaxlib-0.4.25-cp312-cp312-manylinux2014_x86_64.whl")
JAXLIB_NEW = files_of("jaxlib-0.6.1-cp311-cp311-manylinux_2_27_x86_64.whl",
                      "jaxlib-0.6.1-cp311-cp311-manylinux2014_aarch64.whl",
                      "jaxlib-0.6.1-cp311-cp311-macosx_11_0_arm64.whl",
                      "jaxlib-0.6.1-cp312-cp312-manylinux_2_27_x86_64.whl",
                      "jaxlib-0.6.1-cp313-cp313-manylinux_2_27_x86_64.whl")
JAX_OLD = files_of("jax-0.4.25.tar.gz", "jax-0.4.25-py3-none-any.whl")
JAX_NEW = files_of("jax-0.6.1.tar.gz", "jax-0.6.1-py3-none-any.whl")
FILES: Files = {("jax", "0.4.25"): JAX_OLD, ("jax", "0.6.1"): JAX_NEW,
                ("jaxlib", "0.4.25"): JAXLIB_OLD, ("jaxlib", "0.6.1"): JAXLIB_NEW}
NEW = {"jax": "0.6.1", "jaxlib": "0.6.1"}


def lines(files: list[tuple[str, dict[str, str]]], indent: str = "    ", nl: str = "\n") -> str:
    hashes = sorted(f"--hash=sha256:{d['sha256']}" for _, d in files)
    return f" \\{nl}".join(indent + h for h in hashes)


def read(text: str) -> ReqFile:
    return parse("requirements.txt", text, "numpyro", KEPT)


def refreshed(text: str, files: Files = FILES, new: dict[str, str] = NEW) -> str:
    return plan_lock(read(text), lambda p: new.get(p.package), files).new_text


def test_the_hashes_of_a_changed_requirement_are_those_of_its_new_files_in_the_lock_layout() -> None:
    old = (f"jax==0.4.25 \\\n{lines(JAX_OLD)}\n    # via -r requirements.in\n"
           f"scipy==1.11.4 \\\n    --hash=sha256:{digest('scipy')}\n")
    new = refreshed(old)
    assert new == (f"jax==0.6.1 \\\n{lines(JAX_NEW)}\n    # via -r requirements.in\n"
                   f"scipy==1.11.4 \\\n    --hash=sha256:{digest('scipy')}\n")
    # and back again, with the old release's files
    assert refreshed(new, new={"jax": "0.4.25"}) == old


def test_more_files_than_before_add_lines_fewer_remove_them_and_crlf_stays() -> None:
    old = f"jaxlib==0.4.25 \\\r\n{lines(JAXLIB_OLD, '  ', nl=chr(13) + chr(10))}\r\nnumpyro==0.15.0\r\n"
    new = refreshed(old)
    assert new == f"jaxlib==0.6.1 \\\r\n{lines(JAXLIB_NEW, '  ', nl=chr(13) + chr(10))}\r\nnumpyro==0.15.0\r\n"
    assert new.count("--hash") == 5 and "\n" not in new.replace("\r\n", "")


def test_hashes_on_one_line_stay_on_one_line() -> None:
    old_hashes = " ".join(sorted(f"--hash=sha256:{d['sha256']}" for _, d in JAX_OLD))
    new_hashes = " ".join(sorted(f"--hash=sha256:{d['sha256']}" for _, d in JAX_NEW))
    assert refreshed(f"jax==0.4.25 {old_hashes}\n") == f"jax==0.6.1 {new_hashes}\n"
    one = JAX_OLD[1][1]["sha256"]
    assert refreshed(f"jax==0.4.25 --hash sha256:{one}  # wheel only\n") == (
        f"jax==0.6.1 --hash sha256:{JAX_NEW[1][1]['sha256']}  # wheel only\n")


def test_a_lock_limited_to_some_wheels_gets_the_same_kinds_of_the_new_release() -> None:
    cp311_linux = [JAXLIB_OLD[1]]
    new = refreshed(f"jaxlib==0.4.25 \\\n{lines(cp311_linux)}\n")
    # the glibc floor moved (manylinux2014 -> manylinux_2_27): the same platform family
    assert new == f"jaxlib==0.6.1 \\\n{lines([JAXLIB_NEW[0]])}\n"
    cp311_both = [JAXLIB_OLD[1], JAXLIB_OLD[2]]
    assert refreshed(f"jaxlib==0.4.25 \\\n{lines(cp311_both)}\n") == (
        f"jaxlib==0.6.1 \\\n{lines([JAXLIB_NEW[0], JAXLIB_NEW[2]])}\n")
    # the wheel without the sdist
    assert refreshed(f"jax==0.4.25 \\\n{lines([JAX_OLD[1]])}\n") == f"jax==0.6.1 \\\n{lines([JAX_NEW[1]])}\n"


def test_a_lock_of_every_old_file_or_of_unknown_files_gets_every_new_file() -> None:
    assert refreshed(f"jaxlib==0.4.25 \\\n{lines(JAXLIB_OLD)}\n") == f"jaxlib==0.6.1 \\\n{lines(JAXLIB_NEW)}\n"
    unknown = {("jaxlib", "0.6.1"): JAXLIB_NEW}
    assert refreshed(f"jaxlib==0.4.25 \\\n    --hash=sha256:{'f' * 64}\n", unknown) == (
        f"jaxlib==0.6.1 \\\n{lines(JAXLIB_NEW)}\n")


def test_no_version_is_written_with_another_versions_hashes() -> None:
    text = f"scipy==1.11.4\njax==0.4.25 \\\n{lines(JAX_OLD)}\n"
    with pytest.raises(UserError, match=r"requirements.txt:2: jax 0.6.1: the hashes of its files are not "
                                        r"known, and this requirement is hash-locked"):
        refreshed(text, {("jax", "0.4.25"): JAX_OLD})
    with pytest.raises(UserError, match=r"requirements.txt:1: no file of jaxlib 0.6.1 is of the kinds the "
                                        r"lock lists for 0.4.25 \(cp310 cp310 manylinux_x86_64\)"):
        refreshed(f"jaxlib==0.4.25 \\\n{lines([JAXLIB_OLD[0]])}\n")
    bad = {**FILES, ("jax", "0.6.1"): [("jax-0.6.1.tar.gz", {"sha256": "not hex\n--index-url x"})]}
    with pytest.raises(UserError, match="malformed sha256 digest of jax-0.6.1.tar.gz"):
        refreshed(text, bad)


def test_what_does_not_move_keeps_its_hashes_and_a_pin_without_hashes_gets_none() -> None:
    text = f"jax==0.4.25 \\\n{lines(JAX_OLD)}\njaxlib==0.4.25\n"
    assert refreshed(text, new={}) == text
    assert refreshed(text, new={"jaxlib": "0.6.1"}) == text.replace("jaxlib==0.4.25", "jaxlib==0.6.1")


def test_the_lock_algorithm_is_kept_where_the_index_gives_it() -> None:
    strong = {("jax", "0.6.1"): [("jax-0.6.1.tar.gz", {"sha256": "1" * 64, "sha512": "2" * 128})]}
    assert refreshed(f"jax==0.4.25 --hash=sha512:{'3' * 128}\n", strong) == f"jax==0.6.1 --hash=sha512:{'2' * 128}\n"
    assert refreshed(f"jax==0.4.25 --hash=sha384:{'3' * 96}\n", strong) == f"jax==0.6.1 --hash=sha256:{'1' * 64}\n"


# -- the proof: the refreshed lock installs with --require-hashes ------------------------------

@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PackageIndex]:
    idx = PackageIndex(tmp_path / "index")
    for v in ("0.4.25", "0.6.1"):
        idx.wheel("jax", v, [f"jaxlib>={v}", "scipy>=1.9"])
        idx.sdist("jax", v, {"setup.py": ""})
        idx.wheel("jaxlib", v, ["scipy>=1.9"])  # the one this machine installs
        for tag in ("cp311-cp311-manylinux2014_x86_64", "cp312-cp312-manylinux2014_aarch64"):
            idx.wheel("jaxlib", v, ["scipy>=1.9"], tag=tag)
    for v in ("0.15.0", "0.19.0"):
        idx.wheel("numpyro", v, ["jax>=0.4.25"])
    idx.wheel("scipy", "1.11.4")
    with served_as_pips_index(idx, monkeypatch):
        yield idx


def index_files(index: PackageIndex, *projects: str) -> Files:
    """Each release's files and digests as the index's PEP 691 page gives them (the way the
    tool's index client reads them)."""
    from pypi_simple import PyPISimple

    out: dict[tuple[str, str], list[tuple[str, dict[str, str]]]] = {}
    with PyPISimple(endpoint=index.url) as client:
        for project in projects:
            for pkg in client.get_project_page(project).packages:
                assert pkg.version is not None
                out.setdefault((project, pkg.version), []).append((pkg.filename, dict(pkg.digests)))
    return out


def lock_for(files: Files, pins: dict[str, str]) -> str:
    return "".join(f"{name}=={version} \\\n{lines(files[(name, version)])}\n"
                   f"    # via -r requirements.in\n" for name, version in pins.items())


def install(tmp_path: Path, lock: Path, tool: str) -> subprocess.CompletedProcess[str]:
    uv = uvcli.binary()
    assert uv is not None
    venv = tmp_path / f"venv-{tool}"
    subprocess.run([uv, "venv", "-q", "--clear", "--python", sys.executable, str(venv)], check=True,
                   env=uvcli.environment())
    python = str(venv / "bin" / "python")
    if tool == "uv":
        argv = [uv, "pip", "install", "--python", python, "--require-hashes", "--no-deps", "-r", str(lock),
                *uvcli.index_options()]
        env = uvcli.environment()
    else:
        argv = [sys.executable, "-m", "pip", "--python", python, "install", "--require-hashes", "--no-deps",
                "--no-cache-dir", "--disable-pip-version-check", "-r", str(lock)]
        env = dict(os.environ)
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)


def installed(tmp_path: Path, tool: str) -> dict[str, str]:
    python = tmp_path / f"venv-{tool}" / "bin" / "python"
    out = subprocess.run([str(python), "-c", "import importlib.metadata as m; print('\\n'.join("
                          "f'{d.metadata[\"Name\"]}=={d.version}' for d in m.distributions()))"],
                         capture_output=True, text=True, check=True).stdout
    return dict(line.split("==") for line in out.split())


@pytest.mark.parametrize("tool", ["pip", "uv"])
def test_a_refreshed_hash_lock_installs_with_require_hashes(tmp_path: Path, index: PackageIndex,
                                                            tool: str) -> None:
    files = index_files(index, "jax", "jaxlib", "numpyro", "scipy")
    old = lock_for(files, {"numpyro": "0.15.0", "jax": "0.4.25", "jaxlib": "0.4.25", "scipy": "1.11.4"})
    new = {"numpyro": "0.19.0", "jax": "0.6.1", "jaxlib": "0.6.1"}
    lock = tmp_path / "requirements.txt"

    # the versions alone, the old hashes left: the install refuses it (what the tool prevents)
    lock.write_text(old.replace("0.15.0", "0.19.0").replace("0.4.25", "0.6.1"))
    stale = install(tmp_path, lock, tool)
    assert stale.returncode != 0 and "hash" in (stale.stdout + stale.stderr).lower()

    lock.write_text(plan_lock(read(old), lambda p: new.get(p.package), files).new_text)
    fresh = install(tmp_path, lock, tool)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert {k.lower(): v for k, v in installed(tmp_path, tool).items()
            if k.lower() in ("jax", "jaxlib", "numpyro", "scipy")} == {**new, "scipy": "1.11.4"}
