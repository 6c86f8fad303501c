"""The image as an input of the resolver: its Python and platform, jax's pairing rules read from
each release's metadata, the minimum policy's lowest pair, `latest` as of a date, runtime traps.
Against the loopback index of test_resolve (real-shaped wheels and metadata)."""
from __future__ import annotations

import datetime
import os
import shlex
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from packaging.version import Version

from pkgindex import PackageIndex
from release_hook import config as cfg
from release_hook.errors import UserError
from release_hook.request import Request
from release_hook.resolve import pairing, traps
from release_hook.resolve.image import Image
from release_hook.resolve.index import Dist
from release_hook.resolve.view import View, offers, wheel_fits
from release_hook.sync import plan
from test_resolve import index, project, sync  # noqa: F401  (index is a fixture)

CASE_1 = ('FROM nvidia/cuda:12.3.2-cudnn9-runtime-ubuntu22.04\n'
          'RUN pip install numpyro==0.15.0 "jax[cuda12]==0.4.25" jaxlib==0.4.25 jax-cuda12-plugin==0.4.25\n')


# -- the three cases of issue 8 --------------------------------------------------------------------

def test_minimum_is_the_lowest_pair_that_imports(cli, tmp_path: Path, index: PackageIndex,
                                                 monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Was `jax[cuda12]==0.4.14 jaxlib==0.4.30`: jax 0.4.14 has no cuda12 extra, and jax refuses
    a jaxlib newer than itself. jax 0.4.22's cuda12 extra installs jax-cuda12-plugin 0.4.22, but
    that plugin requires jax-cuda12-pjrt 0.4.22, which was never published: 0.4.25 is the lowest."""
    root = project(tmp_path, CASE_1)
    r = sync(cli, root, "--version", "0.15.0", "--explain")
    assert r.code == 0, r.err
    assert (root / "Dockerfile").read_text() == CASE_1
    assert "python 3.10 (" in r.out and "platform linux/amd64 (" in r.out
    assert "CUDA 12.3 with cuDNN 9 (" in r.out
    assert "no tag: CUDA comes from the plugin packages" in r.out
    index.wheel("jax-cuda12-pjrt", "0.4.22", tag="py3-none-manylinux2014_x86_64")
    monkeypatch.setenv("RELEASE_HOOK_CACHE_DIR", str(tmp_path / "cache2"))  # the index changed
    r = sync(cli, root, "--version", "0.15.0", "--explain")
    assert r.code == 0, r.err
    assert ('"jax[cuda12]==0.4.22" jaxlib==0.4.22 jax-cuda12-plugin==0.4.22\n'
            in (root / "Dockerfile").read_text())


def test_pjrt_follows_the_index_not_a_hard_coded_era(cli, tmp_path: Path, index: PackageIndex) -> None:
    """jax-cuda12-pjrt was first published for 0.4.23: a file that pins it gets no lower pair."""
    root = project(tmp_path, CASE_1.replace("==0.4.25\n", "==0.4.25 jax-cuda12-pjrt==0.4.25\n"))
    r = sync(cli, root, "--version", "0.15.0")
    assert r.code == 0, r.err
    assert "jaxlib==0.4.25 jax-cuda12-plugin==0.4.25 jax-cuda12-pjrt==0.4.25\n" in (root / "Dockerfile").read_text()


def test_plugin_before_0_4_30_is_accepted(cli, tmp_path: Path, index: PackageIndex) -> None:
    """Was `jax-cuda12-plugin does not exist for jaxlib 0.4.25`."""
    root = project(tmp_path, CASE_1)
    r = sync(cli, root, "--version", "0.15.0", "--pin", "jax==0.4.25", "--pin", "jaxlib==0.4.25")
    assert r.code == 0, r.err
    assert r.err.startswith("warning: Dockerfile:2: jaxlib 0.4.25 cannot import NumPy 2")  # a trap, below
    assert (root / "Dockerfile").read_text() == CASE_1
    # and with the index asked (jax chosen, jaxlib given), the plugin is found there
    r = sync(cli, root, "--version", "0.15.0", "--pin", "jaxlib==0.4.25", "--check")
    assert r.code == 0, (r.out, r.err)


def test_released_package_that_needs_a_newer_python_is_refused(cli, tmp_path: Path, index: PackageIndex) -> None:
    text = ("FROM python:3.10-slim\nRUN pip install numpyro==0.20.0 jax==0.5.0rc1 jaxlib==0.5.0rc1\n")
    root = project(tmp_path, text)
    r = sync(cli, root, "--version", "0.20.1")
    assert r.code == 2
    # 0.99.0 fits Python 3.10 but needs a jax that was never released: not a release to suggest
    assert r.err == ("release-hook: Dockerfile:2: numpyro 0.20.1 needs Python >=3.11; the image has 3.10 "
                     "(python:3.10-slim); newest numpyro that installs there: 0.20.0\n")
    assert (root / "Dockerfile").read_text() == text


def test_nothing_fits_the_image_names_the_newest_that_would(cli, tmp_path: Path, index: PackageIndex) -> None:
    text = "FROM python:3.11-bookworm\nRUN pip install numpyro==0.22.0 jax==0.7.0 jaxlib==0.7.0\n"
    root = project(tmp_path, text)
    r = sync(cli, root, "--version", "0.23.0", "--policy", "latest")
    assert r.code == 2
    assert r.err == ("release-hook: Dockerfile:2: numpyro 0.23.0 needs jax>=0.11.0, and jax 0.11.0 needs Python "
                     ">=3.12; the image has 3.11 (python:3.11-bookworm); newest numpyro that installs there: 0.22.0\n")
    assert (root / "Dockerfile").read_text() == text


def test_latest_is_the_newest_that_installs_in_the_image(cli, tmp_path: Path, index: PackageIndex) -> None:
    """Python 3.10: jax 0.7+ needs 3.11, 0.4.35 is yanked, 0.5.0rc1 a pre-release; jax 0.4.31
    accepts jaxlib 0.4.30 (0.4.31 is yanked). Python 3.12 in another file gets its own pair."""
    root = project(tmp_path, "FROM python:3.10\nRUN pip install jax==0.4.30 jaxlib==0.4.30 numpyro==0.16.0\n")
    (root / "Dockerfile.new").write_text("FROM python:3.12\nRUN pip install jax==0.4.30 jaxlib==0.4.30\n")
    r = cli("sync", "Dockerfile", "Dockerfile.new", "--no-commit", "--version", "0.16.0", "--policy", "latest",
            cwd=root)
    assert r.code == 0, r.err
    assert "jax==0.4.31 jaxlib==0.4.30 numpyro" in (root / "Dockerfile").read_text()
    assert "jax==0.11.0 jaxlib==0.11.0\n" in (root / "Dockerfile.new").read_text()


def test_minimum_skips_jax_the_image_cannot_install(cli, tmp_path: Path, index: PackageIndex) -> None:
    """numpyro 0.13.2 accepts jax 0.4.14, but jaxlib 0.4.14 has no Python 3.12 wheel."""
    root = project(tmp_path, "FROM ubuntu:24.04\nRUN pip install jax==0.4.1 jaxlib==0.4.1 numpyro==0.11.0\n")
    r = sync(cli, root, "--version", "0.13.2")
    assert r.code == 0, r.err
    assert "jax==0.4.22 jaxlib==0.4.22 numpyro==0.13.2" in (root / "Dockerfile").read_text()


def test_unknown_python_says_how_to_set_it(cli, tmp_path: Path, index: PackageIndex) -> None:
    text = "FROM internal/base:7\nRUN pip install jax==0.4.30 jaxlib==0.4.30 numpyro==0.16.0\n"
    root = project(tmp_path, text)
    r = sync(cli, root, "--version", "0.16.0")
    assert r.code == 2
    assert r.err.startswith("release-hook: Dockerfile:1: choosing jax, jaxlib depends on the image's python")
    assert "set [release_hook] python in setup.cfg" in r.err and "--python 3.11" in r.err
    assert r.err.count("\n") == 1
    assert (root / "Dockerfile").read_text() == text


def test_tagged_builds_need_a_wheel_for_the_python(cli, tmp_path: Path, index: PackageIndex) -> None:
    """On a Python 3.10 image the cuda111-era builds (cp36-cp39) do not install: the lowest
    jaxlib >=0.1.66 with a build for it is 0.1.75 (cp37-cp310), from the live page, and from the
    snapshot's Python tags when the page is unreachable."""
    for page in (index.link_url("jax_releases.html"), "http://127.0.0.1:9/jax-releases/jax_releases.html"):
        root = project(tmp_path, "FROM nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu22.04\n"
                                 f"RUN pip install jax==0.2.13 jaxlib==0.1.65+cuda112 -f {page}\n")
        r = sync(cli, root, "--version", "0.8.0", "--explain")
        assert r.code == 0, r.err
        assert "jax==0.2.13 jaxlib==0.1.75+cuda11.cudnn805 -f" in (root / "Dockerfile").read_text(), page
        assert "jaxlib 0.1.75 cannot import NumPy 2" in r.err
    assert "snapshot, because cannot read the find-links page" in r.out
    # Ubuntu 22.04 with the cuda112 builds that only go up to Python 3.9: nothing fits
    root = project(tmp_path, "FROM nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu22.04\n"
                             f"RUN pip install jax==0.2.10 jaxlib==0.1.62+cuda112 -f {page}\n")
    r = sync(cli, root, "--version", "0.6.0")
    assert r.code == 2
    assert "jaxlib 0.1.62 has no CUDA build for Python 3.10 on linux/amd64" in r.err, r.err


# -- the index's two page formats ------------------------------------------------------------------

def test_json_pages_asked_for_and_html_read_alike(cli, tmp_path: Path, index: PackageIndex) -> None:
    root = project(tmp_path, "FROM python:3.10-slim\nRUN pip install numpyro==0.20.0 jax==0.5.0rc1\n")
    r = sync(cli, root, "--version", "0.20.1")
    assert "needs Python >=3.11" in r.err
    assert any("application/vnd.pypi.simple.v1+json" in a for a in index.accepts)
    index.json_api = False  # PEP 503 HTML only: Requires-Python from data-requires-python
    r = sync(cli, root, "--version", "0.16.0", "--policy", "latest")
    assert r.code == 0, r.err
    assert "numpyro==0.16.0 jax==0.4.31\n" in (root / "Dockerfile").read_text()


# -- latest as of a date ---------------------------------------------------------------------------

def _plan(root: Path, version: str, **kw: object):  # type: ignore[no-untyped-def]
    conf = cfg.load(str(root))
    request = Request((str(root / "Dockerfile"),), version, {}, "dry-run", commit=False, offline=False, **kw)
    return plan(conf, request)


def test_latest_as_of_a_date_takes_what_was_published_then(cli, tmp_path: Path, index: PackageIndex,
                                                          monkeypatch) -> None:  # type: ignore[no-untyped-def]
    root = project(tmp_path, "FROM python:3.12\nRUN pip install jax==0.4.30 jaxlib==0.4.30\n")
    monkeypatch.chdir(root)
    when = datetime.datetime(2025, 8, 1, tzinfo=datetime.timezone.utc)
    plans, _, resolution = _plan(root, "0.16.0", policy="latest", as_of=when)
    assert [c.new_version for c in plans[0].changes] == ["0.7.0", "0.7.0"]
    assert resolution.as_of == when
    plans, _, _ = _plan(root, "0.16.0", policy="latest")
    assert [c.new_version for c in plans[0].changes] == ["0.11.0", "0.11.0"]
    try:
        _plan(root, "0.23.0", policy="latest", as_of=when)  # numpyro 0.23.0 needs jax>=0.11.0
    except UserError as e:
        assert "no jax satisfying jax>=0.11.0 (from numpyro 0.23.0 metadata on the package index) was " \
               "published by 2025-08-01 00:00 UTC" in str(e)
    else:
        raise AssertionError("a jax published after the date was taken")
    # minimum needs no date: the same answer either way
    plans, _, _ = _plan(root, "0.16.0", policy="minimum", as_of=when)
    assert [c.new_version for c in plans[0].changes] == []
    # find-links versions are dated by the snapshot (jax's CHANGELOG): jaxlib 0.1.65 was
    # released 2021-04-07, so on 2021-04-01 the newest cuda111 build is 0.1.64
    (root / "Dockerfile").write_text("FROM nvidia/cuda:11.1.1-cudnn8-runtime-ubuntu20.04\n"
                                     "RUN pip install jaxlib==0.1.62+cuda111 -f http://127.0.0.1:9/x/jax_releases.html\n")
    (root / "pyproject.toml").write_text('[project]\nname = "numpyro"\ndependencies = ["jaxlib>=0.1.60"]\n')
    (root / "setup.cfg").write_text("[release_hook]\nrequirements = pyproject.toml\n")
    april = datetime.datetime(2021, 4, 1, tzinfo=datetime.timezone.utc)
    plans, _, _ = _plan(root, "0.7.0", policy="latest", as_of=april)
    assert [c.new_version for c in plans[0].changes] == ["0.1.64+cuda111"]


def test_explain_shows_the_date(cli, tmp_path: Path, index: PackageIndex,
                                monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import io

    from release_hook.report import explain

    root = project(tmp_path, "FROM python:3.12\nRUN pip install jax==0.4.30 jaxlib==0.4.30\n")
    when = datetime.datetime(2025, 8, 1, tzinfo=datetime.timezone.utc)
    monkeypatch.chdir(root)
    plans, _, resolution = _plan(root, "0.16.0", policy="latest", as_of=when)
    out = io.StringIO()
    explain(plans, resolution, out)
    assert "latest as of 2025-08-01T00:00:00+00:00" in out.getvalue()
    assert "published by 2025-08-01" in out.getvalue()


# -- runtime traps ---------------------------------------------------------------------------------

def test_old_jaxlib_with_unpinned_numpy_is_warned_at_the_pin(cli, tmp_path: Path, index: PackageIndex) -> None:
    root = project(tmp_path, "FROM python:3.11\nRUN pip install jax==0.4.1 jaxlib==0.4.1 numpyro==0.11.0\n")
    r = sync(cli, root, "--version", "0.13.2")
    assert r.code == 0, r.err
    assert ("warning: Dockerfile:2: jaxlib 0.4.14 cannot import NumPy 2, which pip installs when numpy "
            "is not pinned: add numpy<2 to this pip install") in r.err
    assert ("warning: Dockerfile:2: jax 0.4.14 fails at import with SciPy 1.13 or newer (no "
            "scipy.linalg.tril), which pip installs when scipy is not pinned: add scipy<1.13") in r.err
    # the decision is cached, the warnings are not (lines move): a second run says them again
    again = sync(cli, root, "--version", "0.13.2", "--explain")
    assert "decided earlier, cached" in again.out and "cannot import NumPy 2" in again.err
    # bounds added silence them (the install is another: it is decided again)
    (root / "Dockerfile").write_text((root / "Dockerfile").read_text().replace(" numpyro", " 'numpy<2' scipy==1.12.0 numpyro"))
    r = sync(cli, root, "--version", "0.13.2", "--explain")
    assert (r.code, r.err) == (0, ""), r.err
    (root / "Dockerfile").write_text("FROM python:3.11\nRUN pip install jax==0.4.1 jaxlib==0.4.1 'numpy<2' "
                                     "scipy==1.12.0 numpyro==0.11.0\n")
    r = sync(cli, root, "--version", "0.11.0")
    assert (r.code, r.err) == (0, "")
    # Python 3.8 gets neither NumPy 2 nor SciPy 1.13: no warning; 3.9 does
    pin = SimpleNamespace(path="Dockerfile", line=2)
    assert traps.numpy_trap(Version("0.4.1"), (3, 8), [pin], "") == []  # type: ignore[list-item]
    assert traps.scipy_trap(Version("0.4.1"), (3, 8), [pin], "") == []  # type: ignore[list-item]
    assert traps.numpy_trap(Version("0.4.1"), (3, 9), [pin], "")  # type: ignore[list-item]
    assert traps.numpy_trap(Version("0.4.26"), (3, 9), [pin], "") == []  # type: ignore[list-item]


def test_an_extra_that_brings_an_old_jaxlib_is_warned_like_a_pinned_one(cli, tmp_path: Path) -> None:
    # `jax[cuda12_pip]==0.4.13` with no jaxlib pin: the extra brings jaxlib 0.4.13 (NumPy 1's)
    (tmp_path / "Dockerfile").write_text('FROM python:3.11-slim\nRUN pip install "jax[cuda12_pip]==0.4.8" '
                                         'numpyro==0.12.0\n')
    r = cli("sync", "Dockerfile", "--no-commit", "--offline", "--pin", "jax==0.4.13", "--version", "0.13.0",
            cwd=tmp_path)
    assert r.code == 0, r.err
    assert ("warning: Dockerfile:2: jax[cuda12_pip] 0.4.13 brings jaxlib 0.4.13 or older, and jaxlib before 0.4.26 "
            "cannot import NumPy 2, which pip installs when numpy is not pinned: add numpy<2 to this pip "
            "install") in r.err.splitlines(), r.err
    # numpy bounded, or jaxlib pinned beside it (then its own warning speaks): no warning of the extra
    (tmp_path / "Dockerfile").write_text('FROM python:3.11-slim\nRUN pip install "jax[cuda12_pip]==0.4.13" '
                                         '"numpy<2" numpyro==0.13.0\n')
    r = cli("sync", "Dockerfile", "--no-commit", "--offline", "--pin", "jax==0.4.13", "--version", "0.13.0",
            cwd=tmp_path)
    assert "NumPy 2" not in r.err, r.err
    # what the same install reads from a -r file counts: numpy bounded there, or jaxlib pinned there
    (tmp_path / "requirements.txt").write_text("numpy<2\n")
    (tmp_path / "Dockerfile").write_text('FROM python:3.11-slim\nCOPY requirements.txt /tmp/r.txt\n'
                                         'RUN pip install -r /tmp/r.txt "jax[cpu]==0.4.13" numpyro==0.13.0\n')
    r = cli("sync", "Dockerfile", "--no-commit", "--offline", "--pin", "jax==0.4.13", "--version", "0.13.0",
            cwd=tmp_path)
    assert r.code == 0 and "NumPy 2" not in r.err, r.err
    (tmp_path / "requirements.txt").write_text("jaxlib==0.4.13\n")
    r = cli("sync", "Dockerfile", "--no-commit", "--offline", "--pin", "jax==0.4.13", "--pin", "jaxlib==0.4.13",
            "--version", "0.13.0", cwd=tmp_path)
    assert [line for line in r.err.splitlines() if "NumPy 2" in line] == [
        "warning: requirements.txt:1: jaxlib 0.4.13 cannot import NumPy 2, which pip installs when numpy is not "
        "pinned: add numpy<2 to this pip install"], r.err


def test_an_untagged_jaxlib_takes_a_cuda_build_only_where_its_pip_reads_jax_s_page(cli, tmp_path: Path) -> None:
    # the index has no `+cuda` wheels: without jax's page pip would find no such version
    line = "RUN pip install numpyro==0.13.2 jax==0.4.20 jaxlib==0.4.20"
    page = " -f https://example.invalid/jax-releases/jax_cuda_releases.html"
    args = ("--no-commit", "--offline", "--pin", "jax==0.4.25", "--pin", "jaxlib==0.4.25", "--version", "0.13.2")
    for name, text, written in (("plain", line, "jaxlib==0.4.25\n"),
                                ("paged", line + page, "jaxlib==0.4.25+cuda11.cudnn86 -f ")):
        (tmp_path / name).write_text(f"FROM nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04\n{text}\n")
        r = cli("sync", name, *args, cwd=tmp_path)
        assert r.code == 0, r.err
        assert written in (tmp_path / name).read_text(), (tmp_path / name).read_text()


def test_a_local_cuda_extra_on_an_image_of_unknown_cuda_is_said(cli, tmp_path: Path) -> None:
    # an NGC image: its name says no CUDA, and jax[cuda12_local] takes the image's own
    (tmp_path / "Dockerfile").write_text('FROM nvcr.io/nvidia/jax:23.10-py3\n'
                                         'RUN pip install "jax[cuda12_local]==0.4.30" numpyro==0.15.0\n')
    args = ("sync", "Dockerfile", "--no-commit", "--offline", "--pin", "jax==0.4.30", "--version", "0.16.0",
            "--python", "3.10")
    r = cli(*args, cwd=tmp_path)
    assert r.code == 0, r.err
    assert r.err.splitlines() == [
        "warning: Dockerfile:2: jax[cuda12_local] uses the CUDA installed in the image, and nothing says which "
        "CUDA nvcr.io/nvidia/jax:23.10-py3 has, so its fit is not judged; name it with [release_hook] cuda in "
        "setup.cfg or --cuda X.Y"], r.err
    r = cli(*args, "--cuda", "12.2", cwd=tmp_path)
    assert (r.code, r.err) == (0, ""), r.err


# -- rules as plain values -------------------------------------------------------------------------

def test_pairing_rules_from_metadata() -> None:
    jax = pairing.read_jax(Version("0.4.22"), [
        "jaxlib ==0.4.14 ; extra == 'minimum-jaxlib'", "jaxlib ==0.4.22 ; extra == 'cuda12'",
        "jax-cuda12-plugin ==0.4.22 ; extra == 'cuda12'",
        "jaxlib ==0.4.22+cuda12.cudnn89 ; extra == 'cuda12_pip'"], ["cuda12", "cuda12_pip", "cpu"])
    assert jax.minimum_jaxlib == Version("0.4.14")
    assert pairing.pair_problem(jax, Version("0.4.22"), ["cuda12"]) is None
    assert pairing.pair_problem(jax, Version("0.4.22"), ["cuda12-pip"]) is None  # PEP 685 spelling
    assert pairing.pair_problem(jax, Version("0.4.30"), []) == (
        "jaxlib 0.4.30 is newer than jax 0.4.22 (jax refuses it at import)")
    assert pairing.pair_problem(jax, Version("0.4.13"), []) == "jax 0.4.22 needs jaxlib>=0.4.14, not 0.4.13"
    assert pairing.pair_problem(jax, Version("0.4.21"), ["cuda12"]) is not None
    assert pairing.pair_problem(jax, Version("0.4.22"), ["cuda13"]) == "jax 0.4.22 has no extra cuda13"
    assert pairing.pair_problem(jax, Version("0.4.22"), ["cuda12"], [("jax-cuda12-plugin", Version("0.4.21"))])
    assert pairing.extra_plugins(jax, ["cuda12"]) == ["jax-cuda12-plugin"]
    assert pairing.extra_plugins(jax, ["cuda12_pip"]) == []
    # before jax 0.3.0 there was no such check: jax 0.2.x ran with jaxlib 0.1.x
    assert pairing.runtime_allows(Version("0.2.25"), Version("0.3.0"))


def test_view_filters_by_python_platform_yanked_and_date() -> None:
    def d(name: str, version: str, tag: str, python: str | None = None, yanked: bool = False,
          up: str | None = None) -> Dist:
        return Dist(f"{name}-{version}-{tag}.whl", Version(version), yanked, python, up)

    dists = [d("jaxlib", "0.4.30", "cp312-cp312-manylinux2014_aarch64", ">=3.9", up="2024-06-18T00:00:00Z"),
             d("jaxlib", "0.4.30", "cp312-cp312-manylinux2014_x86_64", ">=3.9", up="2024-06-18T01:00:00Z"),
             d("jaxlib", "0.4.31", "cp312-cp312-manylinux2014_x86_64", ">=3.10", yanked=True),
             d("jaxlib", "0.7.0", "cp313-cp313-manylinux_2_27_x86_64", ">=3.11", up="2025-07-22T00:00:00Z")]
    arm = Image("arm64v8/python:3.12", (3, 12), "linux/arm64")
    assert View(arm, lambda p: offers(dists, arm)).versions("jaxlib") == [Version("0.4.30")]
    x86 = Image("python:3.13", (3, 13), "linux/amd64")
    seen = offers(dists, x86)
    assert [(str(o.version), o.fits) for o in seen] == [("0.4.30", False), ("0.4.31", False), ("0.7.0", True)]
    assert seen[0].why_not == "has no wheel for Python 3.13 on linux/amd64"
    early = View(x86, lambda p: seen, datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc))
    assert early.versions("jaxlib") == []
    old = "jaxlib-0.1.62+cuda112-cp38-none-manylinux2010_x86_64.whl"
    assert wheel_fits(old, Image("python:3.8", (3, 8), "linux/amd64"))
    assert not wheel_fits(old, Image("python:3.9", (3, 9), "linux/amd64"))
    assert wheel_fits("jax-0.4.30-py3-none-any.whl", arm)


# -- against the real index (opt-in) ---------------------------------------------------------------

online = [pytest.mark.skipif(os.environ.get("RELEASE_HOOK_ONLINE") != "1", reason="set RELEASE_HOOK_ONLINE=1"),
          pytest.mark.online]


def _online_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    """The index is the one this machine's pip is configured for (never named here)."""
    monkeypatch.setenv("RELEASE_HOOK_CACHE_DIR", str(tmp_path / "cache"))
    return project(tmp_path, text)


@pytest.mark.parametrize("case", [pytest.param(None, marks=online)])
def test_online_issue_8_cases(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: None) -> None:
    # 1. an incompatible pair: now the lowest pair that installs and imports. jax 0.4.22's
    #    plugin needs jax-cuda12-pjrt 0.4.22, which was never published: 0.4.23.
    root = _online_project(tmp_path, monkeypatch, CASE_1)
    r = sync(cli, root, "--version", "0.15.0")
    assert r.code == 0, r.err
    assert ('"jax[cuda12]==0.4.23" jaxlib==0.4.23 jax-cuda12-plugin==0.4.23\n'
            in (root / "Dockerfile").read_text())
    assert "jaxlib 0.4.23 cannot import NumPy 2" in r.err
    # 2. the plugin before 0.4.30 is accepted
    (root / "Dockerfile").write_text(CASE_1)
    r = sync(cli, root, "--version", "0.15.0", "--pin", "jax==0.4.25", "--pin", "jaxlib==0.4.25")
    assert r.code == 0 and (root / "Dockerfile").read_text() == CASE_1, r.err
    # 3. the image's Python: numpyro 0.20.1 needs 3.11
    text = "FROM python:3.10-slim\nRUN pip install numpyro==0.20.0 jax==0.6.0 jaxlib==0.6.0\n"
    (root / "Dockerfile").write_text(text)
    r = sync(cli, root, "--version", "0.20.1")
    # numpyro 0.20.0 declares Python >=3.9 but needs jax 0.7.0, which needs 3.11 (issue 17)
    assert (r.code, r.err) == (2, "release-hook: Dockerfile:2: numpyro 0.20.1 needs Python >=3.11; the image "
                                  "has 3.10 (python:3.10-slim); newest numpyro that installs there: 0.19.0\n")
    assert (root / "Dockerfile").read_text() == text
    r = sync(cli, root, "--version", "0.20.0", "--policy", "latest")
    assert r.code == 2 and "jax 0.7.0 needs Python >=3.11; the image has 3.10 (python:3.10-slim)" in r.err


@pytest.mark.parametrize("case", [pytest.param(None, marks=online)])
def test_online_written_pins_install_and_import(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                case: None) -> None:
    """The pins written for an image of this machine's Python install into a virtualenv of it,
    and jax and numpyro import together."""
    py = f"{sys.version_info[0]}.{sys.version_info[1]}"
    root = _online_project(tmp_path, monkeypatch, f"FROM python:{py}-slim\n"
                           "RUN pip install numpyro==0.13.2 jax==0.4.14 jaxlib==0.4.14 'numpy<2' 'scipy<1.13'\n")
    r = sync(cli, root, "--version", "0.15.0")
    assert r.code == 0, r.err
    line = (root / "Dockerfile").read_text().splitlines()[1]
    requirements = shlex.split(line)[3:]
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--only-binary=:all:", *requirements],
                   check=True, timeout=900)
    done = subprocess.run([str(venv / "bin" / "python"), "-c",
                           "import jax, jax.numpy as jnp, numpyro; print(jax.__version__, numpyro.__version__,"
                           " float(jnp.ones(3).sum()))"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[1] == "0.15.0" and done.stdout.split()[2] == "3.0"


def test_the_extras_tagged_jaxlib_must_be_the_images_build(cli, tmp_path: Path, index: PackageIndex) -> None:
    """jax[cuda12_pip] installs jaxlib +cuda12.cudnn89 (jax's metadata): on a CUDA 11.8 image
    that is no pair at all; jax[cuda11_pip] pairs with the +cuda11.cudnn86 build."""
    page = index.link_url("jax_cuda_releases.html")
    text = ("FROM nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04\n"
            f'RUN pip install "jax[cuda12_pip]==0.4.1" jaxlib==0.4.1+cuda11.cudnn86 -f {page}\n')
    root = project(tmp_path, text)
    r = sync(cli, root, "--version", "0.13.2")
    assert r.code == 2
    assert ("jax 0.4.14[cuda12_pip] installs jaxlib +cuda12.cudnn89, but "
            "nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04 (CUDA 11.8 with cuDNN 8) needs +cuda11.cudnn86") in r.err
    assert (root / "Dockerfile").read_text() == text
    (root / "Dockerfile").write_text(text.replace("cuda12_pip", "cuda11_pip"))
    r = sync(cli, root, "--version", "0.13.2")
    assert r.code == 0, r.err
    assert '"jax[cuda11_pip]==0.4.14" jaxlib==0.4.14+cuda11.cudnn86 -f' in (root / "Dockerfile").read_text()


def test_arm64_images_get_aarch64_wheels_or_a_refusal(cli, tmp_path: Path, index: PackageIndex,
                                                      monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """jaxlib publishes aarch64 wheels; the CUDA 12 plugin (in this index) only x86_64 ones."""
    root = project(tmp_path, "FROM python:3.12\nRUN pip install jax==0.4.30 jaxlib==0.4.30\n")
    monkeypatch.chdir(root)
    plans, _, resolution = _plan(root, "0.16.0", policy="latest", platform="linux/arm64")
    assert [c.new_version for c in plans[0].changes] == ["0.11.0", "0.11.0"]
    assert [i.platform for i in resolution.images.values()] == ["linux/arm64"]
    (root / "Dockerfile").write_text("FROM python:3.12\nRUN pip install 'jax[cuda12]==0.4.30' jaxlib==0.4.30 "
                                     "jax-cuda12-plugin==0.4.30\n")
    try:
        _plan(root, "0.16.0", policy="latest", platform="linux/arm64")
    except UserError as e:
        assert "jax-cuda12-plugin==0.11.0 is not on the index for Python 3.12 on linux/arm64" in str(e)
    else:
        raise AssertionError("an x86_64-only plugin was written for an arm64 image")


@pytest.mark.parametrize("case", [pytest.param(None, marks=online)])
def test_online_latest_as_of_a_date(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: None) -> None:
    """The real index's upload times (PEP 700): jax 0.7.0 was released on 2025-07-22, 0.7.1 on
    2025-08-20."""
    root = _online_project(tmp_path, monkeypatch, "FROM python:3.12\nRUN pip install jax==0.4.30 jaxlib==0.4.30\n")
    monkeypatch.chdir(root)
    when = datetime.datetime(2025, 8, 1, tzinfo=datetime.timezone.utc)
    plans, _, _ = _plan(root, "0.16.0", policy="latest", as_of=when)
    assert [c.new_version for c in plans[0].changes] == ["0.7.0", "0.7.0"]


def test_explain_says_the_moment_latest_is_judged_at_and_why_the_choice_was_not_proved(
        cli, tmp_path: Path, index: PackageIndex) -> None:
    root = project(tmp_path, "FROM python:3.12-slim\nRUN pip install jax==0.11.0 jaxlib==0.11.0 numpyro==0.20.1\n")
    r = sync(cli, root, "--version", "0.20.1", "--policy", "latest", "--dry-run")
    assert r.code == 0, r.err
    assert r.out.startswith("latest as of now (")
    assert "  stage 0 proof: not asked (RELEASE_HOOK_VERIFY=0)\n" in r.out, r.out
    dated = sync(cli, root, "--version", "0.20.1", "--policy", "latest", "--dry-run", "--as-of", "2020-01-01")
    assert dated.code == 2 and dated.err.endswith("was published by 2020-01-01 00:00 UTC\n"), dated.err


def test_a_platform_the_build_decides_is_not_guessed(cli, tmp_path: Path, index: PackageIndex) -> None:
    text = "FROM --platform=$BUILDPLATFORM python:3.12-slim\nRUN pip install jax==0.4.30 jaxlib==0.4.30 numpyro==0.16.0\n"
    root = project(tmp_path, text)
    r = sync(cli, root, "--version", "0.20.1")
    assert r.code == 2 and r.err.count("\n") == 1, r.err
    assert "depends on the image's platform" in r.err and "--platform linux/amd64" in r.err
    assert (root / "Dockerfile").read_text() == text
    given = sync(cli, root, "--version", "0.20.1", "--platform", "linux/amd64")
    assert given.code == 0, given.err


def test_an_alpine_image_beside_a_debian_one_is_judged_on_its_own_c_library(
        cli, tmp_path: Path, index: PackageIndex) -> None:
    """jaxlib publishes manylinux wheels only: none installs on Alpine's musl. What a release
    offers an image was remembered per Python and platform within a run, so an Alpine file synced
    after a Debian one of the same Python took the Debian answer and was written a jaxlib
    that cannot install."""
    debian = "FROM python:3.12-bookworm\nRUN pip install jax==0.4.30 jaxlib==0.4.30\n"
    alpine = "FROM python:3.12-alpine\nRUN pip install jax==0.4.30 jaxlib==0.4.30\n"
    root = project(tmp_path, debian)
    (root / "Dockerfile.alpine").write_text(alpine)
    alone = cli("sync", "Dockerfile.alpine", "--no-commit", "--version", "0.16.0", "--policy", "latest", cwd=root)
    assert alone.code == 2 and "jaxlib 0.11.0 has no wheel on the index for Python 3.12 on linux/amd64 (musl)" \
        in alone.err, alone.err
    both = cli("sync", "Dockerfile", "Dockerfile.alpine", "--no-commit", "--version", "0.16.0", "--policy", "latest",
               cwd=root)
    assert both.code == 2 and "Dockerfile.alpine:2: no jax/jaxlib pair" in both.err, both.err
    assert (root / "Dockerfile.alpine").read_text() == alpine and (root / "Dockerfile").read_text() == debian

