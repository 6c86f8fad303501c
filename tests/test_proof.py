"""Proof by a real resolver (uv, and pip) against a package index served on loopback: the new pins
must install for the image's Python and platform before anything is written."""
from __future__ import annotations

import os
import socket
import subprocess
import venv
from pathlib import Path
from typing import Iterator

import pytest

from pkgindex import PackageIndex, serve
from release_hook import config as cfg
from release_hook.errors import UserError
from release_hook.request import Request
from release_hook.sync import run

RESOLVERS = ["uv", "pip"]
OLD = "FROM python:3.10-slim\nRUN pip install numpyro==0.13.0 jax==0.4.20 jaxlib==0.4.20\n"


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PackageIndex]:
    idx = PackageIndex(tmp_path / "index")
    for v in ("0.4.20", "0.4.25", "0.4.31"):
        idx.wheel("jax", v, [f"jaxlib<={v},>={v}"])
    for v in ("0.4.20", "0.4.25"):
        idx.wheel("jaxlib", v, tag="cp310-cp310-manylinux2014_x86_64")
        idx.wheel("jaxlib", v, tag="cp311-cp311-manylinux2014_x86_64")
    idx.wheel("jaxlib", "0.4.31", tag="cp312-cp312-manylinux2014_x86_64")  # none for 3.10
    for v, low in (("0.13.0", "0.4.14"), ("0.15.0", "0.4.25")):
        idx.wheel("numpyro", v, [f"jax>={low}", f"jaxlib>={low}"])
    idx.wheel("numpyro", "0.20.1", ["jax>=0.4.25", "jaxlib>=0.4.25"], requires_python=">=3.11")
    # the CUDA build only on a find-links page, as jax published them
    idx.find_links_page("jax_cuda_releases.html", [])
    server, _ = serve(idx)
    monkeypatch.setenv("PIP_INDEX_URL", idx.url)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for name in ("PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX", "RELEASE_HOOK_VERIFY",
                 "RELEASE_HOOK_RESOLVER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RELEASE_HOOK_TIMEOUT", "2")
    yield idx
    server.shutdown()
    server.server_close()


@pytest.fixture(params=RESOLVERS)
def resolver(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("RELEASE_HOOK_RESOLVER", request.param)
    return str(request.param)


def project(tmp_path: Path, dockerfile: str) -> Path:
    root = tmp_path / "project"
    root.mkdir(exist_ok=True)
    (root / "setup.cfg").write_text("[release_hook]\nrequirements = index\n")
    (root / "Dockerfile").write_text(dockerfile)
    return root


def sync(cli, root: Path, *args: str):  # type: ignore[no-untyped-def]
    return cli("sync", "Dockerfile", "--no-commit", *args, cwd=root)


def test_pins_that_install_are_written(cli, tmp_path: Path, index: PackageIndex, resolver: str) -> None:
    root = project(tmp_path, OLD)
    r = sync(cli, root, "--version", "0.15.0", "--pin", "jax==0.4.25", "--pin", "jaxlib==0.4.25", "--explain")
    assert r.code == 0, r.err
    assert "numpyro==0.15.0 jax==0.4.25 jaxlib==0.4.25" in (root / "Dockerfile").read_text()
    assert f"stage 0 proof: {resolver} " in r.out
    assert "installs it for Python 3.10 linux/amd64" in r.out
    assert "jaxlib==0.4.25" in r.out.split("proof:")[1]
    assert any("/simple/jaxlib/" in h for h in index.hits)  # the resolver really asked


def test_no_wheel_for_the_image_python_refuses_the_sync(cli, tmp_path: Path, index: PackageIndex,
                                                        resolver: str) -> None:
    root = project(tmp_path, OLD)
    before = (root / "Dockerfile").read_bytes()
    r = sync(cli, root, "--version", "0.15.0", "--pin", "jax==0.4.31", "--pin", "jaxlib==0.4.31")
    assert r.code == 2
    assert r.err.count("\n") == 1, r.err
    line = r.err.strip()
    assert line.startswith(f"release-hook: Dockerfile:2: {resolver} cannot install "
                           "numpyro==0.15.0 jax==0.4.31 jaxlib==0.4.31 for Python 3.10 linux/amd64: "), line
    # the resolver's own reason: uv names the wheel's tag, pip the versions it could use
    assert ("cp312" in line) if resolver == "uv" else ("jaxlib==0.4.31 (from versions: 0.4.20, 0.4.25)" in line)
    assert (root / "Dockerfile").read_bytes() == before


@pytest.mark.parametrize("resolver", ["uv"], indirect=True)  # pip: the other tests
def test_a_release_that_needs_a_newer_python_than_the_image_is_refused(
        cli, tmp_path: Path, index: PackageIndex, resolver: str) -> None:
    root = project(tmp_path, OLD)
    before = (root / "Dockerfile").read_bytes()
    r = sync(cli, root, "--version", "0.20.1", "--pin", "jax==0.4.25", "--pin", "jaxlib==0.4.25")
    assert r.code == 2
    *warnings, error = r.err.splitlines()  # warnings: jaxlib 0.4.25's NumPy 2 trap
    assert error.startswith(f"release-hook: Dockerfile:2: {resolver} cannot install numpyro==0.20.1 ")
    assert ">=3.11" in error and all(w.startswith("warning: ") for w in warnings), r.err
    assert (root / "Dockerfile").read_bytes() == before


def test_the_same_pins_install_for_an_image_of_python_3_12_only_where_wheels_exist(
        cli, tmp_path: Path, index: PackageIndex) -> None:
    root = project(tmp_path, OLD.replace("python:3.10-slim", "python:3.12-slim"))
    r = sync(cli, root, "--version", "0.15.0", "--pin", "jax==0.4.31", "--pin", "jaxlib==0.4.31")
    assert r.code == 0, r.err


@pytest.mark.parametrize("resolver", ["uv"], indirect=True)  # pip: the other tests
def test_an_arm64_image_is_refused_when_only_x86_64_wheels_exist(tmp_path: Path, index: PackageIndex,
                                                                  resolver: str) -> None:
    root = project(tmp_path, OLD)
    before = (root / "Dockerfile").read_bytes()
    request = Request((str(root / "Dockerfile"),), "0.15.0", {"jax": "0.4.25", "jaxlib": "0.4.25"},
                      "write", False, False, platform="linux/arm64")
    with pytest.raises(UserError) as e:
        run(cfg.load(str(root)), request)
    assert "cannot install numpyro==0.15.0 jax==0.4.25 jaxlib==0.4.25 for Python 3.10 linux/arm64: " in str(e.value)
    assert e.value.line == 2
    assert (root / "Dockerfile").read_bytes() == before


def test_an_extra_the_pinned_jax_does_not_have_is_refused(cli, tmp_path: Path, index: PackageIndex,
                                                          resolver: str) -> None:
    """Both resolvers only warn, but the image would install jax without its CUDA packages."""
    root = project(tmp_path, OLD.replace("jax==", "jax[cuda12]=="))
    r = sync(cli, root, "--version", "0.15.0", "--pin", "jax==0.4.25", "--pin", "jaxlib==0.4.25")
    assert r.code == 2
    assert "cuda12" in r.err and ("does not provide the extra" in r.err or "does not have an extra" in r.err)
    assert "jax[cuda12]==0.4.20" in (root / "Dockerfile").read_text()


def test_no_verify_and_offline_do_not_ask(cli, tmp_path: Path, index: PackageIndex) -> None:
    root = project(tmp_path, OLD)
    r = sync(cli, root, "--version", "0.15.0", "--pin", "jax==0.4.31", "--pin", "jaxlib==0.4.31",
             "--no-verify", "--explain")
    assert r.code == 0, r.err
    assert "proof: not asked (--no-verify)" in r.out
    assert "jax==0.4.31 jaxlib==0.4.31" in (root / "Dockerfile").read_text()
    (root / "Dockerfile").write_text(OLD)
    r = sync(cli, root, "--version", "0.15.0", "--pin", "jax==0.4.31", "--pin", "jaxlib==0.4.31",
             "--offline", "--explain")
    assert r.code == 0, r.err
    assert "proof: not asked (--offline)" in r.out
    assert index.hits == []


@pytest.mark.parametrize("resolver", ["uv"], indirect=True)  # pip: the other tests
def test_the_verdict_is_cached_so_the_second_run_asks_nothing(cli, tmp_path: Path, index: PackageIndex,
                                                              resolver: str) -> None:
    root = project(tmp_path, OLD)
    args = ("--version", "0.15.0", "--pin", "jax==0.4.25", "--pin", "jaxlib==0.4.25", "--dry-run")
    first = sync(cli, root, *args)
    assert first.code == 0, first.err
    asked = len(index.hits)
    assert asked > 0
    second = sync(cli, root, *args)
    assert second.code == 0, second.err
    assert len(index.hits) == asked  # no resolver ran: the index was not read again
    assert "[cached]" in second.out and "[cached]" not in first.out
    # a refusal is cached too, and still refuses
    bad = ("--version", "0.15.0", "--pin", "jax==0.4.31", "--pin", "jaxlib==0.4.31")
    assert sync(cli, root, *bad).code == 2
    asked = len(index.hits)
    again = sync(cli, root, *bad)
    assert again.code == 2 and "cannot install" in again.err
    assert len(index.hits) == asked


def test_a_release_not_yet_on_the_index_is_left_out(cli, tmp_path: Path, index: PackageIndex) -> None:
    """The bump commit comes before the upload: the rest of the pins are proved without it."""
    root = project(tmp_path, OLD)
    r = sync(cli, root, "--version", "0.16.0", "--pin", "jax==0.4.25", "--pin", "jaxlib==0.4.25", "--explain")
    assert r.code == 0, r.err
    assert "installs it for Python 3.10" in r.out
    assert "left out: numpyro 0.16.0 (not on the index yet)" in r.out


def test_a_pin_computed_at_build_time_is_left_out_and_said_so(cli, tmp_path: Path,
                                                               index: PackageIndex) -> None:
    root = project(tmp_path, "FROM python:3.10-slim AS build\nRUN pip install jax==0.4.20\n"
                   "FROM python:3.10-slim\nRUN pip install numpyro==0.13.0 jax==0.4.20 jaxlib==0.4.20 \\\n"
                   " && pip install jax-cuda12-plugin==$(cat /plugin-version)\n")
    r = sync(cli, root, "--version", "0.15.0", "--pin", "jax==0.4.25", "--pin", "jaxlib==0.4.25", "--explain")
    assert r.code == 0, r.err
    proofs = [line for line in r.out.splitlines() if "proof:" in line]
    assert len(proofs) == 2, r.out
    assert proofs[0].startswith("  stage 0 proof: ") and "left out" not in proofs[0]
    assert proofs[1].startswith("  stage 1 proof: ") and "installs it" in proofs[1]
    assert "left out: line 5: jax-cuda12-plugin==$(cat /plugin-version) (computed at build time)" in proofs[1], \
        proofs[1]


def test_an_unreachable_find_links_page_falls_back_to_the_rules(cli, tmp_path: Path, index: PackageIndex,
                                                                resolver: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:  # a port on loopback that nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/jax-releases/jax_cuda_releases.html"
    monkeypatch.setenv("PIP_RETRIES", "0")  # the user's pip setting, which both resolvers follow
    root = project(tmp_path, "FROM nvidia/cuda:12.2.2-cudnn8-runtime-ubuntu22.04\n"
                   f"RUN pip install numpyro==0.13.0 jax==0.4.20 jaxlib==0.4.20+cuda12.cudnn89 -f {dead}\n")
    r = sync(cli, root, "--version", "0.15.0", "--pin", "jax==0.4.25", "--pin", "jaxlib==0.4.25+cuda12.cudnn89",
             "--explain")
    assert r.code == 0, r.err
    warning = [line for line in r.err.splitlines() if "not proved" in line]
    port = dead.split(":")[2].split("/")[0]
    assert len(warning) == 1, r.err
    assert f"cannot read the find-links page from 127.0.0.1:{port} (jax_cuda_releases.html): connection " \
        "refused; the rules decided" in warning[0], r.err
    assert "jaxlib==0.4.25+cuda12.cudnn89" in (root / "Dockerfile").read_text()


def test_an_unreachable_page_is_named_once_not_per_file(cli, tmp_path: Path, index: PackageIndex,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/jax-releases/jax_cuda_releases.html"
    monkeypatch.setenv("PIP_RETRIES", "0")
    text = ("FROM nvidia/cuda:12.2.2-cudnn8-runtime-ubuntu22.04\n"
            f"RUN pip install numpyro==0.13.0 jax==0.4.20 jaxlib==0.4.20+cuda12.cudnn89 -f {dead}\n")
    root = project(tmp_path, text)
    (root / "Dockerfile.b").write_text(text)
    r = cli("sync", "Dockerfile", "Dockerfile.b", "--no-commit", "--version", "0.15.0", "--pin", "jax==0.4.25",
            "--pin", "jaxlib==0.4.25+cuda12.cudnn89", cwd=root)
    assert r.code == 0, r.err
    warning = [line for line in r.err.splitlines() if "not proved" in line]
    assert len(warning) == 2 and "connection refused" in warning[0], r.err
    assert warning[1].endswith("not proved by a resolver: (same reason); the rules decided"), r.err


def test_an_image_whose_python_is_unknown_is_not_proved_and_says_how_to_tell(
        cli, tmp_path: Path, index: PackageIndex) -> None:
    root = project(tmp_path, OLD.replace("python:3.10-slim", "example/custom:1"))
    r = sync(cli, root, "--version", "0.15.0", "--pin", "jax==0.4.25", "--pin", "jaxlib==0.4.25")
    assert r.code == 0, r.err
    assert "the Python of example/custom:1 is unknown" in r.err and "--python X.Y" in r.err


def test_a_stage_whose_pins_are_all_in_a_requirements_file_is_named_at_its_pip_install(
        cli, tmp_path: Path, index: PackageIndex) -> None:
    root = project(tmp_path, "FROM example/custom:1\nWORKDIR /app\nCOPY requirements.txt .\n"
                             "RUN pip install -r requirements.txt\n")
    (root / "requirements.txt").write_text("numpyro==0.13.0\njax==0.4.20\njaxlib==0.4.20\n")
    r = sync(cli, root, "--version", "0.15.0", "--pin", "jax==0.4.25", "--pin", "jaxlib==0.4.25")
    assert r.code == 0, r.err
    warning = [line for line in r.err.splitlines() if "not proved by a resolver" in line]
    assert warning and warning[0].startswith("warning: Dockerfile:4: stage 0 not proved"), r.err  # not :0


def test_what_only_an_untrusted_index_serves_does_not_refuse_jax(cli, tmp_path: Path, index: PackageIndex) -> None:
    # torch's +cpu build lives only on the index the Dockerfile names, which is left out untrusted
    root = project(tmp_path, "FROM python:3.10-slim\nRUN pip install --extra-index-url "
                   "http://wheels.example.invalid/simple torch==2.3.1+cpu numpyro==0.13.0 jax==0.4.20 jaxlib==0.4.20\n")
    r = sync(cli, root, "--version", "0.15.0")
    assert r.code == 0, r.err  # not "no jax installs beside torch==2.3.1+cpu"
    assert ("not proved by a resolver: asked without --extra-index-url http://wheels.example.invalid/simple (an "
            "index the Dockerfile names: read only with [release_hook] trust_file_indexes = true)") in r.err, r.err
    assert "jax==0.4.25 jaxlib==0.4.25" in (root / "Dockerfile").read_text()


def test_a_release_published_as_source_only_is_not_built_and_not_refused(
        cli, tmp_path: Path, index: PackageIndex, resolver: str) -> None:
    """jax 0.2.x exists only as a source archive: a resolver would have to run its setup.py."""
    marker = tmp_path / "setup.py-was-run"
    index.sdist("jax", "0.2.13", {"setup.py": f"open({str(marker)!r}, 'w').close()\n"})
    index.wheel("jaxlib", "0.1.65", tag="cp39-none-manylinux2010_x86_64")
    root = project(tmp_path, "FROM python:3.9-slim\nRUN pip install jax==0.2.10 jaxlib==0.1.62 numpyro==0.6.0\n")
    r = sync(cli, root, "--version", "0.7.0", "--pin", "jax==0.2.13", "--pin", "jaxlib==0.1.65")
    assert r.code == 0, r.err
    assert "jax 0.2.13 is published as source only" in r.err
    assert "jax==0.2.13 jaxlib==0.1.65 numpyro==0.7.0" in (root / "Dockerfile").read_text()
    assert not marker.exists()


def test_check_asks_as_sync_does(cli, tmp_path: Path, index: PackageIndex) -> None:
    """--check judges a file by what sync would write: pins that cannot install are not a fix
    to name, they are a refusal (exit 2), as sync's."""
    root = project(tmp_path, OLD)
    r = sync(cli, root, "--version", "0.15.0", "--pin", "jax==0.4.31", "--pin", "jaxlib==0.4.31", "--check")
    assert r.code == 2 and "uv cannot install" in r.err, r.err
    r = sync(cli, root, "--version", "0.15.0", "--pin", "jax==0.4.25", "--pin", "jaxlib==0.4.25", "--check")
    assert r.code == 1, r.err


@pytest.mark.skipif(os.environ.get("RELEASE_HOOK_ONLINE") != "1", reason="set RELEASE_HOOK_ONLINE=1")
@pytest.mark.online
def test_online_written_cpu_pins_install_and_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docker/release/Dockerfile's numpyro, jax and jaxlib (without the CUDA plugins), installed
    from the index the user's pip is configured for into a virtualenv of this Python, import."""
    from release_hook.dockerfile import parse
    from release_hook.pins import find_pins

    path = Path(__file__).parent.parent / "docker" / "release" / "Dockerfile"
    scan = find_pins(parse(path.read_text(), str(path)), "numpyro")
    pins = {p.package: p.version for p in scan.pins if p.package in ("numpyro", "jax", "jaxlib")}
    assert len(pins) == 3, pins
    venv.create(tmp_path / "venv", with_pip=True)
    python = str(tmp_path / "venv" / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "-q", *(f"{n}=={v}" for n, v in pins.items())],
                   check=True)
    done = subprocess.run([python, "-c", "import jax, jaxlib, numpyro; import jax.numpy as jnp; "
                           "print(jax.__version__, jaxlib.__version__, numpyro.__version__, "
                           "float(jnp.ones(3).sum()))"], check=True, capture_output=True, text=True)
    assert done.stdout.split() == [pins["jax"], pins["jaxlib"], pins["numpyro"], "3.0"], done.stdout


@pytest.mark.skipif(os.environ.get("RELEASE_HOOK_ONLINE") != "1", reason="set RELEASE_HOOK_ONLINE=1")
@pytest.mark.online
@pytest.mark.parametrize("resolver", ["uv"])  # pip takes 70 s or more for this set (bench.py)
def test_online_the_repository_images_are_proved_and_a_too_new_release_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, resolver: str) -> None:
    """docker/release/Dockerfile's CUDA 12 set installs for its image (Ubuntu 24.04's Python
    3.12); numpyro 0.20.1 (Requires-Python >=3.11) does not for Python 3.10."""
    from release_hook import config as cfg_
    from release_hook.request import Request
    from release_hook.resolve import solver
    from release_hook.resolve.image import Target, images_of
    from release_hook.resolve.install import installs_of
    from release_hook.scancache import ScanCache

    monkeypatch.setenv("RELEASE_HOOK_CACHE_DIR", str(tmp_path / "cache"))
    root = Path(__file__).parent.parent
    path = root / "docker" / "release" / "Dockerfile"
    scan = ScanCache("numpyro", str(root)).scan_all([(str(path), path.read_bytes())])[0]
    install = installs_of(scan)[0]
    lines, _ = install.lines(lambda pin: None, "numpyro")
    assert any(r.startswith("jax-cuda12-plugin") for r in lines), lines
    request = Request((), "", {}, "check", False, False)
    target = images_of(scan, cfg_.load(str(root)), request)[0].target()
    assert isinstance(target, Target) and target.python == (3, 12)
    uv = solver.choose()
    assert uv.name == resolver
    answer = solver.ask(solver.Ask(lines, target), uv)
    assert answer.state == "installs", answer.reason
    assert "jax-cuda12-pjrt" in dict(answer.installs)
    old = Target((3, 10), "linux/amd64", "x86_64", 35)
    answer = solver.ask(solver.Ask(("numpyro==0.20.1", "jax==0.4.30", "jaxlib==0.4.30"), old), uv)
    assert answer.state == "refused" and "3.11" in answer.reason, answer


def test_a_decision_shared_by_files_of_one_shape_proves_each_stage_with_its_own_answer(
        cli, tmp_path: Path, index: PackageIndex) -> None:
    """Two files whose stages share one ARG, their Pythons in the other order: the second file
    is decided as the first was, and each stage must keep the proof of its own Python (the
    proofs were placed by stage number: 3.11's stage said "installs it for Python 3.10")."""
    root = project(tmp_path, "")
    stages = {"3.10": "FROM python:3.10-slim\nARG JAX\nRUN pip install jax==$JAX jaxlib==$JAX\n",
              "3.11": "FROM python:3.11-slim\nARG JAX\nRUN pip install jax==$JAX jaxlib==$JAX\n"}
    (root / "a.Dockerfile").write_text("ARG JAX=0.4.20\n" + stages["3.10"] + stages["3.11"])
    (root / "b.Dockerfile").write_text("ARG JAX=0.4.20\n" + stages["3.11"] + stages["3.10"])
    for files in (["a.Dockerfile", "b.Dockerfile"], ["b.Dockerfile"]):  # then from the memo
        r = cli("sync", *files, "--version", "0.15.0", "--dry-run", cwd=root)
        assert r.code == 0, r.err
        for name, order in (("a.Dockerfile", ("3.10", "3.11")), ("b.Dockerfile", ("3.11", "3.10"))):
            if name not in files:
                continue
            part = r.out.split(f"{name} (policy")[1].split(".Dockerfile (policy")[0]
            for stage, python in enumerate(order):
                proof = part.split(f"stage {stage} proof: ")[1].splitlines()[0]
                assert f"installs it for Python {python} " in proof, (name, stage, proof)


@pytest.mark.parametrize("mode", [(), ("--no-verify",)], ids=["proved", "not-asked"])
def test_stages_of_one_shape_whose_pins_differ_each_keep_the_proof_of_their_own_pins(
        cli, tmp_path: Path, index: PackageIndex, mode: tuple[str, ...]) -> None:
    """Two stages of one Python and one install but for their kept pins (one pins jaxlib, the
    other not), in the other order in the second file: what each stage asked is its own, in
    the run that decides both files and in a later run from the memo, in text and in JSON
    (the stages were told apart by everything but their pins: the stage without jaxlib said it
    asked `jaxlib==0.4.25`)."""
    import json

    root = project(tmp_path, "")
    stages = {"both": "FROM python:3.10-slim\nARG JAX\nRUN pip install numpyro==0.13.0 jax==$JAX jaxlib==$JAX\n",
              "jax": "FROM python:3.10-slim\nARG JAX\nRUN pip install numpyro==0.13.0 jax==$JAX\n"}
    (root / "a.Dockerfile").write_text("ARG JAX=0.4.20\n" + stages["both"] + stages["jax"])
    (root / "b.Dockerfile").write_text("ARG JAX=0.4.20\n" + stages["jax"] + stages["both"])
    asks = {"both": ["numpyro==0.15.0", "jax==0.4.25", "jaxlib==0.4.25"], "jax": ["numpyro==0.15.0", "jax==0.4.25"]}
    order = {"a.Dockerfile": ("both", "jax"), "b.Dockerfile": ("jax", "both")}
    for files in (["a.Dockerfile", "b.Dockerfile"], ["b.Dockerfile"]):  # then from the memo
        r = cli("sync", *files, "--version", "0.15.0", "--dry-run", *mode, cwd=root)
        assert r.code == 0, r.err
        for name in files if not mode else ():  # not asked: the text says no question
            part = r.out.split(f"{name} (policy")[1].split(".Dockerfile (policy")[0]
            for stage, pins in enumerate(order[name]):
                asked = part.split(f"stage {stage} proof: ")[1].splitlines()[1]
                assert asked == "    asked: " + " ".join(asks[pins]), (files, name, stage, asked)
        r = cli("sync", *files, "--version", "0.15.0", "--dry-run", "--format", "json", *mode, cwd=root)
        assert r.code == 0, r.err
        for f in json.loads(r.out)["files"]:
            got = [s["asked"] for s in f["stages"]]
            assert got == [asks[pins] for pins in order[f["path"]]], (files, f["path"], got)


def test_a_stage_no_resolver_can_be_asked_about_says_so_in_every_file_and_every_run(
        cli, tmp_path: Path, index: PackageIndex) -> None:
    """A stage of an image whose Python nothing says is not proved, and the run says so: for the
    second file decided as the first was, and in a later run from the memo (its proof was
    dropped there, and with it the warning that the rules alone decided that stage)."""
    import json

    root = project(tmp_path, "")
    text = ("ARG JAX=0.4.20\nFROM python:3.10-slim\nARG JAX\nRUN pip install numpyro==0.13.0 jax==$JAX jaxlib==$JAX\n"
            "FROM myorg/base:1\nARG JAX\nRUN pip install numpyro==0.13.0 jax==$JAX jaxlib==$JAX\n")
    (root / "a.Dockerfile").write_text(text)
    (root / "b.Dockerfile").write_text(text)
    pins = ("--version", "0.15.0", "--pin", "jax==0.4.25", "--pin", "jaxlib==0.4.25", "--dry-run")
    for files in (["a.Dockerfile", "b.Dockerfile"], ["a.Dockerfile"]):  # then from the memo
        r = cli("sync", *files, *pins, cwd=root)
        assert r.code == 0, r.err
        for name in files:
            part = r.out.split(f"{name} (policy")[1].split(".Dockerfile (policy")[0]
            assert "stage 0 proof: uv " in part and "installs it for Python 3.10" in part, (files, name, part)
            assert "stage 1 proof: not proved: the Python of myorg/base:1 is unknown" in part, (files, name, part)
            assert f"warning: {name}:7: stage 1 not proved by a resolver" in r.err, (files, name, r.err)
        r = cli("sync", *files, *pins, "--format", "json", cwd=root)
        assert r.code == 0, r.err
        for f in json.loads(r.out)["files"]:
            assert [(s["stage"], s["proof"]) for s in f["stages"]] == [(0, "installs"), (1, "unproved")], \
                (files, f["path"], f["stages"])


def test_a_refusal_in_a_decision_of_two_files_names_the_file_of_the_line_it_names(
        cli, tmp_path: Path, index: PackageIndex) -> None:
    """Two Dockerfiles read one requirements file, so one decision covers both; the resolver's
    reason names numpyro, pinned in the Dockerfile: the refusal is at that Dockerfile's line
    (it was put at that line number in the decision's first file, requirements.txt:3 of two)."""
    root = project(tmp_path, "")
    (root / "requirements.txt").write_text("jax==0.4.20\njaxlib==0.4.20\n")
    (root / "a.Dockerfile").write_text("FROM python:3.10-slim\nCOPY requirements.txt .\n"
                                       "RUN pip install numpyro==0.13.0 -r requirements.txt\n")
    (root / "b.Dockerfile").write_text("FROM python:3.10-slim\n# the same image\nCOPY requirements.txt .\n"
                                       "RUN pip install numpyro==0.13.0 -r requirements.txt\n")
    r = cli("sync", "a.Dockerfile", "b.Dockerfile", "--version", "0.15.0", "--pin", "jax==0.4.20",
            "--pin", "jaxlib==0.4.20", "--dry-run", cwd=root)
    assert r.code == 2
    assert r.err.startswith("release-hook: a.Dockerfile:3: uv cannot install numpyro==0.15.0 "), r.err


def test_what_a_shared_decision_left_out_is_said_at_this_files_own_lines(cli, tmp_path: Path,
                                                                          index: PackageIndex) -> None:
    """Files of one shape share a decision; what its question left out is said with line
    numbers, which were the first file's: b.Dockerfile said `line 2` of a line 4."""
    root = project(tmp_path, "")
    run = "RUN pip install jax==0.4.20 jaxlib==0.4.20 $(cat /extra.txt)\n"
    (root / "a.Dockerfile").write_text("FROM python:3.10-slim\n" + run)
    (root / "b.Dockerfile").write_text("FROM python:3.10-slim\n# one\n# two\n" + run)
    for files in (["a.Dockerfile", "b.Dockerfile"], ["b.Dockerfile"]):  # then from the memo
        r = cli("sync", *files, "--version", "0.15.0", "--dry-run", cwd=root)
        assert r.code == 0, r.err
        for name, line in (("a.Dockerfile", 2), ("b.Dockerfile", 4)):
            if name in files:
                part = r.out.split(f"{name} (policy")[1].split(".Dockerfile (policy")[0]
                proof = part.split("stage 0 proof: ")[1].splitlines()[0]
                assert f"left out: line {line}: " in proof, (name, proof)
