"""Resolving a release's pins against a real package index on loopback, across jax's eras."""
from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Iterator

import pytest
from packaging.version import Version

from conftest import git
from pkgindex import PackageIndex, served_as_pips_index


def jax_sdist(index: PackageIndex, version: str, minimum_jaxlib: str, yanked: bool = False,
              requires_python: str | None = None, requires_txt: str | None = None) -> None:
    files = {"jax/version.py": f'_version = "{version}"\n_minimum_jaxlib_version = "{minimum_jaxlib}"\n'}
    if requires_txt is not None:  # setuptools' egg-info, in the sdists of jax 0.1.x to 0.3.x
        files["jax.egg-info/requires.txt"] = requires_txt
    index.sdist("jax", version, files, yanked=yanked, requires_python=requires_python)


def cuda_wheels(version: str, tags: list[str], pythons: tuple[str, ...] = ("cp36", "cp37", "cp38", "cp39")) -> list[str]:
    """A find-links page's wheels: one per CUDA build and Python, as jax's pages list them."""
    return [f"jaxlib-{version}+{t}-{py}-none-manylinux2010_x86_64.whl" for t in tags for py in pythons]


def cp(*minors: int) -> list[str]:
    return [f"cp3{m}" for m in minors]


def binary_wheels(idx: PackageIndex, name: str, version: str, pythons: list[str], requires_python: str,
                  arches: tuple[str, ...] = ("x86_64", "aarch64"), **kw: object) -> None:
    """What jaxlib and the CUDA plugin publish: one wheel per CPython and platform."""
    for py in pythons:
        for arch in arches:
            idx.wheel(name, version, tag=f"{py}-{py}-manylinux2014_{arch}", requires_python=requires_python,
                      **kw)  # type: ignore[arg-type]


def jax_wheel_0_4(idx: PackageIndex, v: str, minimum: str, plugin: bool, pjrt: bool, **kw: object) -> None:
    """jax 0.4.14-0.4.25 metadata, shaped as published: CUDA extras pin a tagged jaxlib from the
    find-links page; from 0.4.22 `cuda12` installs an untagged jaxlib and jax-cuda12-plugin."""
    requires = [f"jaxlib =={minimum} ; extra == 'minimum-jaxlib'", f"jaxlib =={v} ; extra == 'cpu'",
                f"jaxlib =={v}+cuda11.cudnn86 ; extra == 'cuda'",
                f"jaxlib =={v}+cuda11.cudnn86 ; extra == 'cuda11_pip'",
                f"jaxlib =={v}+cuda11.cudnn86 ; extra == 'cuda11_local'",
                f"jaxlib =={v}+cuda12.cudnn89 ; extra == 'cuda12_pip'",
                f"jaxlib =={v}+cuda12.cudnn89 ; extra == 'cuda12_local'",
                "nvidia-cudnn-cu12 >=8.9 ; extra == 'cuda12_pip'"]
    if plugin:
        requires += [f"jaxlib =={v} ; extra == 'cuda12'", f"jax-cuda12-plugin =={v} ; extra == 'cuda12'"]
    idx.wheel("jax", v, requires, requires_python=">=3.9", **kw)  # type: ignore[arg-type]


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PackageIndex]:
    idx = PackageIndex(tmp_path / "index")
    # jax: old releases are sdists without Requires-Dist; new ones wheels with metadata
    for v, minimum, python in (("0.2.10", "0.1.60", ">=3.6"), ("0.2.13", "0.1.64", ">=3.6"),
                               ("0.2.17", "0.1.65", ">=3.6"), ("0.2.25", "0.1.69", ">=3.7"),
                               ("0.3.15", "0.3.7", ">=3.7"), ("0.4.1", "0.3.22", ">=3.8")):
        jax_sdist(idx, v, minimum, requires_python=python)
    jax_wheel_0_4(idx, "0.4.14", "0.4.11", plugin=False, pjrt=False, upload_time="2023-07-27T18:00:00Z")
    jax_wheel_0_4(idx, "0.4.22", "0.4.14", plugin=True, pjrt=False, upload_time="2023-12-13T18:00:00Z")
    jax_wheel_0_4(idx, "0.4.25", "0.4.20", plugin=True, pjrt=True, upload_time="2024-02-26T18:00:00Z")
    for v, ci in (("0.4.26", "0.4.25"),):
        idx.wheel("jax", v, ["jaxlib ==0.4.26 ; extra == 'cpu'", f"jaxlib =={ci} ; extra == 'ci'",
                             "jaxlib ==0.4.26 ; extra == 'cuda12'",
                             "jax-cuda12-plugin ==0.4.26 ; extra == 'cuda12'"], requires_python=">=3.9",
                  upload_time="2024-04-03T18:00:00Z")
    for v, low, yanked, python, day in (
            ("0.4.30", "0.4.27", False, ">=3.9", "2024-06-18"), ("0.4.31", "0.4.30", False, ">=3.10", "2024-07-29"),
            ("0.4.35", "0.4.34", True, ">=3.10", "2024-10-22"), ("0.5.0rc1", "0.4.36", False, ">=3.10", "2025-01-10"),
            ("0.7.0", "0.7.0", False, ">=3.11", "2025-07-22"), ("0.7.2", "0.7.1", False, ">=3.11", "2025-09-16"),
            ("0.10.2", "0.10.2", False, ">=3.11", "2026-06-17"), ("0.11.0", "0.11.0", False, ">=3.12", "2026-07-16")):
        extra = "cuda12"
        requires = [f"jaxlib<={v},>={low}", f'jaxlib<={v},>={v}; extra == "{extra}"',
                    f'jax-cuda12-plugin[with-cuda]<={v},>={v}; extra == "{extra}"']
        if Version(v) >= Version("0.6"):
            requires += [f'jax-cuda12-plugin<={v},>={v}; extra == "cuda12-local"']
        if Version(v) >= Version("0.7.2"):
            requires += [f'jax-cuda13-plugin[with-cuda]<={v},>={v}; extra == "cuda13"']
        idx.wheel("jax", v, requires, yanked=yanked, metadata_file=v != "0.4.31", requires_python=python,
                  upload_time=f"{day}T18:00:00Z")
    # jaxlib on the index: one wheel per CPython (as published), newest Pythons added over time
    for v, pythons, python, day in (
            ("0.4.14", cp(9, 10, 11), ">=3.9", "2023-07-27"), ("0.4.22", cp(9, 10, 11, 12), ">=3.9", "2023-12-13"),
            ("0.4.25", cp(9, 10, 11, 12), ">=3.9", "2024-02-26"), ("0.4.26", cp(9, 10, 11, 12), ">=3.9", "2024-04-03"),
            ("0.4.30", cp(9, 10, 11, 12), ">=3.9", "2024-06-18"), ("0.4.31", cp(10, 11, 12), ">=3.10", "2024-07-29"),
            ("0.4.35", cp(10, 11, 12, 13), ">=3.10", "2024-10-22"), ("0.5.0rc1", cp(10, 11, 12, 13), ">=3.10", "2025-01-10"),
            ("0.7.0", cp(11, 12, 13), ">=3.11", "2025-07-22"), ("0.7.2", cp(11, 12, 13), ">=3.11", "2025-09-16"),
            ("0.10.2", cp(11, 12, 13), ">=3.11", "2026-06-17"), ("0.11.0", cp(12, 13), ">=3.12", "2026-07-16")):
        binary_wheels(idx, "jaxlib", v, pythons, python, yanked=v == "0.4.31", upload_time=f"{day}T17:00:00Z")
    # the CUDA 12 plugin from 0.4.22, its PJRT package from 0.4.23 (as on the index)
    for v, pythons, python in (("0.4.22", cp(9, 10, 11, 12), ">=3.9"), ("0.4.25", cp(9, 10, 11, 12), ">=3.9"),
                               ("0.4.30", cp(9, 10, 11, 12), ">=3.9"), ("0.4.31", cp(10, 11, 12), ">=3.10"),
                               ("0.7.0", cp(11, 12, 13), ">=3.11"), ("0.7.2", cp(11, 12, 13), ">=3.11"),
                               ("0.10.2", cp(11, 12, 13), ">=3.11"), ("0.11.0", cp(12, 13), ">=3.12")):
        # each plugin requires the PJRT package of its own version, which began at 0.4.23; the
        # `with-cuda` extra that jax[cuda12] asks of it from 0.4.30 is there from 0.4.30 only
        binary_wheels(idx, "jax-cuda12-plugin", v, pythons, python, arches=("x86_64",),
                      requires=[f"jax-cuda12-pjrt =={v}"],
                      extras=["with-cuda"] if Version(v) >= Version("0.4.30") else [])
        if Version(v) >= Version("0.4.23"):
            idx.wheel("jax-cuda12-pjrt", v, tag="py3-none-manylinux2014_x86_64")
    binary_wheels(idx, "jax-cuda13-plugin", "0.7.2", cp(11, 12, 13), ">=3.11", arches=("x86_64",),
                  extras=["with-cuda"])
    idx.wheel("jax-cuda13-pjrt", "0.7.2", tag="py3-none-manylinux2014_x86_64")
    for v, jax, jaxlib, python in (
            ("0.6.0", "==0.2.10", "==0.1.62", ">=3.6"), ("0.7.0", ">=0.2.13", ">=0.1.65", ">=3.6"),
            ("0.8.0", ">=0.2.13", ">=0.1.66", ">=3.6"), ("0.9.0", ">=0.2.25", ">=0.1.75", ">=3.7"),
            ("0.10.0", ">=0.3.15", ">=0.3.15", ">=3.7"), ("0.11.0", ">=0.4.1", ">=0.4.1", ">=3.8"), ("0.13.2", ">=0.4.14", ">=0.4.14", ">=3.9"),
            ("0.15.0", ">=0.4.14", ">=0.4.14", ">=3.9"), ("0.16.0", ">=0.4.30", ">=0.4.30", ">=3.9"),
            ("0.20.0", ">=0.5.0rc1", ">=0.5.0rc1", ">=3.10"), ("0.20.1", ">=0.5.0rc1", ">=0.5.0rc1", ">=3.11"),
            ("0.22.0", ">=0.7.0", ">=0.7.0", ">=3.11"), ("0.23.0", ">=0.11.0", ">=0.11.0", ">=3.11"),
            ("0.99.0", ">=99", ">=99", ">=3.9")):
        idx.wheel("numpyro", v, [f"jax{jax}", f"jaxlib{jaxlib}", "tqdm",
                                 f"jax[cuda]{jax} ; extra == 'cuda'"], requires_python=python)
    old = ("cp36", "cp37", "cp38", "cp39")
    idx.find_links_page("jax_releases.html", [
        *(f"cuda{c}/{w}" for c in ("112",) for w in cuda_wheels("0.1.62", ["cuda112", "cuda111"])),
        *cuda_wheels("0.1.65", ["cuda112", "cuda111", "cuda110", "cuda102", "cuda101"]),
        *cuda_wheels("0.1.66", ["cuda111", "cuda110", "cuda102", "cuda101"]),
        *cuda_wheels("0.1.75", ["cuda11.cudnn82", "cuda11.cudnn805"], old[1:] + ("cp310",)),
        "jaxlib-0.1.75-cp39-none-manylinux2010_x86_64.whl", "not-a-wheel.txt",
    ])
    idx.find_links_page("jax_cuda_releases.html", [
        *cuda_wheels("0.3.15", ["cuda11.cudnn82", "cuda11.cudnn805"], ("cp37", "cp38", "cp39", "cp310")),
        *cuda_wheels("0.4.1", ["cuda11.cudnn86", "cuda11.cudnn82"], ("cp38", "cp39", "cp310", "cp311")),
        *cuda_wheels("0.4.14", ["cuda12.cudnn89", "cuda11.cudnn86"], ("cp39", "cp310", "cp311")),
        *cuda_wheels("0.4.22", ["cuda12.cudnn89", "cuda11.cudnn86"], ("cp39", "cp310", "cp311", "cp312")),
        *cuda_wheels("0.4.25", ["cuda12.cudnn89", "cuda11.cudnn86"], ("cp39", "cp310", "cp311", "cp312")),
        *cuda_wheels("0.4.26", ["cuda12.cudnn89"], ("cp39", "cp310", "cp311", "cp312")),
    ])
    idx.find_links_page("empty.html", ["README.txt"])
    monkeypatch.setenv("RELEASE_HOOK_CACHE_DIR", str(tmp_path / "cache"))
    with served_as_pips_index(idx, monkeypatch, "1"):
        yield idx


def project(tmp_path: Path, dockerfile: str, setup_cfg: str = "[release_hook]\nrequirements = index\n",
            name: str = "Dockerfile") -> Path:
    root = tmp_path / "project"
    root.mkdir(exist_ok=True)
    (root / "setup.cfg").write_text(setup_cfg)
    (root / name).write_text(dockerfile)
    return root


def sync(cli, root: Path, *args: str):  # type: ignore[no-untyped-def]
    return cli("sync", "Dockerfile", "--no-commit", *args, cwd=root)


# -- eras ------------------------------------------------------------------------------------------

def test_cuda112_era_release_0_6_to_0_7(cli, tmp_path: Path, index: PackageIndex) -> None:
    root = project(tmp_path, "FROM nvidia/cuda:11.2.2-cudnn8-devel-ubuntu20.04\n"
                   "RUN pip3 install jax==0.2.10 jaxlib==0.1.62+cuda112 "
                   f"-f {index.link_url('jax_releases.html')} && pip3 install numpyro==0.6.0\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "init")
    r = cli("sync", "Dockerfile", "--version", "0.7.0", cwd=root)
    assert r.code == 0, r.err
    assert "jax==0.2.13 jaxlib==0.1.65+cuda112 -f" in (root / "Dockerfile").read_text()
    assert "numpyro==0.7.0" in (root / "Dockerfile").read_text()
    assert git(root, "log", "-1", "--format=%s").stdout.strip() == (
        "Sync Dockerfiles with numpyro 0.7.0 (jax 0.2.13, jaxlib 0.1.65+cuda112)")


def test_cuda112_to_cuda111_switch(cli, tmp_path: Path, index: PackageIndex) -> None:
    root = project(tmp_path, "FROM nvidia/cuda:11.2.2-cudnn8-devel-ubuntu20.04\n"
                   "ENV JAXLIB_CUDA=112\n"
                   "RUN pip3 install jax==0.2.13 jaxlib==0.1.65+cuda${JAXLIB_CUDA} "
                   f"-f {index.link_url('jax_releases.html')} numpyro==0.7.0\n")
    r = sync(cli, root, "--version", "0.8.0", "--explain")
    assert r.code == 0, r.err
    text = (root / "Dockerfile").read_text()
    assert "ENV JAXLIB_CUDA=111\n" in text and "jaxlib==0.1.66+cuda${JAXLIB_CUDA}" in text
    assert "find-links page" in r.out  # the live page answered, not the snapshot


def test_cudnn_era_by_image_and_page_move(cli, tmp_path: Path, index: PackageIndex) -> None:
    dockerfile = ("ARG BASE=nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04\nFROM ${BASE} AS a\n"
                  "RUN pip install jax==0.2.13 jaxlib==0.1.65+cuda112 "
                  f"-f {index.link_url('jax_releases.html')}\n"
                  "FROM nvidia/cuda:11.4.3-cudnn8-runtime-ubuntu20.04\nARG BUILD=cuda111\n"
                  "RUN pip install jax==0.2.13 jaxlib==0.1.65+${BUILD} "
                  f"--find-links={index.link_url('jax_releases.html')}\n")
    root = project(tmp_path, dockerfile)
    assert sync(cli, root, "--version", "0.9.0").code == 0
    text = (root / "Dockerfile").read_text()
    assert "jax==0.2.25 jaxlib==0.1.75+cuda11.cudnn805 -f" in text  # CUDA 11.2: cuDNN 8.0.5 build
    assert "ARG BUILD=cuda11.cudnn82\n" in text  # CUDA 11.4: the cuDNN 8.2 build
    r = sync(cli, root, "--version", "0.10.0")
    assert r.code == 0, r.err
    text = (root / "Dockerfile").read_text()
    assert "jaxlib==0.3.15+cuda11.cudnn805 -f " + index.link_url("jax_cuda_releases.html") in text
    assert f"--find-links={index.link_url('jax_cuda_releases.html')}" in text
    assert "find-links jax_releases.html -> jax_cuda_releases.html" in r.out


@pytest.mark.parametrize("image, build", [("nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04", "cuda11.cudnn86"),
                                          ("nvidia/cuda:12.2.2-cudnn8-runtime-ubuntu22.04", "cuda12.cudnn89")])
def test_0_4_era(cli, tmp_path: Path, index: PackageIndex, image: str, build: str) -> None:
    root = project(tmp_path, f"FROM {image}\nRUN pip install jax==0.4.1 jaxlib==0.4.1+cuda11.cudnn86 "
                             f"-f {index.link_url('jax_cuda_releases.html')}\n")
    r = sync(cli, root, "--version", "0.13.2")
    assert r.code == 0, r.err
    assert f"jax==0.4.14 jaxlib==0.4.14+{build} -f" in (root / "Dockerfile").read_text()


PLUGIN_FILE = """FROM {image}
ARG JAX_VERSION=0.4.30
ARG JAXLIB_VERSION=0.4.30
RUN pip install "jax[{extra}]==${{JAX_VERSION}}" "jaxlib==${{JAXLIB_VERSION}}" \\
    "jax-{extra}-plugin[with-cuda]==${{JAXLIB_VERSION}}" "jax-{extra}-pjrt==${{JAXLIB_VERSION}}"
"""


def test_plugin_era_minimum_and_latest(cli, tmp_path: Path, index: PackageIndex) -> None:
    root = project(tmp_path, PLUGIN_FILE.format(image="nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04",
                                                extra="cuda12"))
    assert sync(cli, root, "--version", "0.16.0").code == 0
    assert "ARG JAX_VERSION=0.4.30\nARG JAXLIB_VERSION=0.4.30\n" in (root / "Dockerfile").read_text()
    (root / "Dockerfile").write_text((root / "Dockerfile").read_text().replace(
        "ARG JAX_VERSION=0.4.30", "ARG JAX_VERSION=0.4.31"))
    # jax[cuda12] 0.4.31 needs jaxlib 0.4.31 exactly, and that jaxlib is yanked: no pair
    before = (root / "Dockerfile").read_text()
    r = sync(cli, root, "--version", "0.16.0", "--pin", "jax==0.4.31")
    assert r.code == 2
    # (the message names jax's own bound; it was "no jax satisfying ... accepts jaxlib 0.4.30")
    assert "jax 0.4.31[cuda12] needs jaxlib<=0.4.31,>=0.4.30,>=0.4.31, not 0.4.30" in r.err, r.err
    assert (root / "Dockerfile").read_text() == before
    r = sync(cli, root, "--version", "0.16.0", "--policy", "latest")
    assert r.code == 0, r.err
    # the newest whose wheels install on Ubuntu 24.04's Python 3.12
    assert "ARG JAX_VERSION=0.11.0\nARG JAXLIB_VERSION=0.11.0\n" in (root / "Dockerfile").read_text()


def test_cuda13_plugins_on_a_cuda13_image(cli, tmp_path: Path, index: PackageIndex) -> None:
    root = project(tmp_path, PLUGIN_FILE.format(image="nvidia/cuda:13.0.1-cudnn-runtime-ubuntu24.04",
                                                extra="cuda13"))
    r = sync(cli, root, "--version", "0.22.0")
    assert r.code == 0, r.err
    assert "ARG JAX_VERSION=0.7.2\nARG JAXLIB_VERSION=0.7.2\n" in (root / "Dockerfile").read_text()


def test_cuda12_plugin_on_a_cuda11_image_is_an_error(cli, tmp_path: Path, index: PackageIndex) -> None:
    root = project(tmp_path, PLUGIN_FILE.format(image="nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04",
                                                extra="cuda12"))
    before = (root / "Dockerfile").read_text()
    r = sync(cli, root, "--version", "0.16.0")  # 0.22.0 needs Python 3.11, 22.04 has 3.10
    assert r.code == 2
    assert "CUDA 11.8" in r.err and "jax-cuda12-plugin" in r.err
    assert (root / "Dockerfile").read_text() == before


def test_pre_release_only_when_asked(cli, tmp_path: Path, index: PackageIndex) -> None:
    root = project(tmp_path, PLUGIN_FILE.format(image="nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04",
                                                extra="cuda12"))
    r = sync(cli, root, "--version", "0.20.0")  # numpyro 0.20.0 needs jax>=0.5.0rc1
    assert r.code == 0, r.err
    assert "ARG JAX_VERSION=0.7.0\n" in (root / "Dockerfile").read_text()


def test_pin_jaxlib_without_tag_chooses_the_build_per_image(cli, tmp_path: Path, index: PackageIndex) -> None:
    root = project(tmp_path, "FROM nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04\n"
                   "RUN pip install jaxlib==0.1.62+cuda112\n"
                   "FROM nvidia/cuda:11.0.3-cudnn8-runtime-ubuntu20.04\n"
                   "RUN pip install jaxlib==0.1.62+cuda110\n")
    r = sync(cli, root, "--version", "1.0", "--pin", "jaxlib==0.1.66", "--explain")
    assert r.code == 0, r.err
    text = (root / "Dockerfile").read_text()
    assert "jaxlib==0.1.66+cuda111\n" in text and "jaxlib==0.1.66+cuda110\n" in text
    assert index.hits == []  # every version given: nothing fetched
    assert "snapshot" in r.out


# -- an untagged jaxlib in a requirements file: the options in force where pip reads it ------------

CUDA11_COPY = "FROM nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04\nCOPY requirements.txt /tmp/requirements.txt\n"
REQUIREMENTS = "numpyro==0.13.2\njax==0.4.1\njaxlib=={jaxlib}\n"


def requirements_project(tmp_path: Path, index: PackageIndex, where: str, jaxlib: str = "0.4.1") -> Path:
    """A CUDA 11.8 image whose pip command reads jaxlib from requirements.txt; jax's CUDA page
    named `where`: nowhere, in that file, on the command, in a file that reads it (`-r`), in
    another file the same command reads, or in pip's environment (PIP_FIND_LINKS)."""
    page = index.link_url("jax_cuda_releases.html")
    run = {"command": f"RUN pip install -f {page} -r /tmp/requirements.txt\n",
           "nested": "COPY outer.txt /tmp/outer.txt\nRUN pip install -r /tmp/outer.txt\n",
           "sibling": "COPY pages.txt /tmp/pages.txt\nRUN pip install -r /tmp/pages.txt -r /tmp/requirements.txt\n",
           "env": f"ENV PIP_FIND_LINKS={page}\nRUN pip install -r /tmp/requirements.txt\n",
           }.get(where, "RUN pip install -r /tmp/requirements.txt\n")
    root = project(tmp_path, CUDA11_COPY + run)
    (root / "requirements.txt").write_text(("-f " + page + "\n" if where == "file" else "")
                                           + REQUIREMENTS.format(jaxlib=jaxlib))
    (root / "outer.txt").write_text(f"--find-links {page}\n-r requirements.txt\n")
    (root / "pages.txt").write_text(f"--find-links={page}\n")
    return root


@pytest.mark.parametrize("where, pinned, written", [
    ("nowhere", "0.4.1", "0.4.14"), ("file", "0.4.1", "0.4.14+cuda11.cudnn86"),
    ("command", "0.4.1", "0.4.14+cuda11.cudnn86"), ("nested", "0.4.1", "0.4.14+cuda11.cudnn86"),
    ("sibling", "0.4.1", "0.4.14+cuda11.cudnn86"), ("env", "0.4.1", "0.4.14+cuda11.cudnn86"),
    ("nowhere", "0.4.1+cuda11.cudnn86", "0.4.14+cuda11.cudnn86")])  # a tag written stays a tag
def test_a_requirements_file_jaxlib_takes_a_build_only_where_pip_reads_jaxs_page(
        cli, tmp_path: Path, index: PackageIndex, where: str, pinned: str, written: str) -> None:
    """pip finds a `+cuda` jaxlib only on jax's own page: the options in force are the command's
    and those of every file it reads (pip takes a file's -f for the whole command)."""
    root = requirements_project(tmp_path, index, where, pinned)
    r = sync(cli, root, "--version", "0.15.0")
    assert r.code == 0, r.err
    assert (root / "requirements.txt").read_text().endswith(f"\njax==0.4.14\njaxlib=={written}\n")
    if where != "nowhere":  # the page the image's pip reads is the one asked which builds exist
        assert "/jax-releases/jax_cuda_releases.html" in index.hits, index.hits


def test_a_requirements_file_jaxlib_read_without_the_page_is_proved_untagged(
        cli, tmp_path: Path, index: PackageIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    """It was written `+cuda11.cudnn86`, which no index has: the resolver refused every pair."""
    monkeypatch.delenv("RELEASE_HOOK_VERIFY", raising=False)
    index.wheel("tqdm", "4.66.0")  # numpyro's other requirement
    root = requirements_project(tmp_path, index, "nowhere")
    r = sync(cli, root, "--version", "0.15.0", "--explain")
    assert r.code == 0, r.err
    assert "  asked: numpyro==0.15.0 jax==0.4.14 jaxlib==0.4.14\n" in r.out, r.out
    assert (root / "requirements.txt").read_text() == "numpyro==0.15.0\njax==0.4.14\njaxlib==0.4.14\n"


def test_a_remembered_decision_is_not_one_made_without_the_page(cli, tmp_path: Path, index: PackageIndex) -> None:
    """The page the command reads decides the build: a decision made before the Dockerfile named
    it (remembered for ten minutes) does not answer for it."""
    root = requirements_project(tmp_path, index, "nowhere")
    assert sync(cli, root, "--version", "0.15.0", "--dry-run").code == 0
    (root / "Dockerfile").write_text(requirements_project(tmp_path, index, "command").joinpath("Dockerfile").read_text())
    r = sync(cli, root, "--version", "0.15.0")
    assert r.code == 0, r.err
    assert (root / "requirements.txt").read_text().endswith("\njaxlib==0.4.14+cuda11.cudnn86\n")


def test_a_requirements_file_jaxlib_read_with_and_without_the_page_is_refused(
        cli, tmp_path: Path, index: PackageIndex) -> None:
    root = requirements_project(tmp_path, index, "command")
    dockerfile = (root / "Dockerfile").read_text() + "RUN pip install -r /tmp/requirements.txt\n"
    (root / "Dockerfile").write_text(dockerfile)
    r = sync(cli, root, "--version", "0.15.0")
    assert (r.code, r.err) == (2, "release-hook: requirements.txt:3: jaxlib here is read by pip with jax's CUDA page "
                                  "(Dockerfile:3) and without it (Dockerfile:4): a +cuda build does not install "
                                  "without the page, and an untagged pin read with it may get another CUDA's build; "
                                  "give the pip command at Dockerfile:4 the page's -f, or each command a file of its "
                                  "own\n")
    assert (root / "requirements.txt").read_text() == REQUIREMENTS.format(jaxlib="0.4.1")
    assert (root / "Dockerfile").read_text() == dockerfile


CUDA11 = "FROM nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04\n"
PINS = "numpyro==0.13.2 jax==0.4.1 jaxlib==0.4.1"


@pytest.mark.parametrize("lines, written", [
    ("ENV PIP_FIND_LINKS={page}\nRUN pip install {pins}\n", "0.4.14+cuda11.cudnn86"),
    ('ENV PIP_FIND_LINKS="{empty} {page}"\nRUN pip install {pins}\n', "0.4.14+cuda11.cudnn86"),  # a list
    ("ARG PIP_FIND_LINKS={page}\nRUN pip install {pins}\n", "0.4.14+cuda11.cudnn86"),  # a RUN sees ARGs
    ("RUN export PIP_FIND_LINKS={page} && pip install {pins}\n", "0.4.14+cuda11.cudnn86"),
    ("RUN PIP_FIND_LINKS={page} pip install {pins}\n", "0.4.14+cuda11.cudnn86"),
    ("RUN PIP_FIND_LINKS={page}; pip install {pins}\n", "0.4.14"),  # not exported: pip never sees it
    ("COPY pages.txt /tmp/pages.txt\nRUN pip install -r /tmp/pages.txt {pins}\n", "0.4.14+cuda11.cudnn86"),
    ("COPY empty.txt /tmp/pages.txt\nRUN pip install -r /tmp/pages.txt {pins}\n", "0.4.14"),
    # uv reads its own variables, and none of pip's; UV_FIND_LINKS is a comma-separated list
    ("ENV UV_FIND_LINKS={empty},{page}\nRUN uv pip install --system {pins}\n", "0.4.14+cuda11.cudnn86"),
    ("RUN UV_FIND_LINKS={page} uv pip install --system {pins}\n", "0.4.14+cuda11.cudnn86"),
    ("ENV PIP_FIND_LINKS={page}\nRUN uv pip install --system {pins}\n", "0.4.14"),
    ("ENV UV_FIND_LINKS={page}\nRUN pip install {pins}\n", "0.4.14"),
    # the shell's own rules: `set -a` exports what is set after it, `unset` takes it away
    ("RUN set -a && PIP_FIND_LINKS={page} && pip install {pins}\n", "0.4.14+cuda11.cudnn86"),
    ("RUN set -o allexport; PIP_FIND_LINKS={page}; set +a; pip install {pins}\n", "0.4.14+cuda11.cudnn86"),
    ("RUN set -a; set +a; PIP_FIND_LINKS={page}; pip install {pins}\n", "0.4.14"),
    ("RUN set -euo pipefail -a; PIP_FIND_LINKS={page}; pip install {pins}\n", "0.4.14+cuda11.cudnn86"),
    ("RUN set -- -a; PIP_FIND_LINKS={page}; pip install {pins}\n", "0.4.14"),  # $1 is "-a"
    ("RUN set -e x -a; PIP_FIND_LINKS={page}; pip install {pins}\n", "0.4.14"),  # $1 is "x", $2 "-a"
    ("RUN export PIP_FIND_LINKS={page} && unset PIP_FIND_LINKS && pip install {pins}\n", "0.4.14"),
    ("ENV PIP_FIND_LINKS={page}\nRUN unset PIP_FIND_LINKS && pip install {pins}\n", "0.4.14"),
    ("RUN PIP_FIND_LINKS={page}; export PIP_FIND_LINKS; pip install {pins}\n", "0.4.14+cuda11.cudnn86"),
    # an assignment to a variable of the environment changes what pip sees
    ("ENV PIP_FIND_LINKS={empty}\nRUN PIP_FIND_LINKS={page}; pip install {pins}\n", "0.4.14+cuda11.cudnn86"),
], ids=["env", "env-list", "arg", "export", "prefix", "not-exported", "file", "file-without-the-page",
        "uv-env-list", "uv-prefix", "uv-ignores-pips", "pip-ignores-uvs", "set-a", "allexport-then-off",
        "set-a-off-before", "set-o-then-a", "set-positional", "set-positional-after-a-word", "unset", "unset-env", "export-name", "assigned-env"])
def test_a_dockerfile_jaxlib_takes_a_build_where_its_pip_reads_the_page_from_its_environment_or_files(
        cli, tmp_path: Path, index: PackageIndex, lines: str, written: str) -> None:
    """pip takes -f from PIP_FIND_LINKS as from its command line, and a -r file's -f for the
    whole command: written untagged, pip would install the page's highest build, a `+cuda12`
    on this CUDA 11.8 image."""
    page = index.link_url("jax_cuda_releases.html")
    root = project(tmp_path, CUDA11 + lines.format(page=page, empty=index.link_url("empty.html"), pins=PINS))
    (root / "pages.txt").write_text(f"--find-links {page}\n")
    (root / "empty.txt").write_text(f"--find-links {index.link_url('empty.html')}\n")
    r = sync(cli, root, "--version", "0.15.0")
    assert r.code == 0, r.err
    assert f" jax==0.4.14 jaxlib=={written}\n" in (root / "Dockerfile").read_text()



def test_a_stage_built_on_one_that_reads_the_page_takes_no_tag_where_its_own_pip_does_not(
        cli, tmp_path: Path, index: PackageIndex) -> None:
    """`FROM gpu` has gpu's base image, and so gpu's CUDA build was given to it too: a `+cuda`
    jaxlib where its pip reads no page, which pip cannot find."""
    page = index.link_url("jax_cuda_releases.html")
    root = project(tmp_path, CUDA11.replace("\n", " AS gpu\n") +
                   f"RUN pip install {PINS.replace('jaxlib==0.4.1', 'jaxlib==0.4.1+cuda11.cudnn86')} -f {page}\n"
                   "FROM gpu AS app\nRUN pip install jax==0.4.1 jaxlib==0.4.1\n")
    r = sync(cli, root, "--version", "0.15.0", "--dry-run")
    assert r.code == 0, r.err
    assert "jaxlib ==0.4.1 -> 0.4.14 [release needs" in r.out and "no tag: this pip command does not read jax's " \
        "CUDA page]" in r.out, r.out
    r = sync(cli, root, "--version", "0.15.0")
    assert r.code == 0, r.err
    text = (root / "Dockerfile").read_text()
    assert f" jax==0.4.14 jaxlib==0.4.14+cuda11.cudnn86 -f {page}\n" in text
    assert text.endswith("FROM gpu AS app\nRUN pip install jax==0.4.14 jaxlib==0.4.14\n")

# -- where the release's requirements come from ------------------------------------------------------

NUMPYRO_SETUP_PY = '''
from setuptools import find_packages, setup

_jax_version_constraints = ">=0.2.13"
_jaxlib_version_constraints = ">=0.1.66"
_available_cuda_versions = ["101", "102", "110", "111"]

setup(
    name="numpyro",
    install_requires=[
        f"jax{_jax_version_constraints}",
        f"jaxlib{_jaxlib_version_constraints}",
        "tqdm",
    ],
    extras_require={"cuda": [f"jax[cuda]{_jax_version_constraints}"]},
)
'''


@pytest.mark.parametrize("name, content", [
    ("setup.py", NUMPYRO_SETUP_PY),
    ("setup.cfg", "[metadata]\nname = numpyro\n[options]\ninstall_requires =\n    jax>=0.2.13\n"
                  "    jaxlib>=0.1.66  # the cuda111 era\n    tqdm\n"),
    ("pyproject.toml", '[project]\nname = "numpyro"\ndependencies = ["jax>=0.2.13", "jaxlib>=0.1.66"]\n'),
])
def test_requirements_from_the_repository_metadata(cli, tmp_path: Path, index: PackageIndex,
                                                    name: str, content: str) -> None:
    root = project(tmp_path, "FROM nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04\n"
                   "RUN pip install jax==0.2.10 jaxlib==0.1.62+cuda112 numpyro==0.6.0\n", setup_cfg="")
    (root / name).write_text(content if name != "setup.cfg" else content)
    r = sync(cli, root, "--version", "0.7.1")  # unreleased: only the repository knows it
    assert r.code == 0, r.err
    assert "jax==0.2.13 jaxlib==0.1.66+cuda111 numpyro==0.7.1" in (root / "Dockerfile").read_text()


@pytest.mark.parametrize("name, content, parser", [
    ("pyproject.toml", '[project]\nname = "numpyro"\ndependencies = ["jax>=0.2.13", "jaxlib>=0.1.66"]\n', "tomllib"),
    ("setup.py", NUMPYRO_SETUP_PY, "ast"),
])
def test_the_release_metadata_is_parsed_once_per_content(tmp_path: Path, name: str, content: str,
                                                         parser: str) -> None:
    """A bump's hook reads the release's metadata every time: kept by its content, a file read
    before costs neither tomllib's (or ast's) import nor a parse; an edited one is read anew."""
    import subprocess
    import sys

    (tmp_path / name).write_bytes(content.encode())
    probe = ("import os, sys\nfrom release_hook.resolve.requirements import declared\n"
             "found = declared(lambda n: open(n, 'rb').read() if os.path.exists(n) else None, 'numpyro')\n"
             f"print(found.lines, found.source, {parser!r} in sys.modules)\n")

    def read() -> str:
        return subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                              check=True).stdout.strip()

    first = read()
    assert first.endswith("True") and "'jax>=0.2.13'" in first, first
    assert read() == first[:-len("True")] + "False"
    (tmp_path / name).write_bytes(content.replace("0.2.13", "0.2.14").encode())
    assert "'jax>=0.2.14'" in read()


def test_setup_py_that_computes_its_requirements_is_refused(cli, tmp_path: Path, index: PackageIndex) -> None:
    root = project(tmp_path, "FROM python:3.11\nRUN pip install jax==0.2.10\n", setup_cfg="")
    (root / "setup.py").write_text("from setuptools import setup\nimport os\n"
                                   "setup(name='numpyro', install_requires=os.environ['REQS'].split())\n")
    r = sync(cli, root, "--version", "0.7.1")
    assert r.code == 2
    assert r.err.startswith("release-hook: setup.py:3: a value is computed")


# -- errors and faults -------------------------------------------------------------------------------

def test_a_skipped_jax_is_explained_by_a_jaxlib_it_accepts(cli, tmp_path: Path, index: PackageIndex) -> None:
    binary_wheels(index, "jaxlib", "0.4.1", cp(11), ">=3.8")  # older than any jax 0.4.14 accepts
    root = project(tmp_path, "FROM nvidia/cuda:12.2.2-cudnn8-runtime-ubuntu22.04\nRUN pip install numpyro==0.10.0 "
                   "jax==0.4.25 jaxlib==0.4.25 jax-cuda12-plugin==0.4.25\n",
                   setup_cfg="[release_hook]\nrequirements = index\npython = 3.11\n")
    r = sync(cli, root, "--version", "0.11.0", "--explain", "--no-verify")  # needs jaxlib>=0.4.1 only
    assert r.code == 0, r.err
    skipped = [line.strip() for line in r.out.splitlines() if line.strip().startswith("skipped jax 0.4.14")]
    # not `jax 0.4.14 needs jaxlib>=0.4.11, not 0.4.1`: why its own jaxlibs would not do
    assert skipped == ["skipped jax 0.4.14: jax's rules: jax-cuda12-plugin==0.4.11 is not on the index for "
                       "Python 3.11 on linux/amd64"], r.out


def test_an_old_sdist_jax_extra_pins_the_jaxlib_its_egg_info_names(cli, tmp_path: Path, index: PackageIndex) -> None:
    # jax 0.3.16's sdist has no Requires-Dist; its egg-info says `[cuda]` wants jaxlib 0.3.15 exactly
    jax_sdist(index, "0.3.16", "0.3.14", requires_python=">=3.7", requires_txt=(
        "absl-py\nnumpy>=1.19\n\n[:python_version < \"3.8\"]\ntyping_extensions\n\n[cpu]\njaxlib==0.3.15\n\n"
        "[cuda]\njaxlib==0.3.15+cuda11.cudnn82\n\n[minimum-jaxlib]\njaxlib==0.3.14\n"))
    index.find_links_page("old_cuda.html", [*cuda_wheels("0.3.14", ["cuda11.cudnn82"]),
                                             *cuda_wheels("0.3.15", ["cuda11.cudnn82"])])
    root = project(tmp_path, "FROM nvidia/cuda:11.4.3-cudnn8-runtime-ubuntu20.04\n"
                   f"RUN pip install 'jax[cuda]==0.3.15' jaxlib==0.3.14+cuda11.cudnn82 -f {index.link_url('old_cuda.html')} "
                   "numpyro==0.9.0\n")
    r = sync(cli, root, "--version", "0.9.0", "--pin", "jax==0.3.16", "--no-verify")
    assert r.code == 0, r.err
    # the minimum pair would be 0.3.14; the extra asks 0.3.15, and pip would refuse anything else
    assert "'jax[cuda]==0.3.16' jaxlib==0.3.15+cuda11.cudnn82 -f" in (root / "Dockerfile").read_text()


def test_a_release_that_puts_jax_behind_an_extra_is_held_to_that_extras_bound(
        cli, tmp_path: Path, index: PackageIndex) -> None:
    # as dm-haiku declares it: jax is optional to install, and the image installs it beside
    index.wheel("haiku-like", "0.2.0", ['jax>=0.4.30; extra == "jax"', 'jaxlib>=0.4.30; extra == "jax"'],
                requires_python=">=3.9")
    root = project(tmp_path, "FROM python:3.11-slim\nRUN pip install jax==0.4.25 jaxlib==0.4.25 haiku-like==0.1.0\n",
                   setup_cfg="[release_hook]\npackage = haiku-like\nrequirements = index\n")
    r = sync(cli, root, "--version", "0.2.0", "--explain")
    assert r.code == 0, r.err
    assert "release needs jax>=0.4.30" in r.out, r.out
    assert (root / "Dockerfile").read_text() == (
        "FROM python:3.11-slim\nRUN pip install jax==0.4.30 jaxlib==0.4.30 haiku-like==0.2.0\n")


@pytest.mark.parametrize("setup, version, message", [
    ("", "0.99.0", "no released jax satisfies jax>=99"),
    ("", "9.9.9", "numpyro 9.9.9 is not on the package index"),
    ("down", "0.7.0", "cannot read numpyro's releases"),
    ("500", "0.7.0", "cannot read numpyro's releases"),
    ("garbage", "0.7.0", "cannot read numpyro's releases"),
])
def test_resolution_errors_change_nothing(cli, tmp_path: Path, index: PackageIndex, setup: str,
                                          version: str, message: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path, "FROM python:3.11\nRUN pip install jax==0.2.10 numpyro==0.6.0\n")
    if setup == "down":
        monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple/")
        message = "cannot read numpyro 0.7.0 metadata"
    elif setup:
        index.faults["/simple/numpyro"] = setup
        message = "cannot read numpyro 0.7.0 metadata"
    r = sync(cli, root, "--version", version)
    assert r.code == 2
    assert message in r.err and len(r.err.splitlines()) == 1, r.err
    assert (root / "Dockerfile").read_text() == "FROM python:3.11\nRUN pip install jax==0.2.10 numpyro==0.6.0\n"


def test_a_slow_index_is_bounded(cli, tmp_path: Path, index: PackageIndex,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELEASE_HOOK_TIMEOUT", "0.3")  # a wait the suite pays: short
    root = project(tmp_path, "FROM python:3.11\nRUN pip install jax==0.2.10 numpyro==0.6.0\n")
    index.faults["/simple/numpyro"] = "slow"
    start = time.monotonic()
    r = sync(cli, root, "--version", "0.7.0")
    assert time.monotonic() - start < 6  # the server answers after 8 s; the timeout is 0.3 s
    # stderr read by a program (here captured) gets the outcome alone, never a progress line
    assert r.code == 2 and r.err.splitlines() == [r.err.strip()] and "no answer within 0.3s" in r.err, r.err


def test_a_slow_index_says_what_it_reads_on_a_terminal(tmp_path: Path, index: PackageIndex) -> None:
    import pty
    import subprocess
    import sys

    root = project(tmp_path, "FROM python:3.11\nRUN pip install jax==0.2.10 numpyro==0.6.0\n")
    index.faults["/simple/numpyro"] = "slow"
    leader, follower = pty.openpty()
    with open(leader, "rb") as terminal:
        p = subprocess.run([sys.executable, "-m", "release_hook", "sync", "Dockerfile", "--no-commit",
                            "--version", "0.7.0"], cwd=root, stdout=subprocess.PIPE, stderr=follower)
        os.close(follower)
        shown = b""
        while True:  # until the child's end of the terminal is closed
            try:
                chunk = os.read(terminal.fileno(), 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    lines = shown.decode().splitlines()
    assert p.returncode == 2
    assert lines[0].startswith("release-hook: reading numpyro from package index 127.0.0.1:"), lines
    assert lines[0].endswith(" ..."), lines
    assert "no answer within 1s" in lines[-1] and len(lines) == 2, lines


def test_find_links_page_without_links_is_an_error(cli, tmp_path: Path, index: PackageIndex) -> None:
    root = project(tmp_path, "FROM nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04\n"
                   f"RUN pip install jax==0.2.10 jaxlib==0.1.62+cuda112 -f {index.link_url('empty.html')}\n")
    index.pages["jax_releases.html"] = ["index.html", "README"]
    (root / "Dockerfile").write_text((root / "Dockerfile").read_text().replace("empty.html", "jax_releases.html"))
    r = sync(cli, root, "--version", "0.7.0")
    assert r.code == 2
    assert "lists no jaxlib wheels" in r.err


def test_unreachable_find_links_page_falls_back_to_the_snapshot(cli, tmp_path: Path, index: PackageIndex) -> None:
    root = project(tmp_path, "FROM nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04\n"
                   "RUN pip install jax==0.2.10 jaxlib==0.1.62+cuda112 "
                   "-f http://127.0.0.1:9/jax-releases/jax_releases.html\n")
    r = sync(cli, root, "--version", "0.7.0", "--explain")
    assert r.code == 0, r.err
    assert "jaxlib==0.1.65+cuda112" in (root / "Dockerfile").read_text()
    assert "snapshot, because cannot read the find-links page" in r.out


def test_unknown_base_image_needs_cuda_setting(cli, tmp_path: Path, index: PackageIndex) -> None:
    text = ("FROM python:3.9\nRUN pip install jax==0.2.10 jaxlib==0.1.62+cuda112 "
            f"-f {index.link_url('jax_releases.html')}\n")
    root = project(tmp_path, text)
    r = sync(cli, root, "--version", "0.7.0")
    assert r.code == 2 and "cannot tell the CUDA version of python:3.9" in r.err
    assert (root / "Dockerfile").read_text() == text
    assert sync(cli, root, "--version", "0.7.0", "--cuda", "11.2").code == 0
    assert "jaxlib==0.1.65+cuda112" in (root / "Dockerfile").read_text()
    (root / "setup.cfg").write_text("[release_hook]\nrequirements = index\ncuda = 10.1\n")
    assert sync(cli, root, "--version", "0.8.0").code == 0
    assert "jaxlib==0.1.66+cuda101" in (root / "Dockerfile").read_text()


def test_no_build_for_the_image(cli, tmp_path: Path, index: PackageIndex) -> None:
    text = ("FROM nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04\n"
            f"RUN pip install jax==0.4.1 jaxlib==0.4.1+cuda11.cudnn86 -f {index.link_url('jax_cuda_releases.html')}\n")
    root = project(tmp_path, text)
    r = sync(cli, root, "--version", "0.11.0")
    assert r.code == 2
    assert "CUDA 11.2" in r.err and "+cuda11.cudnn86 (CUDA 11.8+" in r.err
    assert "Change the base image" in r.err
    assert (root / "Dockerfile").read_text() == text


# -- cache -------------------------------------------------------------------------------------------

def test_offline_uses_what_was_cached_and_a_corrupt_cache_is_rebuilt(cli, tmp_path: Path,
                                                                      index: PackageIndex) -> None:
    text = ("FROM nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04\n"
            f"RUN pip install jax==0.2.10 jaxlib==0.1.62+cuda112 -f {index.link_url('jax_releases.html')}\n")
    root = project(tmp_path, text)
    r = sync(cli, root, "--version", "0.7.0", "--offline")
    assert r.code == 2 and "--offline, and no cached" in r.err
    assert index.hits == []
    assert sync(cli, root, "--version", "0.7.0", "--check").code == 1  # online: reads and caches
    hits = len(index.hits)
    assert sync(cli, root, "--version", "0.7.0", "--offline").code == 0
    assert len(index.hits) == hits
    assert "jaxlib==0.1.65+cuda112" in (root / "Dockerfile").read_text()
    for entry in (tmp_path / "cache").iterdir():
        entry.write_text("{ truncated")
    (root / "Dockerfile").write_text(text)
    assert sync(cli, root, "--version", "0.7.0", "--offline").code == 2  # corrupt: not trusted
    assert sync(cli, root, "--version", "0.7.0").code == 0  # and rebuilt online
    assert len(index.hits) > hits


@pytest.mark.skipif(os.environ.get("RELEASE_HOOK_ONLINE") != "1", reason="set RELEASE_HOOK_ONLINE=1")
@pytest.mark.online
@pytest.mark.parametrize("image, pins, old, new, expected", [
    ("nvidia/cuda:11.2.2-cudnn8-devel-ubuntu20.04", "jax==0.2.10 jaxlib==0.1.62+cuda112", "0.6.0",
     "0.7.0", "jax==0.2.13 jaxlib==0.1.65+cuda112"),
    ("nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04", "jax==0.4.1 jaxlib==0.4.1+cuda11.cudnn86",
     "0.11.0", "0.13.2", "jax==0.4.14 jaxlib==0.4.14+cuda11.cudnn86"),
    ("nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04",
     "jax[cuda12]==0.4.31 jaxlib==0.4.31 jax-cuda12-plugin==0.4.31 jax-cuda12-pjrt==0.4.31",
     # was 0.4.30, from a hard-coded "no plugin before 0.4.30"; the index has them at 0.4.25
     "0.15.3", "0.19.0", "jax[cuda12]==0.4.25 jaxlib==0.4.25 jax-cuda12-plugin==0.4.25 jax-cuda12-pjrt==0.4.25"),
])
def test_online_replay_of_real_releases(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        image: str, pins: str, old: str, new: str, expected: str) -> None:
    """Against the public index the user's pip is configured for (opt-in)."""
    monkeypatch.setenv("RELEASE_HOOK_CACHE_DIR", str(tmp_path / "cache"))
    root = project(tmp_path, f"FROM {image}\nRUN pip3 install {pins} numpyro=={old}\n")
    r = sync(cli, root, "--version", new)
    assert r.code == 0, r.err
    assert expected in (root / "Dockerfile").read_text(), (root / "Dockerfile").read_text()


def test_a_check_of_unchanged_files_and_settings_is_not_decided_again(
        cli, tmp_path: Path, index: PackageIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    from release_hook.resolve import resolver

    text = "FROM python:3.11\nRUN pip install numpyro==0.16.0 jax==0.4.30 jaxlib==0.4.30 scipy==1.12.0 numpy==1.26.4\n"
    root = project(tmp_path, text)
    real, decided = resolver.resolve, []

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        decided.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(resolver, "resolve", counted)
    from release_hook.scancache import ScanCache

    real_scan, scanned = ScanCache.scan_all, []

    def counted_scans(self, read):  # type: ignore[no-untyped-def]
        scanned.append(len(read))
        return real_scan(self, read)

    monkeypatch.setattr(ScanCache, "scan_all", counted_scans)
    first = sync(cli, root, "--version", "0.16.0", "--check")
    assert (first.code, "warning" in first.err, len(decided), scanned) == (0, False, 1, [1])
    again = sync(cli, root, "--version", "0.16.0", "--check")
    # the same bytes, the same settings: not decided, and the Dockerfile's scan not even read back
    assert (again.code, again.err, len(decided), scanned) == (0, "", 1, [1])
    assert sync(cli, root, "--version", "0.16.0", "--check", "--explain").code == 0
    assert len(decided) == 2  # a run that prints its plan decides it
    (root / "Dockerfile").write_text(text + "# a comment\n")
    assert sync(cli, root, "--version", "0.16.0", "--check").code == 0 and len(decided) == 3
    (root / "setup.cfg").write_text("[release_hook]\nrequirements = index\npython = *=3.12\n")
    assert sync(cli, root, "--version", "0.16.0", "--check").code == 0 and len(decided) == 4
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", index.url)  # where packages come from is a setting too
    assert sync(cli, root, "--version", "0.16.0", "--check").code == 0 and len(decided) == 5
    conf = tmp_path / "pip.conf"  # and so is what pip's own files say
    conf.write_text("[global]\ntimeout = 5\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
    assert sync(cli, root, "--version", "0.16.0", "--check").code == 0 and len(decided) == 6
    conf.write_text("[global]\ntimeout = 6\n")
    assert sync(cli, root, "--version", "0.16.0", "--check").code == 0 and len(decided) == 7
    # out of step: never remembered
    (root / "Dockerfile").write_text(text.replace("jax==0.4.30 ", "jax==0.4.31 "))
    for _ in range(2):
        assert sync(cli, root, "--version", "0.16.0", "--check").code == 1
    assert len(decided) == 9


def test_a_remembered_check_says_its_warnings_again_unless_the_network_gave_them(
        cli, tmp_path: Path, index: PackageIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    from release_hook.resolve import resolver

    real, decided = resolver.resolve, []

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        decided.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(resolver, "resolve", counted)
    # offline: the rules decide, and the runtime traps they warn of come from the bytes alone
    root = project(tmp_path, "FROM python:3.11\nRUN pip install numpyro==0.13.0 jax==0.4.14 jaxlib==0.4.14\n")
    given = ("--version", "0.13.0", "--pin", "jax==0.4.14", "--pin", "jaxlib==0.4.14", "--offline", "--check")
    first = sync(cli, root, *given)
    assert first.code == 0 and first.err.count("warning: Dockerfile:2: ") == 2, first.err
    again = sync(cli, root, *given)
    assert (again.code, again.err, len(decided)) == (0, first.err, 1)
    # asked of the resolver, which cannot be reached: that warning is about the network, not the bytes
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/jax-releases/jax_cuda_releases.html"
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.delenv("RELEASE_HOOK_VERIFY", raising=False)  # the suite's default leaves the resolver out
    (root / "Dockerfile").write_text("FROM nvidia/cuda:12.2.2-cudnn8-runtime-ubuntu22.04\nRUN pip install "
                                     f"numpyro==0.15.0 jax==0.4.25 jaxlib==0.4.25+cuda12.cudnn89 -f {dead}\n")
    asked = ("--version", "0.15.0", "--pin", "jax==0.4.25", "--pin", "jaxlib==0.4.25+cuda12.cudnn89", "--check")
    for _ in range(2):
        r = sync(cli, root, *asked)
        assert r.code == 0 and "jaxlib 0.4.25 cannot import NumPy 2" in r.err, (r.err, len(decided))
    assert len(decided) == 3


def test_a_remembered_check_follows_the_requirements_files_that_pin_no_kept_package(
        cli, tmp_path: Path, index: PackageIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    from release_hook.resolve import resolver

    root = project(tmp_path, "FROM python:3.11\nCOPY extra.txt /extra.txt\n"
                   "RUN pip install numpyro==0.16.0 jax==0.4.30 jaxlib==0.4.30 -r /extra.txt\n")
    (root / "extra.txt").write_text("scipy==1.12.0\nnumpy==1.26.4\n")
    real, decided = resolver.resolve, []

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        decided.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(resolver, "resolve", counted)
    for _ in range(2):
        r = sync(cli, root, "--version", "0.16.0", "--check")
        assert (r.code, "warning" in r.err) == (0, False), r.err
    assert len(decided) == 1
    (root / "extra.txt").write_text("scipy==1.12.0\nnumpy==1.26.3\n")  # its neighbours reach the install
    assert sync(cli, root, "--version", "0.16.0", "--check").code == 0 and len(decided) == 2
    (root / "extra.txt").unlink()
    sync(cli, root, "--version", "0.16.0", "--check")
    assert len(decided) == 3


@pytest.mark.parametrize("where, written", [("command", "0.4.14+cuda11.cudnn86"), ("nowhere", "0.4.14")])
def test_a_requirements_file_jaxlib_the_dockerfiles_env_sets_takes_the_build_its_reader_reads(
        cli, tmp_path: Path, index: PackageIndex, where: str, written: str) -> None:
    """The version in the Dockerfile's ENV, the line in the file, the page on the command that
    reads it: the tag follows the reading command, and the ENV is what moves."""
    root = requirements_project(tmp_path, index, where)
    dockerfile = (root / "Dockerfile").read_text().replace("COPY", "ENV JAXLIB=0.4.1\nCOPY", 1)
    (root / "Dockerfile").write_text(dockerfile)
    (root / "requirements.txt").write_text(REQUIREMENTS.format(jaxlib="${JAXLIB}"))
    r = sync(cli, root, "--version", "0.15.0")
    assert r.code == 0, r.err
    assert f"\nENV JAXLIB={written}\n" in (root / "Dockerfile").read_text()
    assert (root / "requirements.txt").read_text() == "numpyro==0.15.0\njax==0.4.14\njaxlib==${JAXLIB}\n"


def test_two_images_alike_but_for_the_page_their_pip_reads_get_their_own_builds(
        cli, tmp_path: Path, index: PackageIndex) -> None:
    """With every version given (--pin), alike decisions of one run are shared: whether pip
    reads jax's page is part of what makes them alike."""
    root = requirements_project(tmp_path, index, "command")
    other = root / "other"
    other.mkdir()
    (other / "Dockerfile").write_text(CUDA11_COPY + "RUN pip install -r /tmp/requirements.txt\n")
    (other / "requirements.txt").write_text(REQUIREMENTS.format(jaxlib="0.4.1"))
    r = cli("sync", "Dockerfile", "other/Dockerfile", "--no-commit", "--no-verify", "--version", "0.15.0",
            "--pin", "jax==0.4.14", "--pin", "jaxlib==0.4.14", cwd=root)
    assert r.code == 0, r.err
    assert (root / "requirements.txt").read_text().endswith("\njaxlib==0.4.14+cuda11.cudnn86\n")
    assert (other / "requirements.txt").read_text().endswith("\njaxlib==0.4.14\n")


def test_two_pins_of_two_files_that_need_one_variable_differently_are_named_with_their_files(
        cli, tmp_path: Path, index: PackageIndex) -> None:
    root = requirements_project(tmp_path, index, "command")
    dockerfile = (root / "Dockerfile").read_text().replace("COPY", "ENV V=0.4.1\nCOPY", 1).replace(
        "-r /tmp/requirements.txt", "-r /tmp/requirements.txt jax==${V}")
    (root / "Dockerfile").write_text(dockerfile)
    (root / "requirements.txt").write_text("numpyro==0.13.2\njaxlib==${V}\n")
    r = sync(cli, root, "--version", "0.15.0")
    assert r.code == 2, r.err
    message = r.err.splitlines()[0]
    assert "needs '0.4.14+cuda11.cudnn86' where jax (Dockerfile:4) needs '0.4.14'" in message or \
        "needs '0.4.14' where jaxlib (requirements.txt:2) needs '0.4.14+cuda11.cudnn86'" in message, message


def test_a_decision_of_given_versions_is_remembered_and_decided_again_when_what_it_read_changes(
        cli, tmp_path: Path, index: PackageIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every version given by --pin: the build is still chosen (from jax's page, the image's
    CUDA) and remembered; a run with another base image, other pins or other pip settings
    decides again."""
    from release_hook.resolve import deciding

    page = index.link_url("jax_cuda_releases.html")
    root = project(tmp_path, CUDA11 + f"RUN pip install {PINS} -f {page}\n")
    real, decided = deciding.Deciding.decide, []

    def counted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        decided.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(deciding.Deciding, "decide", counted)
    given = ("--version", "0.15.0", "--pin", "jax==0.4.14", "--pin", "jaxlib==0.4.14", "--dry-run")
    for _ in range(2):
        r = sync(cli, root, *given)
        assert r.code == 0 and "jaxlib ==0.4.1 -> 0.4.14+cuda11.cudnn86 [--pin; build +cuda11.cudnn86" in r.out, r.out
    assert len(decided) == 1
    dockerfile = root / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace("11.8.0-cudnn8", "12.2.2-cudnn8"))
    r = sync(cli, root, *given)
    assert r.code == 0 and "-> 0.4.14+cuda12.cudnn89" in r.out, r.out
    r = sync(cli, root, "--version", "0.15.0", "--pin", "jax==0.4.13", "--pin", "jaxlib==0.4.13", "--dry-run")
    assert r.code == 0 and "-> 0.4.13+cuda12.cudnn89" in r.out, r.out
    assert len(decided) == 3
    monkeypatch.setenv("PIP_FIND_LINKS", page)  # pip's settings: what the build and proof read
    assert sync(cli, root, "--version", "0.15.0", "--pin", "jax==0.4.13", "--pin", "jaxlib==0.4.13").code == 0
    assert len(decided) == 4
