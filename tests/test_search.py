"""The search asks the real resolver (uv, and pip for one case) for each candidate with the whole
install, on a package index served on loopback: a candidate it refuses, or whose answer breaks
jax at import, is skipped and the next one tried."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from indexes import rows_index
from pkgindex import PackageIndex, served_as_pips_index

JAXES = ("0.4.25", "0.4.26", "0.4.31", "0.5.0")


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PackageIndex]:
    """jax and jaxlib as their metadata has them (jax pins its jaxlib; jaxlib needs NumPy and
    SciPy), NumPy 1 and 2, and numpyro releases with their jax floors."""
    idx = PackageIndex(tmp_path / "index")
    for v in JAXES:  # as on the real index, jax 0.4.26 and newer also take jaxlib 0.4.25
        idx.wheel("jax", v, [f"jaxlib<={v},>=0.4.25", "numpy>=1.22", "scipy>=1.9"], requires_python=">=3.9")
        extra = ["ml-dtypes>=0.5"] if v == "0.5.0" else []  # a release whose needs the index lacks
        idx.wheel("jaxlib", v, ["numpy>=1.22", "scipy>=1.9", *extra], tag="cp312-cp312-manylinux2014_x86_64")
    for v in ("1.26.4", "2.2.0"):
        idx.wheel("numpy", v)
    for v in ("1.11.4", "1.13.0"):
        idx.wheel("scipy", v)
    idx.wheel("numpyro", "0.15.0", ["jax>=0.4.25", "jaxlib>=0.4.25"])
    idx.wheel("numpyro", "0.19.0", ["jax>=0.4.25", "jaxlib>=0.4.25"])
    monkeypatch.delenv("RELEASE_HOOK_VERIFY", raising=False)  # these tests ask the resolver
    with served_as_pips_index(idx, monkeypatch) as served:
        yield served


def project(tmp_path: Path, dockerfile: str) -> Path:
    root = tmp_path / "project"
    root.mkdir(exist_ok=True)
    (root / "setup.cfg").write_text("[release_hook]\nrequirements = index\n")
    (root / "Dockerfile").write_text(dockerfile)
    return root


def sync(cli, root: Path, *args: str):  # type: ignore[no-untyped-def]
    return cli("sync", "Dockerfile", "--no-commit", *args, cwd=root)


@pytest.mark.parametrize("numpy", ["", "numpy==2.2.0 "])
def test_minimum_skips_the_jaxlib_that_cannot_import_the_numpy_the_install_gets(
        cli, tmp_path: Path, index: PackageIndex, numpy: str) -> None:
    """Issue 14, rows 5 and 6: jaxlib 0.4.25 installs beside NumPy 2 and then fails at import;
    0.4.26 is the lowest pair that builds and imports."""
    root = project(tmp_path, f"FROM python:3.12-slim\nRUN pip install {numpy}numpyro==0.15.0 jax==0.4.31 jaxlib==0.4.31\n")
    r = sync(cli, root, "--version", "0.19.0", "--policy", "minimum", "--explain")
    assert r.code == 0, r.err
    assert "jax==0.4.26 jaxlib==0.4.26" in (root / "Dockerfile").read_text()
    assert "NumPy 2" not in r.err  # not a warning: the candidate was skipped
    assert "cannot import NumPy 2.2.0" in r.out, r.out  # --explain says why 0.4.25 was skipped
    assert "installs it for Python 3.12 linux/amd64" in r.out


def test_a_candidate_the_resolver_refuses_moves_the_search_to_the_next_pair(
        cli, tmp_path: Path, index: PackageIndex) -> None:
    """jaxlib 0.5.0 needs a package the index does not have: the newest pair that installs is
    jax 0.5.0 with jaxlib 0.4.31 (jax 0.5.0 takes it), the resolver's own pick below the refused
    pair, checked against jax's rules and verified."""
    root = project(tmp_path, "FROM python:3.12-slim\nRUN pip install 'numpy<2' numpyro==0.15.0 jax==0.4.25 jaxlib==0.4.25\n")
    r = sync(cli, root, "--version", "0.19.0", "--policy", "latest", "--explain")
    assert r.code == 0, r.err
    assert "jax==0.5.0 jaxlib==0.4.31" in (root / "Dockerfile").read_text()
    assert "ml-dtypes" in r.out  # the refusal of jaxlib 0.5.0, in the resolver's words
    checked = sync(cli, root, "--version", "0.19.0", "--policy", "latest", "--check")
    assert checked.code == 0, checked.err + checked.out


def test_pip_as_the_resolver_skips_the_same_way(cli, tmp_path: Path, index: PackageIndex,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELEASE_HOOK_RESOLVER", "pip")
    root = project(tmp_path, "FROM python:3.12-slim\nRUN pip install numpyro==0.15.0 jax==0.4.31 jaxlib==0.4.31\n")
    r = sync(cli, root, "--version", "0.19.0", "--policy", "minimum", "--explain")
    assert r.code == 0, r.err
    assert "jax==0.4.26 jaxlib==0.4.26" in (root / "Dockerfile").read_text()
    assert "stage 0 proof: pip " in r.out


def test_offline_the_rules_decide_and_the_trap_is_a_warning(cli, tmp_path: Path, index: PackageIndex) -> None:
    """Without a resolver's answer the tool cannot see what pip would install: the rules choose
    0.4.25 and the NumPy 2 trap stays a warning at the pin."""
    root = project(tmp_path, "FROM python:3.12-slim\nRUN pip install numpyro==0.15.0 jax==0.4.31 jaxlib==0.4.31\n")
    r = sync(cli, root, "--version", "0.19.0", "--policy", "minimum", "--no-verify")
    assert r.code == 0, r.err
    assert "jax==0.4.25 jaxlib==0.4.25" in (root / "Dockerfile").read_text()
    assert "jaxlib 0.4.25 cannot import NumPy 2" in r.err


def test_ubuntu_jammy_is_one_image_to_every_question(cli, tmp_path: Path, index: PackageIndex) -> None:
    """`ubuntu:jammy` is Ubuntu 22.04 with Python 3.10 and glibc 2.35, to the image's Python and to
    the resolver's target alike (one table)."""
    root = project(tmp_path, "FROM ubuntu:jammy\nRUN python3 -m pip install numpyro==0.15.0 jax==0.4.25 jaxlib==0.4.25\n")
    for v in JAXES:
        index.wheel("jaxlib", v, ["numpy>=1.22", "scipy>=1.9"], tag="cp310-cp310-manylinux_2_35_x86_64")
    r = sync(cli, root, "--version", "0.15.0", "--dry-run", "--explain")
    assert r.code == 0, r.err
    assert "python 3.10 (base image ubuntu:jammy, Ubuntu 22.04's python3)" in r.out, r.out
    assert "installs it for Python 3.10 linux/amd64 (glibc 2.35)" in r.out, r.out


def test_a_cuda_11_image_keeps_the_last_jax_whose_gpu_backend_accepts_cuda_11(
        cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18: from jax 0.4.26 the GPU backend refuses CUDA 11 when it starts and runs on the
    CPU. jax 0.4.27 declares that it takes jaxlib 0.4.25, whose +cuda11 build is the last one:
    the pair must stop at jax 0.4.25."""
    idx = PackageIndex(tmp_path / "index")
    versions = ("0.4.20", "0.4.25", "0.4.26", "0.4.27")
    for v in versions:
        idx.wheel("jax", v, [f"jaxlib<={v},>=0.4.19"], requires_python=">=3.9")
        idx.wheel("jaxlib", v, tag="cp310-cp310-manylinux2014_x86_64")
    idx.wheel("numpyro", "0.15.0", ["jax>=0.4.14", "jaxlib>=0.4.14"])
    page = [f"cuda11/jaxlib-{v}+cuda11.cudnn86-cp310-cp310-manylinux2014_x86_64.whl" for v in versions[:2]]
    page += [f"cuda12/jaxlib-{v}+cuda12.cudnn89-cp310-cp310-manylinux2014_x86_64.whl" for v in versions]
    idx.find_links_page("jax_cuda_releases.html", page)
    with served_as_pips_index(idx, monkeypatch):
        root = project(tmp_path, "FROM nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04\n"
                       "RUN pip install numpyro==0.13.2 jax==0.4.20 jaxlib==0.4.20+cuda11.cudnn86 "
                       f"-f {idx.link_url('jax_cuda_releases.html')}\n")
        r = sync(cli, root, "--version", "0.15.0", "--policy", "latest", "--explain")
    assert r.code == 0, r.err
    assert "jax==0.4.25 jaxlib==0.4.25+cuda11.cudnn86" in (root / "Dockerfile").read_text()
    assert "refuses CUDA 11.8 with cuDNN 8 when it starts" in r.out, r.out


@pytest.fixture
def chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PackageIndex]:
    """The real Requires-Python values of issue 17: numpyro 0.20.0 declares Python >=3.9 but
    needs jax 0.7.0, which needs 3.11."""
    idx = PackageIndex(tmp_path / "index")
    for v, python in (("0.4.30", ">=3.9"), ("0.7.0", ">=3.11")):
        idx.wheel("jax", v, [f"jaxlib<={v},>={v}"], requires_python=python)
        for cp in ("39", "310", "311", "312", "313"):
            if v == "0.4.30" or cp not in ("39", "310"):
                idx.wheel("jaxlib", v, tag=f"cp{cp}-cp{cp}-manylinux2014_x86_64", requires_python=python)
    for v, jax, python in (("0.14.0", "0.4.30", ">=3.9"), ("0.19.0", "0.4.30", ">=3.9"),
                           ("0.20.0", "0.7.0", ">=3.9"), ("0.22.0", "0.7.0", ">=3.11")):
        idx.wheel("numpyro", v, [f"jax>={jax}", f"jaxlib>={jax}"], requires_python=python)
    monkeypatch.delenv("RELEASE_HOOK_VERIFY", raising=False)
    with served_as_pips_index(idx, monkeypatch) as served:
        yield served


@pytest.mark.parametrize("ask", ["resolver", "rules"])
def test_hints_name_a_release_whose_whole_chain_installs(cli, tmp_path: Path, chain: PackageIndex, ask: str) -> None:
    """Issue 17: on python:3.9, numpyro 0.22.0 must not suggest 0.20.0 (which needs jax 0.7.0,
    which needs 3.11), and 0.20.0 must not suggest a jax that numpyro 0.20.0 refuses."""
    text = "FROM python:3.9-slim\nRUN pip install numpyro==0.14.0 jax==0.4.30 jaxlib==0.4.30\n"
    root = project(tmp_path, text)
    flags = ["--no-verify"] if ask == "rules" else []
    r = sync(cli, root, "--version", "0.22.0", *flags)
    assert (r.code, r.err) == (2, "release-hook: Dockerfile:2: numpyro 0.22.0 needs Python >=3.11; the image has "
                                  "3.9 (python:3.9-slim); newest numpyro that installs there: 0.19.0\n")
    r = sync(cli, root, "--version", "0.20.0", *flags)
    assert (r.code, r.err) == (2, "release-hook: Dockerfile:2: numpyro 0.20.0 needs jax>=0.7.0, and jax 0.7.0 "
                                  "needs Python >=3.11; the image has 3.9 (python:3.9-slim); newest numpyro that "
                                  "installs there: 0.19.0\n")
    assert (root / "Dockerfile").read_text() == text
    assert sync(cli, root, "--version", "0.19.0", *flags).code == 0


def test_where_no_release_installs_the_hint_names_a_python_that_would(cli, tmp_path: Path,
                                                                       chain: PackageIndex) -> None:
    """Issue 18: Ubuntu 20.04's Python 3.8 takes no numpyro here."""
    root = project(tmp_path, "FROM ubuntu:20.04\nRUN python3 -m pip install numpyro==0.14.0 jax==0.4.30 jaxlib==0.4.30\n")
    r = sync(cli, root, "--version", "0.19.0")
    assert (r.code, r.err) == (2, "release-hook: Dockerfile:2: numpyro 0.19.0 needs Python >=3.9; the image has "
                                  "3.8 (ubuntu:20.04); no release of numpyro installs there; numpyro 0.19.0 "
                                  "installs on Python 3.9 (a base image such as python:3.9-slim)\n")


def test_a_jax_given_with_pin_that_does_not_install_names_one_that_does(cli, tmp_path: Path,
                                                                       chain: PackageIndex) -> None:
    root = project(tmp_path, "FROM python:3.10-slim\nRUN pip install numpyro==0.14.0 jax==0.4.30 jaxlib==0.4.30\n")
    r = sync(cli, root, "--version", "0.19.0", "--pin", "jax==0.7.0", "--pin", "jaxlib==0.7.0")
    assert r.code == 2 and r.err.count("\n") == 1, r.err
    assert "uv cannot install numpyro==0.19.0 jax==0.7.0 jaxlib==0.7.0 for Python 3.10 linux/amd64" in r.err
    assert r.err.endswith("; newest jax that installs there: 0.4.30\n"), r.err


def test_an_index_the_dockerfile_names_is_read_only_when_trusted(cli, tmp_path: Path, index: PackageIndex) -> None:
    """A Dockerfile in a pull request must not choose where the maintainer's tools read from."""
    from pkgindex import serve

    other = PackageIndex(tmp_path / "other")
    other.wheel("jax", "9.9.9")
    server, _ = serve(other)
    try:
        text = (f"FROM python:3.12-slim\nRUN pip install -i {other.url} 'numpy<2' numpyro==0.15.0 "
                "jax==0.4.25 jaxlib==0.4.25\n")
        root = project(tmp_path, text)
        r = sync(cli, root, "--version", "0.19.0", "--dry-run", "--explain")
        assert r.code == 0, r.err
        assert other.hits == [], other.hits  # neither the tool nor the resolver read it
        assert f"left out: -i {other.url} (an index the Dockerfile names: read only with " \
               "[release_hook] trust_file_indexes = true)" in r.out, r.out
        (root / "setup.cfg").write_text("[release_hook]\nrequirements = index\ntrust_file_indexes = true\n")
        r = sync(cli, root, "--version", "0.19.0", "--dry-run", "--explain")
        # trusted, it is read first, as the image's pip reads it: it has no jax 0.4.x at all
        assert r.code == 2 and "jax` was found on " + other.url in r.err, r.err
        assert any(h.startswith("/simple/jax") for h in other.hits), other.hits
    finally:
        server.shutdown()
        server.server_close()


def test_a_resolver_that_does_not_answer_in_time_says_what_it_was_waiting_for(
        cli, tmp_path: Path, index: PackageIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside a hook the wait is bounded; the run goes on with the rules and says why."""
    monkeypatch.setenv("RELEASE_HOOK_RESOLVER_LIMIT", "0.3")
    monkeypatch.setenv("RELEASE_HOOK_TIMEOUT", "30")  # the tool's own reads may wait; uv may not
    root = project(tmp_path, "FROM python:3.12-slim\nRUN pip install numpyro==0.15.0 jax==0.4.31 jaxlib==0.4.31\n")
    sync(cli, root, "--version", "0.19.0", "--dry-run", "--no-verify")  # the tool's reads, cached
    index.faults["/simple/scipy/"] = "slow"
    r = sync(cli, root, "--version", "0.19.0", "--dry-run")
    assert r.code == 0, r.err
    assert "not proved by a resolver: no answer within 0.3s while resolving numpyro==0.19.0 jax==" in r.err, r.err


def test_the_shipped_table_of_import_breaks_decides_latest_offline(
        cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18: numpyro 0.18.0 fails at import from jax 0.7.0 (proved, and shipped); no
    resolver and no Python are needed for the table to keep latest below it."""
    from release_hook.resolve import import_table

    monkeypatch.delenv(import_table.TABLE_VARIABLE, raising=False)
    last = import_table.rows("numpyro", "0.18.0")[0].last_imports
    idx = PackageIndex(tmp_path / "index")
    for v in (str(last), "0.7.0", "0.7.2"):
        idx.wheel("jax", v, [f"jaxlib<={v},>={v}"], requires_python=">=3.10")
        idx.wheel("jaxlib", v, tag="cp311-cp311-manylinux2014_x86_64")
    idx.wheel("numpyro", "0.18.0", ["jax>=0.4.25", "jaxlib>=0.4.25"])
    with served_as_pips_index(idx, monkeypatch):
        root = project(tmp_path, "FROM python:3.11-slim\nRUN pip install numpyro==0.17.0 jax==0.4.25 jaxlib==0.4.25\n")
        r = sync(cli, root, "--version", "0.18.0", "--policy", "latest", "--no-verify", "--explain")
    assert r.code == 0, r.err
    assert f"jax=={last} jaxlib=={last}" in (root / "Dockerfile").read_text()
    assert "fails at import from jax 0.7.0" in r.out and "the shipped table" in r.out, r.out


# -- issue 14's rows: the whole install -----------------------------------------------------------

@pytest.fixture
def rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PackageIndex]:
    monkeypatch.delenv("RELEASE_HOOK_VERIFY", raising=False)
    with served_as_pips_index(rows_index(tmp_path / "index"), monkeypatch) as served:
        yield served


ROW_1 = "FROM python:3.12-slim\nRUN pip install numpy==1.26.4 scipy==1.11.4 numpyro==0.15.0 jax==0.4.25 jaxlib==0.4.25\n"


def test_row_1_the_newest_jax_that_installs_beside_an_old_scipy(cli, tmp_path: Path, rows: PackageIndex) -> None:
    root = project(tmp_path, ROW_1)
    r = sync(cli, root, "--version", "0.19.0", "--policy", "latest", "--explain")
    assert r.code == 0, r.err
    assert "jax==0.6.1 jaxlib==0.6.1" in (root / "Dockerfile").read_text()
    assert "asked: numpyro==0.19.0 jax==0.6.1 jaxlib==0.6.1 numpy==1.26.4 scipy==1.11.4" in r.out, r.out
    assert sync(cli, root, "--version", "0.19.0", "--policy", "latest", "--check").code == 0


def test_row_2_no_jax_of_the_release_installs_beside_the_pin_that_stands_in_the_way(
        cli, tmp_path: Path, rows: PackageIndex) -> None:
    root = project(tmp_path, ROW_1)
    r = sync(cli, root, "--version", "0.22.0", "--policy", "latest")
    assert (r.code, r.err) == (2, "release-hook: Dockerfile:2: no jax >=0.7.0 installs beside scipy==1.11.4 "
                                  "(line 2): jax 0.7.0 needs scipy>=1.12\n")
    assert (root / "Dockerfile").read_text() == ROW_1


def test_row_3_tensorflow_beside_jax(cli, tmp_path: Path, rows: PackageIndex) -> None:
    root = project(tmp_path, "FROM python:3.11-slim\nRUN pip install tensorflow==2.15.1 numpyro==0.13.2 "
                   "jax==0.4.20 jaxlib==0.4.20\n")
    r = sync(cli, root, "--version", "0.15.0", "--policy", "latest")
    assert r.code == 0, r.err
    assert "jax==0.4.34 jaxlib==0.4.34" in (root / "Dockerfile").read_text()


def test_row_4_a_constraints_file_the_image_copies_in(cli, tmp_path: Path, rows: PackageIndex) -> None:
    root = project(tmp_path, "FROM python:3.12-slim\nCOPY constraints.txt /tmp/constraints.txt\n"
                   "RUN pip install -c /tmp/constraints.txt numpyro==0.15.0 jax==0.4.25 jaxlib==0.4.25\n")
    (root / "constraints.txt").write_text("scipy<1.12\n")
    r = sync(cli, root, "--version", "0.19.0", "--policy", "latest", "--explain")
    assert r.code == 0, r.err
    assert "jax==0.6.1 jaxlib==0.6.1" in (root / "Dockerfile").read_text()
    assert "constraints: scipy<1.12" in r.out, r.out


def test_an_earlier_pip_command_of_the_stage_is_part_of_the_install(cli, tmp_path: Path, rows: PackageIndex) -> None:
    """pip would replace scipy 1.11.4 for a newer jax, and the library that needs it breaks."""
    root = project(tmp_path, "FROM python:3.12-slim\nRUN pip install scipy==1.11.4\n"
                   "RUN pip install numpyro==0.15.0 jax==0.4.25 jaxlib==0.4.25\n")
    r = sync(cli, root, "--version", "0.19.0", "--policy", "latest")
    assert r.code == 0, r.err
    assert "jax==0.6.1 jaxlib==0.6.1" in (root / "Dockerfile").read_text()


# -- jax's CUDA plugin and the extra the file asks of it ------------------------------------------

PLUGIN_JAXES = ("0.4.25", "0.4.26", "0.4.30", "0.4.31")


def plugin_index(root: Path, with_cuda: tuple[str, ...]) -> PackageIndex:
    """jax and its CUDA 12 plugin for Python 3.12: the plugin's `with_cuda` extra only in the
    releases `with_cuda` names (it came with 0.4.30), no plugin 0.4.26 at all; jax 0.4.30 alone
    refuses SciPy 1.12."""
    idx = PackageIndex(root)
    for v in PLUGIN_JAXES:
        scipy = "scipy<1.12" if v == "0.4.30" else "scipy>=1.9"
        idx.wheel("jax", v, [f"jaxlib<={v},>=0.4.25", scipy, f"jaxlib=={v}; extra == 'cuda12'",
                             f"jax-cuda12-plugin=={v}; extra == 'cuda12'"], requires_python=">=3.9")
        idx.wheel("jaxlib", v, tag="cp312-cp312-manylinux2014_x86_64")
        idx.wheel("jax-cuda12-pjrt", v, tag="py3-none-manylinux2014_x86_64")
        if v != "0.4.26":
            idx.wheel("jax-cuda12-plugin", v, [f"jax-cuda12-pjrt=={v}"], tag="cp312-cp312-manylinux2014_x86_64",
                      extras=["with_cuda"] if v in with_cuda else [])
    for v in ("1.11.4", "1.12.0"):
        idx.wheel("scipy", v)
    idx.wheel("numpyro", "0.15.0", ["jax>=0.4.25", "jaxlib>=0.4.25"])
    idx.wheel("numpyro", "0.19.0", ["jax>=0.4.25", "jaxlib>=0.4.25"])
    return idx


def plugin_file(jax: str, extra: str, neighbours: str = "") -> str:
    return ("FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04\n"
            f"RUN pip install {neighbours}numpyro==0.15.0 '{jax}==0.4.25' jaxlib==0.4.25 "
            f"'jax-cuda12-plugin[{extra}]==0.4.25' jax-cuda12-pjrt==0.4.25\n")


@pytest.mark.parametrize("jax, extra", [("jax", "with_cuda"), ("jax[cuda12]", "with-cuda")])
def test_minimum_passes_over_a_plugin_without_the_extra_the_file_asks(
        cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jax: str, extra: str) -> None:
    """The plugin 0.4.25 has no `with_cuda` (the resolver installs it without, and only warns:
    an image without its CUDA libraries) and 0.4.26 has no plugin at all: both are passed over,
    as any candidate that does not install is, and --explain says why."""
    monkeypatch.delenv("RELEASE_HOOK_VERIFY", raising=False)
    with served_as_pips_index(plugin_index(tmp_path / "index", ("0.4.30", "0.4.31")), monkeypatch):
        root = project(tmp_path, plugin_file(jax, extra))
        r = sync(cli, root, "--version", "0.19.0", "--policy", "minimum", "--explain")
    assert r.code == 0, r.err
    assert (root / "Dockerfile").read_text() == plugin_file(jax, extra).replace("0.4.25", "0.4.30").replace(
        "numpyro==0.15.0", "numpyro==0.19.0")
    assert f"skipped jax 0.4.25: jax's rules: jax-cuda12-plugin 0.4.25 has no extra {extra}\n" in r.out, r.out
    assert "skipped jax 0.4.26: jax's rules: jax-cuda12-" in r.out, r.out
    assert "stage 0 proof: uv " in r.out and " installs it for Python 3.12" in r.out, r.out


def test_latest_names_the_jaxlib_it_passed_over_for_a_plugin_without_the_extra(
        cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The newest jax takes jaxlib 0.4.30, not 0.4.31, whose plugin has no `with_cuda`: --explain
    names the jaxlib passed over and why (it said only "with jax 0.4.31", which left the older
    jaxlib unexplained)."""
    monkeypatch.delenv("RELEASE_HOOK_VERIFY", raising=False)
    with served_as_pips_index(plugin_index(tmp_path / "index", ("0.4.30",)), monkeypatch):
        root = project(tmp_path, plugin_file("jax", "with_cuda"))
        r = sync(cli, root, "--version", "0.19.0", "--policy", "latest", "--explain")
    assert r.code == 0, r.err
    assert "'jax==0.4.31' jaxlib==0.4.30 'jax-cuda12-plugin[with_cuda]==0.4.30'" in (root / "Dockerfile").read_text()
    assert ("skipped jax 0.4.31, jaxlib 0.4.31: jax's rules: jax-cuda12-plugin 0.4.31 has no extra "
            "with_cuda\n") in r.out, r.out
    assert ("with jax 0.4.31; 1 newer jaxlib passed over (0.4.31: jax-cuda12-plugin 0.4.31 has no extra "
            "with_cuda);") in r.out, r.out
    jax_line = next(line for line in r.out.splitlines() if "line 2: jax ==" in line)
    assert "skipped" not in jax_line  # jax itself was the newest: no jax candidate was skipped


def test_jaxlibs_outside_jaxs_own_bounds_are_not_said_to_be_passed_over(
        cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under minimum, each lower jaxlib that jax's declared bounds refuse is not news: the jaxlib
    line already says "pair that jax accepts (declared bounds...)"; only a jaxlib the bounds
    allow and a rule refused is named."""
    monkeypatch.delenv("RELEASE_HOOK_VERIFY", raising=False)
    idx = PackageIndex(tmp_path / "index")
    for v in ("0.4.25", "0.4.26", "0.4.30", "0.4.31"):
        idx.wheel("jax", v, [f"jaxlib<={v},>={v}", "scipy>=1.9"], requires_python=">=3.9")
        idx.wheel("jaxlib", v, tag="cp312-cp312-manylinux2014_x86_64")
    idx.wheel("scipy", "1.12.0")
    idx.wheel("numpyro", "0.19.0", ["jax>=0.4.31", "jaxlib>=0.4.25"])
    with served_as_pips_index(idx, monkeypatch):
        root = project(tmp_path, "FROM python:3.12\nRUN pip install numpyro==0.15.0 jax==0.4.25 jaxlib==0.4.25\n")
        r = sync(cli, root, "--version", "0.19.0", "--policy", "minimum", "--explain")
    assert r.code == 0, r.err
    assert "jax==0.4.31 jaxlib==0.4.31" in (root / "Dockerfile").read_text()
    assert "passed over" not in r.out and "skipped" not in r.out, r.out


def test_the_jaxlib_passed_over_is_named_on_its_line_when_the_skips_are_cut_short(
        cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Five newer jax releases skipped (no jaxlib of their own exists) and one jaxlib passed over
    for the chosen jax: --explain lists five skips in the order tried, and the jaxlib line itself
    says which jaxlib it passed over and why, whatever the list leaves out."""
    monkeypatch.delenv("RELEASE_HOOK_VERIFY", raising=False)
    idx = plugin_index(tmp_path / "index", ("0.4.30",))
    for v in ("0.4.32", "0.4.33", "0.4.34", "0.4.35", "0.4.36"):
        idx.wheel("jax", v, [f"jaxlib=={v}"], requires_python=">=3.9")
    with served_as_pips_index(idx, monkeypatch):
        root = project(tmp_path, plugin_file("jax", "with_cuda"))
        r = sync(cli, root, "--version", "0.19.0", "--policy", "latest", "--explain")
    assert r.code == 0, r.err
    assert "'jax==0.4.31' jaxlib==0.4.30" in (root / "Dockerfile").read_text()
    skips = [line.strip() for line in r.out.splitlines() if line.strip().startswith("skipped")]
    assert skips[0].startswith("skipped jax 0.4.36: ") and skips[-1] == "skipped 1 more candidates", skips
    assert ("with jax 0.4.31; 1 newer jaxlib passed over (0.4.31: jax-cuda12-plugin 0.4.31 has no extra "
            "with_cuda);") in r.out, r.out


def test_the_resolvers_own_pick_keeps_to_plugins_with_the_extra(
        cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """jax 0.4.30 is refused beside SciPy 1.12; the resolver, asked for the lowest pair above it,
    must not take the oldest plugin (which lacks the extra, and so refuses everything)."""
    monkeypatch.delenv("RELEASE_HOOK_VERIFY", raising=False)
    with served_as_pips_index(plugin_index(tmp_path / "index", ("0.4.30", "0.4.31")), monkeypatch):
        root = project(tmp_path, plugin_file("jax", "with_cuda", "scipy==1.12.0 "))
        r = sync(cli, root, "--version", "0.19.0", "--policy", "minimum", "--explain")
    assert r.code == 0, r.err
    assert "numpyro==0.19.0 'jax==0.4.31' jaxlib==0.4.30 'jax-cuda12-plugin[with_cuda]==0.4.30' " \
           "jax-cuda12-pjrt==0.4.30\n" in (root / "Dockerfile").read_text()
    assert "skipped jax 0.4.30, jaxlib 0.4.30: the resolver: " in r.out, r.out


@pytest.mark.parametrize("policy", ["minimum", "latest"])
def test_an_extra_no_plugin_release_has_is_one_line_naming_it_and_the_releases_tried(
        cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, policy: str) -> None:
    monkeypatch.delenv("RELEASE_HOOK_VERIFY", raising=False)
    with served_as_pips_index(plugin_index(tmp_path / "index", ()), monkeypatch):
        root = project(tmp_path, plugin_file("jax", "with_cuda"))
        r = sync(cli, root, "--version", "0.19.0", "--policy", policy)
    assert (r.code, r.err) == (2, "release-hook: Dockerfile:2: no jax/jaxlib pair satisfies the release (jax>=0.4.25, "
                                  "jaxlib>=0.4.25) and jax's rules for nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04 "
                                  "(Python 3.12, linux/amd64): the file asks jax-cuda12-plugin[with_cuda], and no "
                                  "release of it tried has that extra (0.4.25, 0.4.30, 0.4.31)\n")
    assert (root / "Dockerfile").read_text() == plugin_file("jax", "with_cuda")
