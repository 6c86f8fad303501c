"""The image's Python and platform per build stage, and where each answer came from."""
from __future__ import annotations

from pathlib import Path

import pytest

from release_hook import config as cfg
from release_hook.dockerfile import parse
from release_hook.errors import UserError
from release_hook.pins import Scan, find_pins
from release_hook.request import Request
from release_hook.resolve.baseimage import read as base_image
from release_hook.resolve.image import Image, images_of
from release_hook.scancache import ScanCache

ROOT = "/work/project"
PATH = f"{ROOT}/docker/Dockerfile"


def said(image: Image, key: str) -> str:
    """Where the image's Python or platform came from, in the words --explain prints."""
    return image.origins[key].words(image.name, key)


def scan_of(text: str, path: str = PATH) -> Scan:
    return find_pins(parse(text, path), "numpyro")


def images(text: str, setup_cfg: str = "", python: str | None = None,
           platform: str | None = None) -> tuple[Image, ...]:
    conf = cfg.from_text(ROOT, setup_cfg, f"{ROOT}/setup.cfg")
    request = Request((), "1.0", {}, "check", False, True, python=python, platform=platform)
    return images_of(scan_of(text), conf, request)


DEADSNAKES = """\
FROM nvidia/cuda:12.3.2-cudnn9-runtime-ubuntu22.04
RUN apt-get update && apt-get install -y --no-install-recommends software-properties-common \\
    && add-apt-repository -y ppa:deadsnakes/ppa \\
    && apt-get install -y --no-install-recommends python3.11 python3.11-venv python3-pip
"""

# (Dockerfile, stage, Python, a piece of where it came from)
CASES = [
    pytest.param("FROM python:3.10-slim\nRUN pip install numpyro==0.15.0\n", 0, "3.10",
                 "base image python:3.10-slim", id="python-slim"),
    pytest.param("FROM python:3.11.7-slim-bookworm\nRUN pip install jax==0.4.25\n", 0, "3.11",
                 "base image python:3.11.7-slim-bookworm", id="python-patch-bookworm"),
    pytest.param("FROM docker.io/library/python:3.12-bookworm@sha256:0123abcd\n"
                 "RUN python -m pip install jax==0.4.30\n", 0, "3.12", "base image", id="python-full-ref"),
    pytest.param("FROM nvidia/cuda:12.3.2-cudnn9-runtime-ubuntu22.04\n"
                 "RUN apt-get update && apt-get install -y python3-pip\n"
                 'RUN pip install numpyro==0.15.0 "jax[cuda12]==0.4.25" jaxlib==0.4.25\n', 0, "3.10",
                 "base image nvidia/cuda:12.3.2-cudnn9-runtime-ubuntu22.04, Ubuntu 22.04's python3",
                 id="nvidia-cuda-ubuntu22.04"),
    pytest.param("FROM nvidia/cuda:11.2.2-cudnn8-devel-ubuntu20.04\nRUN pip3 install jax==0.2.10\n", 0,
                 "3.8", "Ubuntu 20.04's python3", id="nvidia-cuda-ubuntu20.04"),
    pytest.param("FROM ubuntu:18.04\nRUN pip3 install jax==0.1\n", 0, "3.6", "Ubuntu 18.04", id="ubuntu-18.04"),
    pytest.param("FROM ubuntu:jammy\nRUN pip3 install jax==0.1\n", 0, "3.10", "Ubuntu 22.04", id="ubuntu-jammy"),
    pytest.param("FROM ubuntu:noble-20240801\nRUN pip3 install jax==0.1\n", 0, "3.12", "Ubuntu 24.04",
                 id="ubuntu-noble-dated"),
    pytest.param("FROM debian:buster\nRUN pip3 install jax==0.1\n", 0, "3.7", "Debian 10", id="debian-buster"),
    pytest.param("FROM debian:11-slim\nRUN pip3 install jax==0.1\n", 0, "3.9", "Debian 11", id="debian-11-slim"),
    pytest.param("FROM debian:bookworm-slim\nRUN pip3 install jax==0.1\n", 0, "3.11", "Debian 12",
                 id="debian-bookworm-slim"),
    pytest.param("FROM debian:13.1\nRUN pip3 install jax==0.1\n", 0, "3.13", "Debian 13", id="debian-13.1"),
    pytest.param("FROM arm64v8/debian:trixie\nRUN pip3 install jax==0.1\n", 0, "3.13", "Debian 13",
                 id="arm64v8-debian-trixie"),
    # What the file installs, when it is what runs pip.
    pytest.param(DEADSNAKES + "RUN python3.11 -m pip install jax==0.4.30\n", 0, "3.11",
                 "python3.11 -m pip install at line 5", id="deadsnakes-python3.11-m-pip"),
    pytest.param(DEADSNAKES + "RUN curl -sS https://bootstrap.pypa.io/get-pip.py | python3.11\n"
                 "RUN pip install jax==0.4.30\n", 0, "3.11",
                 "pip installed by python3.11 at line 5, which runs pip at line 6", id="deadsnakes-get-pip"),
    pytest.param(DEADSNAKES + "RUN update-alternatives --install /usr/bin/python3 python3 /usr/bin/python3.10 1 \\\n"
                 " && update-alternatives --install /usr/bin/python3 python3 /usr/bin/python3.11 2\n"
                 "RUN python3 -m pip install jax==0.4.30\n", 0, "3.11",
                 "update-alternatives --install /usr/bin/python3 python3 /usr/bin/python3.11 2 at line 6, which runs pip at line 7",
                 id="deadsnakes-alternatives"),
    pytest.param(DEADSNAKES + "RUN python3.11 -m venv /opt/venv\nENV PATH=/opt/venv/bin:$PATH\n"
                 "RUN pip install jax==0.4.30\n", 0, "3.11",
                 "venv /opt/venv made by python3.11 at line 5, on PATH, which runs pip at line 7",
                 id="deadsnakes-venv-on-path"),
    pytest.param(DEADSNAKES + "ENV VIRTUAL_ENV=/venv PATH=/venv/bin:$PATH\nRUN python3.11 -m venv $VIRTUAL_ENV\n"
                 "RUN pip install jax==0.4.30\n", 0, "3.11", "venv /venv made by python3.11 at line 6",
                 id="path-set-before-the-venv"),
    pytest.param(DEADSNAKES + "RUN python3.11 -m venv /venv && . /venv/bin/activate && pip install jax==0.4.30\n",
                 0, "3.11", "venv /venv made by python3.11", id="venv-activated-in-the-run"),
    # ... and when it is not: pip3 still runs under Ubuntu's python3, and the answer says so.
    pytest.param("FROM ubuntu:22.04\nRUN apt-get install -y python3.11=3.11.0-1+jammy2 && pip3 install jax==0.4.30\n",
                 0, "3.10", "the file also installs 3.11 (apt-get install python3.11=3.11.0-1+jammy2 at line 2)",
                 id="apt-version-pinned-but-pip3"),
    pytest.param(DEADSNAKES + "RUN pip3 install jax==0.4.30\n", 0, "3.10",
                 "the file also installs 3.11 (apt-get install python3.11 (deadsnakes) at line 4), "
                 "but pip does not run under it", id="deadsnakes-but-pip3-is-ubuntus"),
    pytest.param("FROM python:3.12\nRUN python -m venv /venv\nENV PATH=/venv/bin:$PATH\nRUN pip install jax==0.4.30\n",
                 0, "3.12", "base image python:3.12", id="venv-of-the-base-python"),
    # uv
    pytest.param("FROM ubuntu:22.04\nCOPY --from=ghcr.io/astral-sh/uv:0.5 /uv /bin/uv\n"
                 "RUN uv python install 3.12 && uv venv --python 3.12 /opt/venv\n"
                 "ENV VIRTUAL_ENV=/opt/venv\nRUN uv pip install jax==0.4.30\n", 0, "3.12",
                 "venv /opt/venv made by uv venv --python 3.12 at line 3", id="uv-venv"),
    pytest.param("FROM ubuntu:22.04\nRUN uv pip install --system --python python3.12 jax==0.4.30\n", 0, "3.12",
                 "uv pip install --python python3.12 at line 2", id="uv-pip-python"),
    pytest.param("FROM ubuntu:24.04\nRUN uv pip install --system jax==0.4.30\n", 0, "3.12",
                 "Ubuntu 24.04's python3", id="uv-pip-system"),
    # conda, mamba, pyenv
    pytest.param("FROM continuumio/miniconda3\nRUN conda install -y python=3.10 pip\n"
                 "RUN pip install jax==0.4.30\n", 0, "3.10", "conda install python=3.10 at line 2",
                 id="conda-base"),
    pytest.param("FROM condaforge/miniforge3:24.3.0-0\nRUN mamba create -y -n jax python=3.9\n"
                 "RUN mamba run -n jax pip install jax==0.4.30\n", 0, "3.9",
                 "mamba create -n jax python=3.9 at line 2, which runs pip at line 3", id="mamba-run"),
    pytest.param("FROM continuumio/miniconda3\nRUN conda create -y -n app python==3.11.5\n"
                 'SHELL ["conda", "run", "-n", "app", "/bin/bash", "-c"]\nRUN pip install jax==0.4.30\n',
                 0, "3.11", "conda create -n app python==3.11.5 at line 2", id="conda-shell"),
    pytest.param("FROM ubuntu:22.04\nENV PYENV_ROOT=/root/.pyenv PATH=/root/.pyenv/shims:/root/.pyenv/bin:$PATH\n"
                 "RUN pyenv install 3.11.7 && pyenv global 3.11.7\nRUN pip install jax==0.4.30\n", 0, "3.11",
                 "pyenv global 3.11.7 at line 3", id="pyenv"),
    # ARG PYTHON_VERSION used in such commands
    pytest.param("ARG PYTHON_VERSION=3.11\nFROM ubuntu:22.04\nARG PYTHON_VERSION\n"
                 "RUN apt-get install -y python${PYTHON_VERSION} && python${PYTHON_VERSION} -m pip install jax==0.4.30\n",
                 0, "3.11", "python3.11 -m pip install at line 4 [PYTHON_VERSION=3.11 at line 1]", id="arg-python-version"),
    pytest.param("FROM ubuntu:22.04\nARG PY=3.9\nRUN conda install -y python=$PY && pip install jax==0.4.30\n",
                 0, "3.9", "conda install python=3.9 at line 3 [PY=3.9 at line 2]", id="arg-in-conda"),
    # several stages: FROM an earlier stage inherits what it did
    pytest.param(DEADSNAKES.replace("FROM nvidia", "FROM nvidia", 1).replace("ubuntu22.04\n", "ubuntu22.04 AS base\n")
                 + "RUN python3.11 -m venv /opt/venv\nENV PATH=/opt/venv/bin:$PATH\n"
                 "FROM base AS app\nRUN pip install jax==0.4.30\n", 1, "3.11",
                 "venv /opt/venv made by python3.11 at line 5, on PATH, which runs pip at line 8",
                 id="inherits-a-venv"),
    pytest.param(DEADSNAKES.replace("ubuntu22.04\n", "ubuntu22.04 AS build\n")
                 + "RUN python3.11 -m venv /opt/venv\nFROM nvidia/cuda:12.3.2-cudnn9-runtime-ubuntu22.04\n"
                 "COPY --from=build /opt/venv /opt/venv\nENV PATH=/opt/venv/bin:$PATH\nRUN pip install jax==0.4.30\n",
                 1, "3.11", "venv /opt/venv made by python3.11 at line 5, copied to /opt/venv at line 7, on PATH, "
                 "which runs pip at line 9", id="venv-copied-from-a-stage"),
    pytest.param("FROM python:3.11-slim AS build\nRUN pip wheel -w /w numpy\n"
                 "FROM build\nRUN pip install jax==0.4.30\n", 1, "3.11", "base image python:3.11-slim",
                 id="inherits-the-base"),
    pytest.param("FROM python:3.9 AS a\nRUN pip install jax==0.4.1\nFROM ubuntu:24.04\nRUN pip3 install jax==0.4.30\n",
                 1, "3.12", "Ubuntu 24.04", id="second-stage-own-base"),
    # every form a RUN takes: exec form, heredoc, sh -c, wrappers, paths
    pytest.param('FROM ubuntu:22.04\nRUN ["python3.11", "-m", "pip", "install", "jax==0.4.30"]\n', 0, "3.11",
                 "python3.11 -m pip install at line 2", id="exec-form"),
    pytest.param("FROM ubuntu:22.04\nRUN <<EOF\nset -e\npython3.11 -m venv /v\n/v/bin/pip install jax==0.4.30\nEOF\n",
                 0, "3.11", "venv /v made by python3.11 at line 4, which runs pip at line 5", id="heredoc-venv-path"),
    pytest.param("FROM ubuntu:22.04\nRUN sh -c 'sudo -H python3.12 -m pip install jax==0.4.30'\n", 0, "3.12",
                 "python3.12 -m pip install at line 2", id="sh-c-sudo"),
    pytest.param(DEADSNAKES + "RUN ln -sf /usr/bin/python3.11 /usr/bin/python3 && python3 -m pip install jax==0.4.30\n",
                 0, "3.11", "ln -s /usr/bin/python3.11 /usr/bin/python3 at line 5", id="ln-python3"),
    pytest.param("FROM debian:12\nRUN uv venv -p 3.13 && uv pip install jax==0.4.30\n", 0, "3.13",
                 "venv .venv made by uv venv --python 3.13 at line 2", id="uv-venv-default-folder"),
    pytest.param("FROM continuumio/miniconda3\nRUN conda create -y -p /env python=3.10 && conda run -p /env "
                 "python -m pip install jax==0.4.30\n", 0, "3.10", "conda create -p /env python=3.10 at line 2",
                 id="conda-prefix-run"),
    # wrappers in front of pip: the pip run is recorded, not only its pin (Ubuntu 22.04's own is 3.10)
    pytest.param("FROM ubuntu:jammy\nRUN stdbuf -o L python3.11 -m pip install jax==0.4.30\n", 0, "3.11",
                 "python3.11 -m pip install at line 2", id="stdbuf"),
    pytest.param("FROM ubuntu:jammy\nCOPY reqs.txt /r\nRUN xargs -a /r python3.11 -m pip install jax==0.4.30\n", 0,
                 "3.11", "python3.11 -m pip install at line 3", id="xargs-a"),
    pytest.param("FROM ubuntu:jammy\nRUN timeout 600 nice -n 5 python3.11 -m pip install jax==0.4.30\n", 0, "3.11",
                 "python3.11 -m pip install at line 2", id="timeout-nice"),
    pytest.param("FROM continuumio/miniconda3\nRUN conda create -y -n app python=3.11\n"
                 "RUN conda run --no-capture-output -n app python -m pip install jax==0.4.30\n", 0, "3.11",
                 "conda create -n app python=3.11 at line 2, which runs pip at line 3", id="conda-run-python-m-pip"),
    pytest.param("FROM mambaorg/micromamba:1.5\nRUN micromamba create -y -n app python=3.10\n"
                 "RUN micromamba run -n app pip install jax==0.4.30\n", 0, "3.10",
                 "micromamba create -n app python=3.10 at line 2, which runs pip at line 3", id="micromamba-run"),
    # the pin's pip decides when a stage runs two Pythons, even on one line
    pytest.param("FROM ubuntu:22.04\nRUN pip3 install -U setuptools && apt-get install -y python3.11 && "
                 "python3.11 -m pip install jax==0.4.30\n", 0, "3.11", "python3.11 -m pip install at line 2",
                 id="pip-of-the-pin-on-one-line"),
    pytest.param("FROM ubuntu:22.04\nRUN pip3 install -U setuptools\nRUN apt-get install -y python3.11\n"
                 "RUN python3.11 -m pip install jax==0.4.30\n", 0, "3.11", "python3.11 -m pip install at line 4",
                 id="pip-of-the-pin"),
]


@pytest.mark.parametrize("text, stage, python, why", CASES)
def test_python_of_each_stage(text: str, stage: int, python: str, why: str) -> None:
    image = images(text)[stage]
    assert image.python_text == python
    assert why in said(image, "python")
    assert image.needs_python("jax") == tuple(map(int, python.split(".")))


UNKNOWN = [
    pytest.param("FROM ghcr.io/example/ml-base:2024.1\nRUN pip install jax==0.4.30\n", 1,
                 "nothing in the file says which, and the base image ghcr.io/example/ml-base:2024.1 does not",
                 id="not-our-base"),
    pytest.param("FROM python:3\nRUN pip install jax==0.4.30\n", 1, "base image python:3 does not",
                 id="python-major-only"),
    pytest.param("FROM ubuntu:latest\nRUN pip3 install jax==0.4.30\n", 1, "ubuntu:latest does not",
                 id="ubuntu-latest-moves"),
    pytest.param("FROM ubuntu:22.04 AS a\nRUN python3 -m pip install -U pip\n"
                 "RUN apt-get install -y python3.11 && python3.11 -m pip install jax==0.4.30 && pip3 install jaxlib==0.4.30\n",
                 1, "pip runs under more than one Python in this stage: 3.11 (python3.11 -m pip install at line 3); "
                 "3.10 (base image ubuntu:22.04, Ubuntu 22.04's python3, which runs pip at line 3)", id="two-pythons"),
    pytest.param("FROM python:3.11\nRUN . /opt/env/bin/activate && pip install jax==0.4.30\n", 1,
                 ". /opt/env/bin/activate at line 2 (a venv the file does not make)", id="foreign-venv"),
    pytest.param("FROM python:3.11\nRUN /opt/tools/bin/pip install jax==0.4.30\n", 1,
                 "/opt/tools/bin/pip at line 2 (not made by the file)", id="foreign-pip"),
    pytest.param("FROM ubuntu:22.04\nRUN python$(cat /version) -m pip install jax==0.4.30\n", 1,
                 "python$(...) at line 2 (computed at build time)", id="computed"),
    pytest.param("ARG PYTHON_VERSION=3.11\nFROM ubuntu:22.04\nRUN python${PYTHON_VERSION} -m pip install jax==0.4.30\n",
                 2, "a variable no ENV or ARG of this stage sets", id="global-arg-not-redeclared"),
]


@pytest.mark.parametrize("text, from_line, why", UNKNOWN)
def test_unknown_python_is_an_error_at_the_from_line(text: str, from_line: int, why: str) -> None:
    image = images(text)[0]
    assert image.python is None
    assert why in said(image, "python")
    with pytest.raises(UserError) as e:
        image.needs_python("jax 0.4.30's Requires-Python")
    assert str(e.value).startswith(f"{PATH}:{from_line}: jax 0.4.30's Requires-Python depends on the image's "
                                   "python, and ")
    assert str(e.value).endswith(": set [release_hook] python in setup.cfg "
                                 "(e.g. `python = docker/Dockerfile=3.11`) or pass --python 3.11")
    # the user's word settles it
    assert images(text, python="3.10")[0].needs_python("jax") == (3, 10)


PLATFORMS = [
    pytest.param("FROM python:3.11\n", "linux/amd64", "default: nothing in the file says otherwise", id="default"),
    pytest.param("FROM --platform=linux/arm64 python:3.11\n", "linux/arm64",
                 "FROM --platform=linux/arm64 at line 1", id="from-platform"),
    pytest.param("FROM --platform=linux/arm64/v8 python:3.11\n", "linux/arm64", "at line 1", id="arm64-v8"),
    pytest.param("ARG PLAT=linux/arm64\nFROM --platform=${PLAT} python:3.11\n", "linux/arm64",
                 "FROM --platform=$PLAT at line 2 [PLAT=linux/arm64 at line 1]", id="from-platform-arg"),
    pytest.param("FROM arm64v8/python:3.11-slim\n", "linux/arm64", "base image arm64v8/python:3.11-slim",
                 id="arm64v8"),
    pytest.param("FROM quay.io/pypa/manylinux2014_aarch64\n", "linux/arm64", "base image quay.io", id="aarch64"),
    pytest.param("FROM --platform=$BUILDPLATFORM python:3.11\n", None,
                 "FROM --platform=$BUILDPLATFORM at line 1: the build decides it", id="buildplatform"),
    pytest.param("ARG TARGETPLATFORM\nFROM --platform=$TARGETPLATFORM python:3.11\n", None,
                 "the build decides it", id="targetplatform"),
    pytest.param("FROM --platform=linux/arm64 python:3.11 AS build\nFROM build\n", "linux/arm64",
                 "FROM --platform=linux/arm64 at line 1", id="inherited"),
]


@pytest.mark.parametrize("text, platform, why", PLATFORMS)
def test_platform_of_each_stage(text: str, platform: str | None, why: str) -> None:
    image = images(text)[-1]
    assert image.platform == platform
    assert why in said(image, "platform")
    if platform is None:
        with pytest.raises(UserError, match=r"Dockerfile:\d+: the wheel's tag depends on the image's platform, "
                           r"and .*the build decides it.*--platform linux/amd64$"):
            image.needs_platform("the wheel's tag")
        assert images(text, platform="arm64")[-1].platform == "linux/arm64"
    else:
        assert image.machine == {"linux/amd64": "x86_64", "linux/arm64": "aarch64"}[platform]


def test_base_image_table_matches_the_distributions_python3() -> None:
    # python3-defaults of each release (packages.ubuntu.com, packages.debian.org)
    expected = {"ubuntu:16.04": (3, 5), "ubuntu:18.04": (3, 6), "ubuntu:20.04": (3, 8),
                "ubuntu:22.04": (3, 10), "ubuntu:24.04": (3, 12), "ubuntu:26.04": (3, 14),
                "ubuntu:resolute": (3, 14), "debian:stretch": (3, 5), "debian:10": (3, 7),
                "debian:bullseye": (3, 9), "debian:12": (3, 11), "debian:trixie-slim": (3, 13),
                "buildpack-deps:bookworm": (3, 11), "node:20-bookworm": (3, 11)}
    assert {name: base_image(name).python for name in expected} == expected
    for unknown in ("ubuntu:25.04x", "debian:sid", "pypy:3.10", "python:latest", "nvidia/cuda:12.3.2-base-ubi9"):
        assert base_image(unknown).python is None, unknown


def test_a_python_the_tag_names_wins_over_its_distribution_s_python3() -> None:
    # uv's images are built on python:3.X images: the tag says the Python, not Debian 12's 3.11
    for name, python in (("ghcr.io/astral-sh/uv:python3.12-bookworm-slim", (3, 12)),
                         ("ghcr.io/astral-sh/uv:0.5.25-python3.13-alpine", (3, 13))):
        assert base_image(name).python == python, name
    image = images("FROM ghcr.io/astral-sh/uv:python3.12-bookworm-slim\nRUN pip install jax==0.4.30\n")[0]
    assert said(image, "python") == "base image ghcr.io/astral-sh/uv:python3.12-bookworm-slim", said(image, "python")


# -- the user's word: setup.cfg per glob, then the flag ------------------------------------------

FILE = "FROM nvidia/cuda:12.3.2-cudnn9-runtime-ubuntu22.04\nRUN pip install jax==0.4.30\n"


def test_config_per_glob_then_flag_override_the_file() -> None:
    assert images(FILE)[0].python_text == "3.10"
    other = images(FILE, "[release_hook]\npython = other/*=3.9\nplatform = other/*=linux/arm64\n")[0]
    assert (other.python_text, other.platform) == ("3.10", "linux/amd64")
    conf = "[release_hook]\npython = docker/*=3.12, 3.9\nplatform = docker/*=aarch64\n"
    image = images(FILE, conf)[0]
    assert (image.python_text, image.platform) == ("3.12", "linux/arm64")
    assert said(image, "python") == (
        "[release_hook] python docker/*=3.12 (the file alone says 3.10: base image "
        "nvidia/cuda:12.3.2-cudnn9-runtime-ubuntu22.04, Ubuntu 22.04's python3)")
    assert said(image, "platform") == "[release_hook] platform docker/*=linux/arm64"
    # values, not prose: what overrode what, and where the file's own answer came from
    python = image.origins["python"]
    assert (python.by, python.setting) == ("setting", "docker/*=3.12")
    assert python.overrides is not None and python.overrides[0] == "3.10" and python.overrides[1].by == "base"
    image = images(FILE, conf, python="3.11", platform="linux/amd64")[0]
    assert (image.python_text, image.platform) == ("3.11", "linux/amd64")
    assert said(image, "python").startswith("--python (the file alone says 3.10")
    assert said(image, "platform") == "--platform"
    # a bare value is every file
    assert images(FILE, "[release_hook]\npython = 3.9\n")[0].python_text == "3.9"


@pytest.mark.parametrize("setting, message", [
    ("python = docker/*=three", "[release_hook] python docker/*=three: Python version 'three': expected "
                                "MAJOR.MINOR, like 3.11"),
    ("platform = windows/amd64", "[release_hook] platform *=windows/amd64: unknown platform 'windows/amd64': "
                                 "expected one of linux/amd64, linux/arm64"),
])
def test_bad_settings_name_setup_cfg(setting: str, message: str) -> None:
    with pytest.raises(UserError) as e:
        cfg.from_text(ROOT, f"[release_hook]\n{setting}\n", f"{ROOT}/setup.cfg")
    assert str(e.value).startswith(f"{ROOT}/setup.cfg:2: {message}")


# -- the scan cache keeps the facts --------------------------------------------------------------

def test_scan_cache_round_trip_does_not_read_the_file_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (DEADSNAKES.replace("ubuntu22.04\n", "ubuntu22.04 AS base\n")
            + "RUN python3.11 -m venv /opt/venv\nENV PATH=/opt/venv/bin:$PATH\nRUN pip install jax==0.4.30\n"
            "FROM --platform=$TARGETPLATFORM base\nRUN conda install python=3.9 && pip install jaxlib==0.4.30\n")
    path = str(tmp_path / "Dockerfile")
    monkeypatch.setenv("RELEASE_HOOK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("RELEASE_HOOK_NO_CACHE", raising=False)
    first = ScanCache("numpyro", str(tmp_path))
    fresh = first.scan_all([(path, text.encode())])[0]
    first.save()
    assert fresh.stages == scan_of(text, path).stages and len(fresh.stages) == 2
    assert fresh.stages[1].parent == 0 and fresh.stages[1].platform is not None

    def no_parse(*args: object) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr("release_hook.walk.walk", no_parse)
    cached = ScanCache("numpyro", str(tmp_path)).scan_all([(path, text.encode())])[0]
    assert cached == fresh


# -- sync --explain ----------------------------------------------------------------------------

EXPLAINED = """\
ARG PYTHON_VERSION=3.11
FROM nvidia/cuda:12.3.2-cudnn9-runtime-ubuntu22.04 AS system
RUN apt-get update && apt-get install -y python3-pip && \\
    pip install numpyro==0.15.0 jax==0.4.25 jaxlib==0.4.25
FROM --platform=linux/arm64 ubuntu:22.04 AS deadsnakes
ARG PYTHON_VERSION
RUN add-apt-repository ppa:deadsnakes/ppa && apt-get install -y python${PYTHON_VERSION}
RUN python${PYTHON_VERSION} -m pip install numpyro==0.15.0 jax==0.4.25
FROM ghcr.io/example/base:1 AS theirs
RUN pip install jax==0.4.25
"""

PINS = ("--pin", "jax==0.4.25", "--pin", "jaxlib==0.4.25+cuda12.cudnn89")


def test_sync_explain_shows_each_images_python_platform_and_cuda(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from conftest import git

    root = tmp_path / "repo"
    (root / "docker").mkdir(parents=True)
    (root / "docker" / "Dockerfile").write_text(EXPLAINED)
    (root / "setup.cfg").write_text("[release_hook]\npython = docker/other*=3.9\n")
    (root / ".bumpversion.cfg").write_text("[bumpversion]\ncurrent_version = 0.15.0\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "init")
    r = cli("sync", "--explain", *PINS, cwd=root)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    start = lines.index("  stage 0 (line 2): nvidia/cuda:12.3.2-cudnn9-runtime-ubuntu22.04")
    assert lines[start:start + 12] == [
        "  stage 0 (line 2): nvidia/cuda:12.3.2-cudnn9-runtime-ubuntu22.04",
        "    python 3.10 (base image nvidia/cuda:12.3.2-cudnn9-runtime-ubuntu22.04, Ubuntu 22.04's python3)",
        "    platform linux/amd64 (default: nothing in the file says otherwise)",
        "    CUDA 12.3 with cuDNN 9 (base image nvidia/cuda:12.3.2-cudnn9-runtime-ubuntu22.04)",
        "  stage 1 (line 5): ubuntu:22.04",
        "    python 3.11 (python3.11 -m pip install at line 8 [PYTHON_VERSION=3.11 at line 1])",
        "    platform linux/arm64 (FROM --platform=linux/arm64 at line 5)",
        "    no CUDA (the base image name does not say)",
        "  stage 2 (line 9): ghcr.io/example/base:1",
        "    python unknown (nothing in the file says which, and the base image ghcr.io/example/base:1 does not)",
        "    platform linux/amd64 (default: nothing in the file says otherwise)",
        "    no CUDA (the base image name does not say)",
    ]
    # setup.cfg for this file, then the flag, each saying what it overrode
    (root / "setup.cfg").write_text("[release_hook]\npython = docker/*=3.12\nplatform = linux/arm64\n")
    git(root, "commit", "-qam", "config")
    r = cli("sync", "--explain", *PINS, cwd=root)
    assert r.code == 0, r.err
    assert ("    python 3.12 ([release_hook] python docker/*=3.12 (the file alone says 3.10: base image "
            "nvidia/cuda:12.3.2-cudnn9-runtime-ubuntu22.04, Ubuntu 22.04's python3))") in r.out
    assert "    platform linux/arm64 ([release_hook] platform *=linux/arm64)" in r.out
    r = cli("sync", "--explain", "--python", "3.9.18", "--platform", "x86_64", *PINS, cwd=root)
    assert r.code == 0, r.err
    assert r.out.count("    python 3.9 (--python (the file alone says") == 2  # stage 2 said nothing
    assert "    python 3.9 (--python)\n" in r.out
    assert r.out.count("    platform linux/amd64 (--platform)") == 3
    assert git(root, "status", "--porcelain").stdout == ""  # in step: nothing written


@pytest.mark.parametrize("args, message", [
    (("--python", "3"), "release-hook: --python: Python version '3': expected MAJOR.MINOR, like 3.11\n"),
    (("--platform", "mips"), "release-hook: --platform: unknown platform 'mips': expected one of linux/amd64, "),
])
def test_bad_flags_exit_2(cli, tmp_path: Path, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "Dockerfile").write_text(FILE)
    r = cli("sync", "Dockerfile", "--version", "1.0", "--dry-run", *args)
    assert r.code == 2 and r.err.startswith(message) and r.out == ""


def test_bad_setting_exits_2_naming_setup_cfg(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "Dockerfile").write_text(FILE)
    (tmp_path / "setup.cfg").write_text("[release_hook]\npython = 3.x\n")
    r = cli("sync", "Dockerfile", "--version", "1.0", "--dry-run")
    assert r.code == 2
    assert r.err == (f"release-hook: {tmp_path}/setup.cfg:2: [release_hook] python *=3.x: Python version '3.x': "
                     "expected MAJOR.MINOR, like 3.11\n")
