"""The command line as a new user meets it: version, help, -q/-v, JSON for CI, closed pipes,
Ctrl-C, globs that match nothing, wording. Real files, real git, the real console script."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from release_hook.invocation import command
from conftest import git
from pkgindex import PackageIndex, served_as_pips_index

BIN = Path(sys.executable).parent
CONSOLE = str(BIN / "release-hook")
CUDA11 = "nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04"
CUDA12 = "nvidia/cuda:12.2.2-cudnn8-runtime-ubuntu22.04"
OFFLINE = ("--offline", "--pin", "jax==0.4.13", "--pin", "jaxlib==0.4.13")


def image(base: str, jax: str = "0.4.1", numpyro: str = "0.6.0") -> str:
    # NumPy and SciPy bounded, as these jax versions need (else a runtime-trap warning on stderr).
    return (f"FROM {base}\nARG JAX_VERSION={jax}\n"
            f"RUN pip install jax==${{JAX_VERSION}} jaxlib=={jax}+cuda11.cudnn86 'numpy<2' 'scipy<1.13' "
            "-f https://example.invalid/jax-releases/jax_cuda_releases.html\n"
            f"RUN pip install numpyro=={numpyro}\n")


def project(tmp_path: Path, files: dict[str, str], version: str = "0.7.0", commit: bool = True) -> Path:
    root = tmp_path / "project"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / ".bumpversion.cfg").write_text(f"[bumpversion]\ncurrent_version = {version}\n")
    if commit:
        git(root, "init", "-q")
        git(root, "add", "-A")
        git(root, "commit", "-qm", "init")
    return root


def console(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CONSOLE, *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


# -- 1. version, help, -q, -v, JSON ---------------------------------------------------------------

@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(cli, tmp_path: Path, flag: str) -> None:
    from release_hook import __version__

    r = cli(flag)
    assert (r.code, r.out, r.err) == (0, f"release-hook {__version__}\n", "")
    p = console(flag, cwd=tmp_path)
    assert (p.returncode, p.stdout, p.stderr) == (0, f"release-hook {__version__}\n", "")


def test_bare_command_prints_usage_on_stderr_and_help_on_stdout(cli, tmp_path: Path) -> None:
    bare = cli()
    assert bare.code == 2 and bare.out == ""
    assert bare.err.startswith("usage: release-hook") and "sync" in bare.err and "exit status" in bare.err
    helped = cli("help")
    assert (helped.code, helped.err) == (0, "")
    assert helped.out == bare.err
    sync_help = cli("help", "sync")
    assert sync_help.code == 0 and sync_help.out.startswith("usage: release-hook sync")
    assert "-q, --quiet" in sync_help.out and "-v, --explain" in sync_help.out
    p = console(cwd=tmp_path)
    assert p.returncode == 2 and p.stdout == "" and p.stderr.startswith("usage: release-hook")
    wrong = cli("sink")
    assert wrong.code == 2 and len(wrong.err.splitlines()) == 1 and "release-hook help" in wrong.err


def test_quiet_prints_errors_only(cli, tmp_path: Path) -> None:
    text = image(CUDA11) + "RUN pip install jax==$(cat /v)\n"
    root = project(tmp_path, {"docker/a/Dockerfile": text}, commit=False)
    loud = cli("sync", "--dry-run", *OFFLINE, cwd=root)
    assert loud.code == 0 and "warning:" in loud.err and loud.out
    r = cli("sync", "-q", "--no-commit", *OFFLINE, cwd=root)
    assert (r.code, r.out, r.err) == (0, "", "")
    assert "jax==${JAX_VERSION}" in (root / "docker/a/Dockerfile").read_text()
    assert "ARG JAX_VERSION=0.4.13" in (root / "docker/a/Dockerfile").read_text()
    bad = cli("sync", "-q", "--version", "x.y", cwd=root)
    assert (bad.code, bad.out) == (2, "") and bad.err.startswith("release-hook: --version: 'x.y'")
    out_of_step = cli("sync", "-q", "--check", "--version", "0.8.0", *OFFLINE, cwd=root)
    assert (out_of_step.code, out_of_step.out, out_of_step.err) == (1, "", "")


def test_v_is_explain(cli, tmp_path: Path) -> None:
    root = project(tmp_path, {"docker/a/Dockerfile": image(CUDA11)}, commit=False)
    short = cli("sync", "-v", "--check", *OFFLINE, cwd=root)
    long = cli("sync", "--explain", "--check", *OFFLINE, cwd=root)
    assert short.out == long.out and short.code == long.code == 1
    assert "  line 4: numpyro ==0.6.0 -> 0.7.0 [.bumpversion.cfg current_version]" in short.out


def test_json_for_check_and_dry_run(cli, tmp_path: Path) -> None:
    root = project(tmp_path, {"docker/a/Dockerfile": image(CUDA11), "docker/b/Dockerfile":
                              image(CUDA12, "0.4.13", "0.7.0").replace("cuda11.cudnn86", "cuda12.cudnn89")},
                   commit=False)
    r = cli("sync", "--check", "--format", "json", *OFFLINE, cwd=root)
    assert r.code == 1, r.err
    doc = json.loads(r.out)
    assert doc["schema_version"] == 1 and doc["mode"] == "check" and doc["in_step"] is False
    assert (doc["package"], doc["version"], doc["version_from"]) == (
        "numpyro", "0.7.0", ".bumpversion.cfg current_version")
    a, b = doc["files"]
    assert (a["path"], a["in_step"], b["in_step"]) == ("docker/a/Dockerfile", False, True)
    jax, jaxlib, numpyro = a["pins"]
    assert jax == {"file": "docker/a/Dockerfile", "line": 3, "package": "jax", "kind": "requirement", "operator": "==", "current": "0.4.1",
                   "target": "0.4.13", "in_step": False, "policy": "minimum", "source": "--pin",
                   "set_at": [2], "stage": 0, "image": CUDA11}
    assert (jaxlib["current"], jaxlib["target"]) == ("0.4.1+cuda11.cudnn86", "0.4.13+cuda11.cudnn86")
    assert jaxlib["source"].startswith("--pin; build ")
    assert (numpyro["target"], numpyro["source"]) == ("0.7.0", ".bumpversion.cfg current_version")
    assert all(p["in_step"] for p in b["pins"]) and "diff" not in a
    assert r.err == ""  # the document says it all
    dry = cli("sync", "--dry-run", "--format", "json", "--version", "0.7.0", *OFFLINE, cwd=root)
    assert dry.code == 0
    doc = json.loads(dry.out)
    assert doc["version_from"] == "--version"
    assert "+ARG JAX_VERSION=0.4.13" in doc["files"][0]["diff"] and doc["files"][1]["diff"] == ""
    assert (root / "docker/a/Dockerfile").read_text() == image(CUDA11)
    quiet = cli("sync", "--check", "-q", "--format", "json", *OFFLINE, cwd=root)
    assert quiet.code == 1 and quiet.err == "" and json.loads(quiet.out)["in_step"] is False
    refused = cli("sync", "--format", "json", *OFFLINE, cwd=root)
    assert refused.code == 2 and "--format json goes with --check or --dry-run" in refused.err


# -- 2. closed pipes, Ctrl-C, one line at the line that holds the bad text -----------------------

def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    # SciPy pinned: jax 0.4.13 with an unpinned SciPy is a runtime trap, warned on stderr.
    text = "FROM python:3.11\nRUN pip install scipy==1.12.0\n" + "".join(f"RUN pip install jax==0.4.1 numpyro==0.6.0  # {n}\n"
                                          for n in range(1500))  # output well past a pipe buffer
    root = project(tmp_path, {"docker/a/Dockerfile": text}, commit=False)
    p = subprocess.Popen([CONSOLE, "sync", "--dry-run", "--offline", "--pin", "jax==0.4.13"], cwd=root,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout is not None and p.stderr is not None
    head = [p.stdout.readline() for _ in range(5)]  # `| head -5`
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait() == 141, err
    assert head[0].startswith(b"docker/a/Dockerfile")
    assert err == ""  # no BrokenPipeError traceback, no "Exception ignored"
    assert (root / "docker/a/Dockerfile").read_text() == text
    shell = subprocess.run(["sh", "-c", f"'{CONSOLE}' sync --dry-run --offline --pin jax==0.4.13 | head -5"],
                           cwd=root, capture_output=True, text=True)
    assert (shell.returncode, shell.stderr, len(shell.stdout.splitlines())) == (0, "", 5)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_standard_output_that_cannot_be_written_is_one_line_after_the_work(tmp_path: Path) -> None:
    root = project(tmp_path, {"docker/a/Dockerfile": image(CUDA11)})
    head = git(root, "rev-parse", "HEAD").stdout
    # a disk that is full: the sync commits, then says in one line that its report was lost
    full = subprocess.run(["sh", "-c", f"'{CONSOLE}' sync {' '.join(OFFLINE)} >/dev/full"], cwd=root,
                          capture_output=True, text=True)
    assert (full.returncode, full.stderr) == (2, "release-hook: cannot write to standard output: No space left "
                                                 "on device (the command itself finished)\n")
    assert git(root, "rev-parse", "HEAD~1").stdout == head  # the sync's commit was made
    # standard output closed by the caller (`>&-`): nothing to say, and no traceback
    closed = subprocess.run(["sh", "-c", f"'{CONSOLE}' sync --check {' '.join(OFFLINE)} >&-"], cwd=root,
                            capture_output=True, text=True)
    assert (closed.returncode, closed.stderr) == (0, ""), closed.stderr


def test_ctrl_c_says_what_was_and_was_not_written(cli, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    texts = {f"docker/{n}/Dockerfile": image(CUDA11) for n in "abc"}
    root = project(tmp_path, texts, commit=False)
    real = os.replace
    calls = {"n": 0}

    def interrupted(src: str, dst: str) -> None:  # Ctrl-C while the second file is renamed
        if str(dst).endswith("Dockerfile"):
            calls["n"] += 1
            if calls["n"] == 2:
                raise KeyboardInterrupt
        real(src, dst)

    monkeypatch.setattr(os, "replace", interrupted)
    r = cli("sync", "--no-commit", *OFFLINE, cwd=root)
    assert r.code == 130, r.err
    assert r.err == ("release-hook: interrupted; written: docker/a/Dockerfile; "
                     "not written: docker/b/Dockerfile, docker/c/Dockerfile\n")
    assert "ARG JAX_VERSION=0.4.13" in (root / "docker/a/Dockerfile").read_text()
    assert (root / "docker/b/Dockerfile").read_text() == image(CUDA11)
    assert sorted(p.name for p in (root / "docker/b").iterdir()) == ["Dockerfile"]  # no temporaries

    def before_writing(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("release_hook.resolve.resolver.resolve", before_writing)
    r = cli("sync", "--no-commit", *OFFLINE, cwd=root)
    assert (r.code, r.err) == (130, "release-hook: interrupted; nothing written\n")


def test_a_real_sigint_exits_130_with_one_line(tmp_path: Path) -> None:
    import signal
    import time

    root = project(tmp_path, {"docker/a/Dockerfile": image(CUDA11)}, commit=False)
    # a package index that never answers keeps the run waiting where Ctrl-C comes
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    env = {**os.environ, "PIP_INDEX_URL": f"http://127.0.0.1:{listener.getsockname()[1]}/simple/",
           "PIP_CONFIG_FILE": os.devnull, "RELEASE_HOOK_TIMEOUT": "30"}
    # Ctrl-C as a terminal delivers it, wherever the suite runs: a shell without job control
    # starts a background job with SIGINT ignored, and a child keeps that (Python then never
    # raises KeyboardInterrupt)
    p = subprocess.Popen([CONSOLE, "sync", "--no-commit", "--requirements", "index"], cwd=root, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    conn, _ = listener.accept()  # it is waiting for the index now
    time.sleep(0.2)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=20)
    conn.close()
    listener.close()
    assert p.returncode == 130
    assert err.splitlines() == ["release-hook: interrupted; nothing written"]  # a pipe: no progress line
    assert (root / "docker/a/Dockerfile").read_text() == image(CUDA11)


def test_a_bad_value_in_an_arg_is_reported_at_the_arg(cli, tmp_path: Path) -> None:
    text = "FROM python:3.11\nARG JAX_VERSION=0.4.x\n\nRUN pip install \\\n    jax==${JAX_VERSION}\n"
    (tmp_path / "Dockerfile").write_text(text)
    r = cli("sync", "Dockerfile", "--version", "0.7.0", "--pin", "jax==0.4.13", "--check")
    assert r.code == 2 and len(r.err.splitlines()) == 1
    assert r.err.startswith("release-hook: Dockerfile:2: cannot parse requirement 'jax==0.4.x' (used at line 5)")


# -- 3. globs and paths that match nothing, empty --version, unknown --pin ------------------------

def test_a_glob_that_matches_nothing_is_an_error(cli, tmp_path: Path) -> None:
    root = project(tmp_path, {"docker/a/Dockerfile": image(CUDA11),
                              "setup.cfg": "[release_hook]\ndockerfiles = dokcer/**/Dockerfile*\n"})
    for mode in ("--check", "--dry-run", "--no-commit"):
        r = cli("sync", mode, *OFFLINE, cwd=root)
        assert (r.code, r.out, r.err) == (
            2, "", "release-hook: no Dockerfile matches 'dokcer/**/Dockerfile*' ([release_hook] dockerfiles)\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    r = cli("sync", str(empty), "--check", *OFFLINE, cwd=root)
    assert r.code == 2 and r.err.startswith(f"release-hook: {empty}: no Dockerfile in this folder")


def test_a_path_argument_takes_the_globs_of_the_settings_and_their_wording(cli, tmp_path: Path) -> None:
    root = project(tmp_path, {"docker/a/Dockerfile": image(CUDA11), "docker/b/Dockerfile": image(CUDA11),
                              "docker/b/notes.txt": "not a Dockerfile\n"}, commit=False)
    everything = cli("sync", "--check", *OFFLINE, cwd=root)
    for pattern in ("docker/*/Dockerfile", "docker/**/Dockerfile*", str(root / "docker/*/Dockerfile")):
        r = cli("sync", "--check", pattern, *OFFLINE, cwd=root)  # quoted: the shell passed it as is
        assert (r.code, r.out) == (everything.code, everything.out.replace(str(root) + "/", "")), pattern
    r = cli("sync", "--check", "docker/a/Dockerfile", *OFFLINE, cwd=root)
    assert r.code == 1 and "docker/b/" not in r.out
    for typo in ("docker/*/Dockerfle", "dokcer/a/Dockerfile"):
        r = cli("sync", "--check", typo, *OFFLINE, cwd=root)
        assert (r.code, r.out, r.err) == (
            2, "", f"release-hook: no Dockerfile matches '{typo}' (PATH of the command line)\n")


def hooked_remote(cli, root: Path, tmp_path: Path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A bare remote `origin` and the hooks installed; the environment to push with."""
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(root, "remote", "add", "origin", str(bare))
    assert cli("install", cwd=root).code == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUMPVERSION_")}
    return env


def test_pre_push_refuses_a_glob_that_matches_nothing(cli, tmp_path: Path) -> None:
    root = project(tmp_path, {"docker/a/Dockerfile": image(CUDA11, "0.4.13", "0.7.0"),
                              "setup.cfg": "[release_hook]\ndockerfiles = dokcer/**/Dockerfile*\n"})
    env = hooked_remote(cli, root, tmp_path)
    r = git(root, "push", "origin", "HEAD:refs/heads/main", check=False, env=env)
    assert r.returncode != 0
    assert "release-hook: refs/heads/main: no Dockerfile matches 'dokcer/**/Dockerfile*' ([release_hook] dockerfiles)" in r.stderr
    assert git(tmp_path / "remote.git", "branch", "--list").stdout == ""


def test_a_dangling_symlink_in_a_glob_is_named(cli, tmp_path: Path) -> None:
    root = project(tmp_path, {"docker/a/Dockerfile": image(CUDA11)}, commit=False)
    (root / "docker/b").mkdir()
    (root / "docker/b/Dockerfile").symlink_to(root / "docker/gone/Dockerfile")
    r = cli("sync", "--check", *OFFLINE, cwd=root)
    assert r.code == 2 and len(r.err.splitlines()) == 1
    assert r.err.startswith("release-hook: docker/b/Dockerfile: dangling symbolic link (to ")
    r = cli("sync", "docker/b/Dockerfile", "--check", *OFFLINE, cwd=root)
    assert r.code == 2 and "dangling symbolic link" in r.err


def test_an_empty_version_is_an_error(cli, tmp_path: Path) -> None:
    root = project(tmp_path, {"docker/a/Dockerfile": image(CUDA11)}, commit=False)
    r = cli("sync", "--version", "", "--no-commit", *OFFLINE, cwd=root)
    assert r.code == 2 and r.err.startswith("release-hook: --version is empty")
    assert (root / "docker/a/Dockerfile").read_text() == image(CUDA11)


def test_a_pin_no_file_pins_names_what_is_pinned(cli, tmp_path: Path) -> None:
    root = project(tmp_path, {"docker/a/Dockerfile": image(CUDA11)}, commit=False)
    r = cli("sync", "--no-commit", *OFFLINE, "--pin", "nunpyro==0.7.0", cwd=root)
    assert (r.code, r.err) == (2, "release-hook: --pin nunpyro: no Dockerfile pins nunpyro; "
                                  "pinned: jax, jaxlib, numpyro\n")
    assert (root / "docker/a/Dockerfile").read_text() == image(CUDA11)


# -- 4. the commit message names each image's changes -------------------------------------------

def test_commit_message_names_each_files_changes_when_they_differ(cli, tmp_path: Path) -> None:
    root = project(tmp_path, {"docker/cuda11/Dockerfile": image(CUDA11),
                              "docker/cuda12/Dockerfile": image(CUDA12).replace("cuda11.cudnn86", "cuda12.cudnn89")})
    r = cli("sync", *OFFLINE, cwd=root)
    assert r.code == 0, r.err
    assert "committed " in r.out and r.out.rstrip().endswith(": Sync Dockerfiles with numpyro 0.7.0")
    message = git(root, "log", "-1", "--format=%B").stdout.strip()
    assert message.splitlines() == [
        "Sync Dockerfiles with numpyro 0.7.0",
        "",
        "docker/cuda11/Dockerfile: jax 0.4.13, jaxlib 0.4.13+cuda11.cudnn86",
        "docker/cuda12/Dockerfile: jax 0.4.13, jaxlib 0.4.13+cuda12.cudnn89",
    ]
    # alike again: the one-line form
    r = cli("sync", "--offline", "--pin", "jax==0.4.14", "--pin", "jaxlib==0.4.13", "--version", "0.7.1",
            cwd=root)
    assert r.code == 0, r.err
    assert git(root, "log", "-1", "--format=%B").stdout.strip() == "Sync Dockerfiles with numpyro 0.7.1 (jax 0.4.14)"


# -- 5. index errors: one short line, 404 told from junk ----------------------------------------

@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    idx = PackageIndex(tmp_path / "index")
    idx.wheel("numpyro", "0.7.0", ["jax>=0.4.1", "jaxlib>=0.4.1"])
    with served_as_pips_index(idx, monkeypatch, "2"):
        yield idx


AGAIN = ("; try again when the index answers (the one pip is configured for), or add --offline to use "
         "what an earlier run cached")


@pytest.mark.parametrize("answer, said", [
    ("404", "package index 127.0.0.1:{port}: HTTP 404 for jax"),
    ("junk", "package index 127.0.0.1:{port}: answered something that is not a package page (for jax)"),
    ("xml", "package index 127.0.0.1:{port}: answered something that is not a package page (for jax)"),
    ("json-junk", "cannot read jax's releases from package index 127.0.0.1:{port}: answered something "
                  "that is not a package page" + AGAIN),
    ("500", "cannot read jax's releases from package index 127.0.0.1:{port}: HTTP 500 for jax" + AGAIN),
])
def test_index_errors_are_one_short_line(cli, tmp_path: Path, index: PackageIndex, answer: str,
                                         said: str) -> None:
    real = index.body
    noise = bytes(random.Random(7).randrange(256) for _ in range(4000))

    def body(path: str, accept: str = "") -> tuple[int, str, bytes]:
        if not path.startswith("/simple/jax/"):
            return real(path, accept)
        return {"404": (404, "text/html", b"not found"),
                "junk": (200, "text/html", noise),
                "xml": (200, "text/html", b'<?xml version="1.0"?><feed><a>x</a></feed>'),
                "json-junk": (200, "application/vnd.pypi.simple.v1+json", noise),
                "500": (500, "text/html", b"oops")}[answer]

    index.body = body  # type: ignore[method-assign]
    root = project(tmp_path, {"docker/a/Dockerfile": image(CUDA11),
                              "setup.cfg": "[release_hook]\nrequirements = index\n"}, commit=False)
    r = cli("sync", "--check", cwd=root)
    assert r.code == 2
    assert r.err == f"release-hook: {said.format(port=index.port)}\n"


def test_an_unreachable_index_is_said_once_in_a_push(cli, tmp_path: Path) -> None:
    root = project(tmp_path, {"docker/a/Dockerfile": image(CUDA11, "0.4.13", "0.7.0"),
                              "setup.cfg": "[release_hook]\nrequirements = index\n"})
    env = hooked_remote(cli, root, tmp_path)
    env.update(PIP_INDEX_URL="http://127.0.0.1:9/simple/", PIP_CONFIG_FILE=os.devnull)
    r = git(root, "push", "origin", "HEAD:refs/heads/main", check=False, env=env)
    lines = [line for line in r.stderr.splitlines() if "not checked" in line]
    assert lines == [
        "release-hook: refs/heads/main: not checked: docker/a/Dockerfile:3: jax (cannot read numpyro "
        "0.7.0 metadata from package index 127.0.0.1:9: connection refused)",
        "release-hook: refs/heads/main: not checked: docker/a/Dockerfile:3: jaxlib (same reason)",
    ]


# -- 6. wording ----------------------------------------------------------------------------------

def test_a_bad_version_in_the_config_names_the_file_and_line(cli, tmp_path: Path) -> None:
    root = project(tmp_path, {"docker/a/Dockerfile": image(CUDA11)}, commit=False)
    (root / ".bumpversion.cfg").write_text("[bumpversion]\ncommit = True\ncurrent_version = 0.7.x\n")
    r = cli("sync", "--check", *OFFLINE, cwd=root)
    assert (r.code, r.err) == (2, "release-hook: .bumpversion.cfg:3: .bumpversion.cfg current_version: "
                                  "'0.7.x' is not a valid PEP 440 version\n")


def test_hooks_that_cannot_be_written_are_one_line(cli, tmp_path: Path) -> None:
    root = project(tmp_path, {"docker/a/Dockerfile": image(CUDA11)})
    (root / "hooks-file").write_text("not a folder\n")
    git(root, "config", "core.hooksPath", "hooks-file")
    r = cli("install", cwd=root)
    assert r.code == 2 and len(r.err.splitlines()) == 1, r.err
    assert r.err.startswith(f"release-hook: {root / 'hooks-file'}: cannot write the hooks: File exists; "
                            "check core.hooksPath"), r.err


def test_a_version_file_that_is_not_utf8_is_named_at_its_line(cli, tmp_path: Path) -> None:
    root = project(tmp_path, {"docker/a/Dockerfile": image(CUDA11)}, commit=False)
    (root / ".bumpversion.cfg").write_bytes(b"[bumpversion]\n# caf\xe9\ncurrent_version = 0.7.0\n")
    r = cli("sync", "--check", *OFFLINE, cwd=root)
    assert (r.code, r.err) == (2, "release-hook: .bumpversion.cfg:2: not UTF-8 text (byte 0xe9)\n")


def test_install_outside_git_does_not_suggest_a_flag_it_lacks(cli, tmp_path: Path) -> None:
    r = cli("install")
    assert r.code == 2 and "--no-commit" not in r.err
    assert r.err == (f"release-hook: {tmp_path}: not a git repository: the hooks go into a repository's "
                     "hooks folder; run this inside one, or give --repo PATH\n")


def test_cuda_11_on_a_new_jax_does_not_suggest_a_plugin_that_never_was(cli, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text('FROM python:3.11\nRUN pip install "jax[cuda12]==0.9.0" '
                                         "jaxlib==0.9.0 jax-cuda12-plugin==0.9.0 numpyro==0.19.0\n")
    r = cli("sync", "Dockerfile", "--version", "0.19.0", "--pin", "jax==0.9.0", "--pin", "jaxlib==0.9.0",
            "--cuda", "11.8", "--offline", "--check")
    assert r.code == 2 and "jax-cuda11-plugin" not in r.err and len(r.err.splitlines()) == 1
    assert ("python:3.11 has CUDA 11.8 (--cuda), but the file pins jax-cuda12-plugin: jax's CUDA plugins exist "
            "for CUDA 12 and 13 only; CUDA 11 builds of jaxlib stop at 0.4.25") in r.err


def test_help_knows_every_command(cli) -> None:
    for name in ("sync", "install", "uninstall", "doctor", "hook", "help"):
        shown = cli("help", name)
        assert shown.code == 0 and shown.out.startswith(f"usage: release-hook {name}"), name


@pytest.mark.parametrize("words", [
    ["sync", "docker", "--version", "0.9.0", "--pin", "jax==0.4.30", "--check", "-v", "--format", "json"],
    ["sync", "--dry-run", "--check"], ["sync", "--policy", "newest"], ["sync", "--help"],
    ["install", "--force"], ["install", "--print-bump-my-version", "--repo", "x"], ["uninstall", "--bogus"],
    ["doctor"], ["hook", "pre-push", "--", "origin"], ["hook", "post-merge"], ["help", "sync"],
])
def test_a_commands_own_parser_reads_its_words_as_the_whole_parser_does(
        words: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Only the named command's parser is built (the others cost gettext lookups): what it
    parses, prints and refuses must be what the parser of every command does."""
    from release_hook.cli import COMMANDS, _parser
    from release_hook.errors import UserError

    def outcome(parser: object) -> tuple[object, ...]:
        try:
            return ("parsed", vars(parser.parse_args(words)))  # type: ignore[attr-defined]
        except UserError as e:
            return ("refused", str(e))
        except SystemExit as e:
            return ("stopped", e.code, capsys.readouterr())

    assert set(COMMANDS) == set(_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    assert outcome(_parser(words[0])) == outcome(_parser())


@pytest.mark.parametrize("stage", ["pre-commit", "pre-push", "framework", "bump-my-version"])
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_a_hooks_command_asked_for_help_prints_it_and_runs_nothing(tmp_path: Path, stage: str, flag: str) -> None:
    """The hooks' command skips argparse for speed; asked for help it must still print help,
    not run the stage: `hook pre-push --help` waited for refs on standard input, `hook framework
    -h` checked the work tree, `hook bump-my-version --help` failed on a missing variable."""
    root = project(tmp_path, {"docker/Dockerfile": image(CUDA11)})
    done = subprocess.run([CONSOLE, "hook", stage, flag], cwd=root, capture_output=True, text=True,
                          input="", timeout=120)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("usage: release-hook hook")
    assert git(root, "status", "--porcelain").stdout == ""


def test_json_is_printed_also_when_the_sync_stops_with_an_error(cli, tmp_path: Path,
                                                                 index: PackageIndex) -> None:
    index.wheel("numpyro", "0.8.0", ["jax>=0.4.1", "jaxlib>=0.4.1"], requires_python=">=3.12")
    root = project(tmp_path, {"docker/a/Dockerfile": "FROM python:3.11\nRUN pip install numpyro==0.7.0 jax==0.4.1\n",
                              "setup.cfg": "[release_hook]\nrequirements = index\n"}, commit=False)
    for mode in ("--check", "--dry-run"):
        for quiet in ((), ("-q",)):
            r = cli("sync", mode, "--version", "0.8.0", "--format", "json", *quiet, cwd=root)
            assert r.code == 2, r.err  # as without --format json
            assert r.err.startswith("release-hook: docker/a/Dockerfile:2: numpyro 0.8.0 needs Python >=3.12")
            doc = json.loads(r.out)
            assert doc["error"] == {"message": doc["error"]["message"], "path": "docker/a/Dockerfile",
                                    "line": 2, "text": r.err.removeprefix("release-hook: ").rstrip("\n")}
            assert doc["error"]["message"].startswith("numpyro 0.8.0 needs Python >=3.12; the image has 3.11")
            assert (doc["schema_version"], doc["mode"], doc["package"], doc["version"], doc["version_from"],
                    doc["in_step"], doc["files"]) == (1, mode[2:], "numpyro", "0.8.0", "--version", None, [])
    # an error before the version is known: the document says what it knows
    r = cli("sync", "--check", "--format", "json", "--version", "banana", cwd=root)
    assert r.code == 2 and json.loads(r.out)["version"] is None
    assert json.loads(r.out)["error"]["text"] == "--version: 'banana' is not a valid PEP 440 version"
    # a run that ends well says it has no error
    r = cli("sync", "--check", "--format", "json", "--version", "0.7.0", *OFFLINE[:3], cwd=root)
    assert json.loads(r.out)["error"] is None, r.err


ELSEWHERE = "--requirements PATH reads them from the release's pyproject.toml, setup.cfg or setup.py"


def test_errors_of_the_index_say_what_to_do_next(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 index: PackageIndex) -> None:
    root = project(tmp_path, {"docker/a/Dockerfile": "FROM python:3.11\nRUN pip install numpyro==0.7.0 jax==0.4.1\n",
                              "setup.cfg": "[release_hook]\nrequirements = index\n"}, commit=False)
    r = cli("sync", "--check", "--version", "0.99.0", cwd=root)
    assert r.err == (f"release-hook: numpyro 0.99.0 is not on the package index (127.0.0.1:{index.port}); "
                     f"if it is not uploaded yet, {ELSEWHERE}\n")
    r = cli("sync", "--check", "--version", "0.19.0", "--offline", cwd=root)
    assert r.err == ("release-hook: --offline, and no cached metadata of numpyro 0.19.0; run it once "
                     f"without --offline, with the index reachable, to cache what it reads; or {ELSEWHERE}\n")
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple/")
    r = cli("sync", "--check", "--version", "0.19.0", cwd=root)
    assert r.err == ("release-hook: cannot read numpyro 0.19.0 metadata from package index 127.0.0.1:9: "
                     f"connection refused{AGAIN}; or {ELSEWHERE}\n")
    assert r.code == 2


def test_a_release_not_uploaded_yet_is_answered_from_the_repository_and_explain_says_so(
        cli, tmp_path: Path, index: PackageIndex) -> None:
    index.wheel("jax", "0.4.1", ["jaxlib>=0.4.1"])
    index.wheel("jaxlib", "0.4.1", tag="cp311-cp311-manylinux2014_x86_64")
    setup_py = ('from setuptools import setup\n_jax = ">=0.4.1"\n'
                'setup(name="numpyro", install_requires=[f"jax{_jax}", f"jaxlib{_jax}"], python_requires=">=3.9")\n')
    root = project(tmp_path, {"docker/a/Dockerfile": "FROM python:3.11\nRUN pip install numpyro==0.7.0 jax==0.4.1\n",
                              "setup.cfg": "[release_hook]\nrequirements = index\n", "setup.py": setup_py},
                   commit=False)
    r = cli("sync", "--check", "--explain", "--version", "0.99.0", cwd=root)  # bumped, not uploaded
    assert r.code == 1, r.err
    assert ("line 2: jax ==0.4.1 in step [release needs jax>=0.4.1 (from setup.py, as numpyro 0.99.0 is not "
            "on the package index yet); ") in r.out, r.out
    r = cli("sync", "--check", "--explain", "--version", "0.7.0", cwd=root)  # uploaded: its metadata
    assert "[release needs jax>=0.4.1 (from numpyro 0.7.0 metadata on the package index); " in r.out, r.out
    (root / "setup.py").write_text(setup_py.replace('name="numpyro"', 'name="another"'))
    r = cli("sync", "--check", "--version", "0.99.0", cwd=root)  # the repository is another package
    assert r.code == 2 and r.err.endswith(f"if it is not uploaded yet, {ELSEWHERE}\n"), r.err


def test_the_fix_a_check_prints_carries_its_options_and_runs_as_printed(cli, tmp_path: Path) -> None:
    root = project(tmp_path, {"docker/a/Dockerfile": image(CUDA11), "docker/b/Dockerfile": image(CUDA11)})
    args = ("docker/a/Dockerfile", "--version", "0.7.1", *OFFLINE)
    r = cli("sync", "--check", *args, cwd=root)
    fix = command("sync", "docker/a/Dockerfile", "--version", "0.7.1", "--pin=jax==0.4.13",
                  "--pin=jaxlib==0.4.13", "--offline")
    assert (r.code, r.err) == (1, f"1 Dockerfile(s) out of step with numpyro 0.7.1; run: {fix}\n")
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if Path(p) != BIN)
    done = subprocess.run(["/bin/sh", "-c", fix], cwd=root, text=True, capture_output=True,
                          env={**os.environ, "PATH": path})
    assert done.returncode == 0, done.stderr
    assert cli("sync", "--check", *args, cwd=root).code == 0
    assert cli("sync", "--check", "docker/b/Dockerfile", "--version", "0.7.1", *OFFLINE, cwd=root).code == 1
    # outside git, a sync cannot commit: the printed fix says --no-commit, and runs as printed
    plain = tmp_path / "plain"
    (plain / "docker").mkdir(parents=True)
    (plain / "docker" / "Dockerfile").write_text(image(CUDA11))
    r = cli("sync", "--check", "docker/Dockerfile", "--version", "0.7.1", *OFFLINE, cwd=plain)
    fix = command("sync", "docker/Dockerfile", "--version", "0.7.1", "--pin=jax==0.4.13", "--pin=jaxlib==0.4.13",
                  "--offline", "--no-commit")
    assert (r.code, r.err) == (1, f"1 Dockerfile(s) out of step with numpyro 0.7.1; run: {fix}\n")
    done = subprocess.run(["/bin/sh", "-c", fix], cwd=plain, text=True, capture_output=True,
                          env={**os.environ, "PATH": path})
    assert done.returncode == 0, done.stderr


def test_a_folder_that_stops_being_a_repository_is_not_one_for_the_next_run(cli, tmp_path: Path) -> None:
    """The top-level folders git names are remembered for the process (a bump's hook asks
    twice): a run in the same process after `.git` is gone must not take it for a repository
    still, or its printed fix lacks --no-commit and fails as printed."""
    import shutil

    root = project(tmp_path, {"docker/Dockerfile": image(CUDA11)})
    args = ("docker/Dockerfile", "--version", "0.7.1", *OFFLINE)
    fix = command("sync", *args[:3], "--pin=jax==0.4.13", "--pin=jaxlib==0.4.13", "--offline")
    assert cli("sync", "--check", *args, cwd=root).err.endswith(f"run: {fix}\n")
    shutil.rmtree(root / ".git")
    r = cli("sync", "--check", *args, cwd=root)
    assert (r.code, r.err) == (1, f"1 Dockerfile(s) out of step with numpyro 0.7.1; run: {fix} --no-commit\n")
    r = cli("sync", *args, cwd=root)
    assert r.code == 2 and "not a git repository (use --no-commit" in r.err, r.err


def test_a_run_that_reads_what_it_read_before_imports_nothing_it_does_not_use(tmp_path: Path) -> None:
    """Every bump's hook and every check pays for what it imports: the dataclass machinery (and
    inspect, ast, dis and tokenize under it) cost each of those runs 11 ms, and ast alone (for a
    setup.py) 1.6 ms; a first read, importlib.resources 8 ms; argparse's terminal width, shutil
    (with bz2 and lzma) 2.5 ms; hashlib, OpenSSL (_hashlib) 2.5 ms. A file read before is found
    in the scan cache, and nothing on that path may bring them back. Nor does a file a sync
    wrote need parsing: the sync keeps its scan (the push after a bump, the next bump)."""
    root = project(tmp_path, {"docker/Dockerfile": image(CUDA11, numpyro="0.7.0")})
    # read at the process's end, as an atexit function (the entry point runs them, then leaves)
    probe = ("import atexit, sys, runpy\nsys.argv = ['release-hook', *sys.argv[1:]]\n"
             "atexit.register(lambda: print(sorted(m for m in ('dataclasses', 'inspect', 'ast', "
             "'importlib.resources', 'shutil', '_hashlib', 'release_hook.dockerfile') if m in sys.modules), "
             "file=sys.stderr))\nrunpy.run_module('release_hook', run_name='__main__')\n")
    pins = ("--offline", "--pin", "jax==0.4.1", "--pin", "jaxlib==0.4.1")
    runs = [("--check", "--version", "0.7.0"), ("--no-commit", "--version", "0.8.0"),
            ("--check", "--version", "0.8.0"), ("--no-commit", "--version", "0.7.0")]
    for first in (True, False):  # the first time each content is read, then again
        for args in runs:
            done = subprocess.run([sys.executable, "-c", probe, "sync", *args, *pins], cwd=root,
                                  capture_output=True, text=True)
            assert done.returncode == 0, done.stderr
            imported = done.stderr.splitlines()[-1]
            if first and args is runs[0]:
                # a first read parses the file: tree-sitter-bash's grammar without its package's
                # importlib.resources (8 ms); packaging's requirements bring dataclasses there
                assert "release_hook.dockerfile" in imported and "importlib.resources" not in imported, \
                    (args, done.stderr)
            else:
                assert imported == "[]", (first, args, done.stderr)
    assert "numpyro==0.7.0" in (root / "docker" / "Dockerfile").read_text()


def test_the_entry_point_leaves_without_teardown_but_with_its_output_whole_and_the_store_closed(
        cli, tmp_path: Path) -> None:
    """The process skips the interpreter's teardown (os._exit): what it wrote to a file is all
    there, and the store is closed as sqlite closes it (its log checkpointed and removed)."""
    text = "FROM python:3.11\nRUN pip install scipy==1.12.0\n" + "".join(
        f"RUN pip install jax==0.4.1 jaxlib==0.4.1 numpyro==0.6.0  # {n}\n" for n in range(800))
    root = project(tmp_path, {"docker/a/Dockerfile": text}, commit=False)
    args = ("sync", "--dry-run", *OFFLINE)
    with open(tmp_path / "out.txt", "w") as out:  # a file: written in blocks, the last at exit
        done = subprocess.run([CONSOLE, *args], cwd=root, stdout=out, stderr=subprocess.PIPE, text=True)
    assert done.returncode == 0, done.stderr
    store = Path(os.environ["RELEASE_HOOK_CACHE_DIR"])
    assert [p.name for p in store.iterdir() if p.name.endswith("-wal")] == []
    assert (tmp_path / "out.txt").read_text() == cli(*args, cwd=root).out


def test_the_entry_points_run_without_the_cycle_collector_and_main_leaves_the_callers(
        cli, tmp_path: Path) -> None:
    """Off for the process (the console script, `python -m release_hook`): a short run keeps what
    it builds. A caller of main() in its own process keeps its collector as it was."""
    import gc

    probe = ("import atexit, gc, sys, runpy\nsys.argv = ['release-hook', '--version']\n"
             "atexit.register(lambda: print(gc.isenabled(), file=sys.stderr))\n"
             "runpy.run_module('release_hook', run_name='__main__')\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert done.stderr.splitlines()[-1] == "False", done.stderr
    script = subprocess.run([CONSOLE, "--version"], cwd=tmp_path, capture_output=True, text=True)
    assert script.returncode == 0 and script.stdout.startswith("release-hook ")
    assert gc.isenabled() and cli("--version").code == 0 and gc.isenabled()


def test_a_bumps_hook_calls_git_without_importing_subprocess(cli, tmp_path: Path) -> None:
    """A bump's hook stages what it writes (`sync --stage`, as `hook pre-commit` runs it): its
    git calls start git themselves, without subprocess's 4 ms of imports, and git's answers
    (the top-level, what is dirty or ignored) are read as before."""
    root = project(tmp_path, {"docker/Dockerfile": image(CUDA11, numpyro="0.7.0"), ".gitignore": "ignored/\n",
                              "ignored/Dockerfile": image(CUDA11, numpyro="0.7.0")})
    probe = ("import atexit, sys, runpy\nsys.argv = ['release-hook', *sys.argv[1:]]\n"
             "atexit.register(lambda: print('subprocess' in sys.modules, file=sys.stderr))\n"
             "runpy.run_module('release_hook', run_name='__main__')\n")
    pins = ("--offline", "--pin", "jax==0.4.1", "--pin", "jaxlib==0.4.1")
    paths = ("docker/Dockerfile", "ignored/Dockerfile")
    args = ("sync", *paths, "--stage", "--version", "0.8.0", *pins)
    assert cli("sync", *paths, "--check", "--version", "0.7.0", *pins, cwd=root).code == 0  # as a bump's were, read once
    done = subprocess.run([sys.executable, "-c", probe, *args], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr.splitlines()[-1] == "False", done.stderr
    staged = subprocess.run(["git", "diff", "--cached", "--name-only"], cwd=root, capture_output=True, text=True)
    assert staged.stdout == "docker/Dockerfile\n"  # written and staged; the ignored one written only
    assert "numpyro==0.8.0" in (root / "ignored" / "Dockerfile").read_text()
    (root / "docker" / "Dockerfile").write_text(image(CUDA11, numpyro="0.7.1"))
    done = subprocess.run([sys.executable, "-c", probe, *args], cwd=root, capture_output=True, text=True)
    assert done.returncode == 2 and "docker/Dockerfile: has uncommitted edits" in done.stderr, done.stderr
