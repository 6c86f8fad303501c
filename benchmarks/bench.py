#!/usr/bin/env python3
"""Benchmark: every figure is a ratio of two commands timed side by side in this one run.

Runs alternate between the two sides, each repeated, and the medians are compared, so that a
noisy machine moves both sides alike. Run from the repository root:

    python benchmarks/bench.py            # about two minutes
    python benchmarks/bench.py --quick    # fewer repeats, no 10,000-file run

Targets (from the project's issues): hook fast path / `python -c pass` < 0.5; sync of 1,000 files
/ bump2version <= 1.0; sync --check / bump2version <= 0.5; 10,000 / 1,000 files <= 11;
pins in one file: 15,000 / 1,500 near 10 and 60,000 / 15,000 near 4 (linear);
`bump2version minor` with the hook / without <= 2.

The proof by a real resolver (resolve/solver.py) is measured as uv's `pip compile` against pip's
`install --dry-run --report`, both with cold caches, on the loopback index with small wheels,
and with RELEASE_HOOK_ONLINE=1 also for a CUDA 12 plugin set on the index pip is configured for.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Sequence

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(HERE), str(REPO / "tests")]

import corpus  # noqa: E402

BIN = Path(sys.executable).parent
RELEASES = [("0.12.0", "0.4.13"), ("0.13.0", "0.4.14")]  # (numpyro, jax and jaxlib), alternated
Command = Callable[[int], Sequence[str]]


def run(cmd: Sequence[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(list(cmd), cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def side_by_side(a: Command, b: Command, cwd_a: Path, cwd_b: Path, env: dict[str, str],
                 repeats: int, warmup: int = 2) -> tuple[float, float]:
    """Medians of a and b, run alternately; the first `warmup` rounds are not counted."""
    ta: list[float] = []
    tb: list[float] = []
    for i in range(repeats + warmup):
        x, y = run(a(i), cwd_a, env), run(b(i), cwd_b, env)
        if i >= warmup:
            ta.append(x)
            tb.append(y)
    return statistics.median(ta), statistics.median(tb)


def corpus_dir(root: Path, count: int) -> Path:
    folder = root / f"corpus{count}"
    corpus.write(folder / "files", count, numpyro=RELEASES[0][0], jax=RELEASES[0][1], jaxlib=RELEASES[0][1])
    (folder / ".bumpversion.cfg").write_text(
        f"[bumpversion]\ncurrent_version = {RELEASES[0][0]}\n\n"
        "[bumpversion:glob:files/*.Dockerfile]\nsearch = numpyro=={current_version}\n"
        "replace = numpyro=={new_version}\n")
    return folder


def sync_cmd(*extra: str) -> Command:
    def cmd(i: int) -> list[str]:
        numpyro, jax = RELEASES[(i + 1) % 2]
        return [str(BIN / "release-hook"), "sync", "files", "--version", numpyro, "--pin",
                f"jax=={jax}", "--pin", f"jaxlib=={jax}", "--offline", *extra]
    return cmd


ATOMIC_FLOOR = """
import os, sys, tempfile
folder = sys.argv[1]
for name in sorted(os.listdir(folder)):
    path = os.path.join(folder, name)
    with open(path, "rb") as f:
        data = f.read()
    fd, tmp = tempfile.mkstemp(prefix="." + name + ".", dir=folder)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, os.stat(path).st_mode & 0o7777)
    os.replace(tmp, path)
"""


def bump_cmd(i: int) -> list[str]:
    return [str(BIN / "bump2version"), "--no-commit", "--no-tag", "--allow-dirty", "--new-version",
            RELEASES[(i + 1) % 2][0], "patch"]


def peak_kb(cmd: Sequence[str], cwd: Path, env: dict[str, str]) -> int:
    probe = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
             "stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", probe, *cmd], cwd=cwd, env=env, check=True,
                         capture_output=True, text=True)
    return int(out.stdout.strip())


def git(cwd: Path, *args: str, env: dict[str, str]) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def bump_repo(root: Path, name: str, env: dict[str, str], hook: bool, dockerfile: str | None = None) -> Path:
    repo = root / name
    if dockerfile is None:
        shutil.copytree(REPO / "docker", repo / "docker")
    else:
        (repo / "docker").mkdir(parents=True)
        (repo / "docker" / "Dockerfile").write_text(dockerfile)
    (repo / ".bumpversion.cfg").write_text("[bumpversion]\ncurrent_version = 0.22.0\ncommit = True\n"
                                           "tag = True\ntag_name = {new_version}\n")
    (repo / "pyproject.toml").write_text('[project]\nname = "numpyro"\nversion = "0.22.0"\n'
                                         'dependencies = ["jax>=0.7.0", "jaxlib>=0.7.0"]\n')
    git(repo, "init", "-q", env=env)
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-qm", "init", env=env)
    if hook:
        subprocess.run([sys.executable, "-m", "release_hook", "install"], cwd=repo, env=env,
                       check=True, capture_output=True)
    return repo


def loopback_index(root: Path) -> tuple[object, str]:
    """The index the hook reads: served on loopback, with the releases the images pin."""
    from pkgindex import PackageIndex, serve

    idx = PackageIndex(root / "index")
    for v in ("0.7.0", "0.7.2", "0.12.0.1"):
        idx.wheel("jax", v, [f"jaxlib<={v},>={v}", f'jaxlib<={v},>={v}; extra == "cuda12"',
                             f'jax-cuda12-plugin[with-cuda]<={v},>={v}; extra == "cuda12"'])
        idx.wheel("jaxlib", v, tag="cp312-cp312-manylinux2014_x86_64")  # Ubuntu 24.04: 3.12
        # the extra the images ask of it (its CUDA libraries), as the real plugin declares it
        idx.wheel("jax-cuda12-plugin", v, tag="cp312-cp312-manylinux2014_x86_64", extras=["with-cuda"])
        idx.wheel("jax-cuda12-pjrt", v, tag="py3-none-manylinux2014_x86_64")
    idx.wheel("numpyro", "0.22.0", ["jax>=0.7.0", "jaxlib>=0.7.0"])  # released, as on the real index
    server, _ = serve(idx)
    return server, idx.url


def resolver_commands(root: Path, pins: Sequence[str], image: str, name: str) -> tuple[Command, Command]:
    """The commands resolve/solver.py runs, uv's and pip's, each with a cache folder of its own
    per run (a cold cache, as for a new release's pins)."""
    from release_hook.resolve import solver, uvcli
    from release_hook.resolve.image import Target, image_of

    uv = uvcli.binary()
    if uv is None:
        raise SystemExit("uv is not installed: pip install uv")
    target = image_of(image).target()
    assert isinstance(target, Target), target
    requirements = root / f"{name}-requirements.txt"
    requirements.write_text("\n".join(pins) + "\n")
    question = solver.Ask(tuple(pins), target)
    folder = root / f"{name}-target"

    def uv_cmd(i: int) -> list[str]:
        cmd = solver.Uv(uv).command(question, None)
        cmd[cmd.index("-")] = str(requirements)
        return [*cmd, "--cache-dir", str(root / f"{name}-uv-cache-{i}")]

    def pip_cmd(i: int) -> list[str]:
        return [*solver.Pip().command(question, str(folder), None), "--cache-dir",
                str(root / f"{name}-pip-cache-{i}")]

    return uv_cmd, pip_cmd


def online_search_rows(root: Path, env: dict[str, str], row: Callable[..., None]) -> None:
    """Issue 14's bars on the real index: the repository's own images decided and proved with
    cold caches (ours and uv's) and warm, against 3 s and 0.3 s; and a stage whose newest
    candidates are all refused beside a pinned SciPy 1.11.4 (jax 0.6.2 and newer need 1.12),
    cold, against 10 s."""
    repo = root / "own-images"
    shutil.copytree(REPO / "docker", repo / "docker")
    shutil.copy(REPO / "setup.cfg", repo / "setup.cfg")
    shutil.copy(REPO / ".bumpversion.cfg", repo / ".bumpversion.cfg")
    blocked = root / "blocked"
    (blocked / "files").mkdir(parents=True)
    (blocked / "files" / "Dockerfile").write_text(
        "FROM python:3.12-slim\nRUN pip install numpy==1.26.4 scipy==1.11.4 numpyro==0.15.0 jax==0.4.25 "
        "jaxlib==0.4.25\n")
    (blocked / "setup.cfg").write_text("[release_hook]\nrequirements = index\n")
    own = [str(BIN / "release-hook"), "sync", "--dry-run"]
    stuck = [str(BIN / "release-hook"), "sync", "files", "--dry-run", "--version", "0.19.0", "--policy", "latest"]
    cold_times, warm_times, stuck_times = [], [], []
    for i in range(3):
        cold = dict(env, RELEASE_HOOK_CACHE_DIR=str(root / f"cold-{i}"), UV_CACHE_DIR=str(root / f"uv-{i}"))
        cold_times.append(run(own, repo, cold))
        warm_times.append(min(run(own, repo, cold) for _ in range(3)))
        fresh = dict(env, RELEASE_HOOK_CACHE_DIR=str(root / f"stuck-{i}"), UV_CACHE_DIR=str(root / f"uvs-{i}"))
        stuck_times.append(run(stuck, blocked, fresh))
    row("own images, real index: cold caches / 3 s", statistics.median(cold_times), 3.0, "<= 1.0")
    row("own images, real index: warm / 0.3 s", statistics.median(warm_times), 0.3, "<= 1.0")
    row("newest candidates refused beside scipy 1.11.4, cold / 10 s", statistics.median(stuck_times), 10.0,
        "<= 1.0")
    # A --check of files and settings unchanged since an in-step check, against the same check
    # deciding again (a variable its key holds, changed each run; the memo and scan cache warm).
    check = [str(BIN / "release-hook"), "sync", "--check"]
    warm = dict(env, RELEASE_HOOK_CACHE_DIR=str(root / "cold-0"), UV_CACHE_DIR=str(root / "uv-0"))
    run(check, repo, warm)
    kept = [run(check, repo, warm) for _ in range(5)]
    again = [run(check, repo, dict(warm, RELEASE_HOOK_BENCH_RUN=str(i))) for i in range(5)]
    row("own images: --check unchanged since an in-step one / deciding again", statistics.median(kept),
        statistics.median(again), "(reference)")


IMPORT_ONLY = """
import importlib, os, sys
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except ImportError:
        pass
os._exit(0)  # as the tool's entry point leaves: without the interpreter's teardown
"""


def outside_imports(cmd: Sequence[str], cwd: Path, env: dict[str, str]) -> list[str]:
    """The modules not of this tool that a run of `cmd` (a Python script and its arguments)
    imports, read from `python -X importtime`: what any implementation in Python pays."""
    done = subprocess.run([sys.executable, "-X", "importtime", *cmd], cwd=cwd, env=env, check=True,
                          capture_output=True, text=True)
    names = [line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")]
    return [n for n in names if " " not in n and not n.startswith("release_hook")]  # not the header


def main(argv: Sequence[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--quick", action="store_true", help="fewer repeats, no 10,000-file run")
    opts = args.parse_args(argv)
    repeats = 3 if opts.quick else 7
    root = Path(tempfile.mkdtemp(prefix="release-hook-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BUMPVERSION_", "BVHOOK_"))}
    env.update(RELEASE_HOOK_CACHE_DIR=str(root / "cache"), HOME=str(root), GIT_CONFIG_NOSYSTEM="1",
               GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.invalid",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.invalid")
    rows: list[tuple[str, float, float, str, str]] = []
    # pip compiles what it installs; an editable install is compiled on first import, unless
    # PYTHONDONTWRITEBYTECODE is set (it is on some machines): compile it, as pip would.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "release_hook")], check=True)

    def row(what: str, a: float, b: float, target: str) -> None:
        rows.append((what, a, b, f"{a / b:.2f}", target))

    # 1. The pre-commit hook on an ordinary commit, against starting Python at all.
    hooked = bump_repo(root, "hook-fast-path", env, hook=True)
    hook = hooked / ".git" / "hooks" / "pre-commit"
    a, b = side_by_side(lambda i: [str(hook)], lambda i: [sys.executable, "-c", "pass"],
                        hooked, hooked, env, repeats * 5)
    row("pre-commit hook, ordinary commit / python -c pass", a, b, "< 0.5")

    # 2. sync of 1 and 1,000 files, and --check, against bump2version's one plain-text pin.
    for count in (1, 1000):
        folder = corpus_dir(root, count)
        mine, theirs = folder, root / f"corpus{count}-bump"
        shutil.copytree(folder, theirs)
        a, b = side_by_side(sync_cmd("--no-commit"), bump_cmd, mine, theirs, env, repeats)
        row(f"sync --no-commit, {count:,} file(s) / bump2version", a, b, "<= 1.0")
        if count == 1:
            # Under it: Python starting and importing what this run imports from outside the
            # tool (the standard library's modules, packaging's versions), nothing of ours.
            outside = outside_imports(sync_cmd("--no-commit")(0), mine, env)
            a, b = side_by_side(lambda i: [sys.executable, "-c", IMPORT_ONLY, *outside], bump_cmd,
                                mine, theirs, env, repeats)
            row(f"  Python importing the {len(outside)} outside modules it imports, alone", a, b, "(floor)")
        if count == 1000:
            # What each file cost when every write went through a temporary file renamed over
            # it (new inodes on this disk): now only an edit that changes a file's length does.
            a, b = side_by_side(lambda i: [sys.executable, "-c", ATOMIC_FLOOR, "files"], bump_cmd, mine, theirs,
                                env, repeats)
            row("  temporary file and rename per file, bare Python", a, b, "(reference)")
            # A release whose versions change length (0.9.0 -> 0.10.0): every file renamed over.
            longer = root / "corpus1000-longer"
            corpus.write(longer / "files", count, numpyro="0.9.0", jax="0.4.9", jaxlib="0.4.9")
            shutil.copytree(theirs, root / "corpus1000-bump-longer")

            def longer_cmd(i: int) -> list[str]:
                numpyro, jax = [("0.9.0", "0.4.9"), ("0.10.0", "0.4.10")][(i + 1) % 2]
                return [str(BIN / "release-hook"), "sync", "files", "--version", numpyro, "--pin", f"jax=={jax}",
                        "--pin", f"jaxlib=={jax}", "--offline", "--no-commit"]
            a, b = side_by_side(longer_cmd, bump_cmd, longer, root / "corpus1000-bump-longer", env, repeats)
            row("  the same, versions that change length (0.9.0 <-> 0.10.0)", a, b, "(reference)")
            run(sync_cmd("--no-commit")(1), mine, env)  # in step with RELEASES[0], then check
            a, b = side_by_side(lambda i: sync_cmd("--check")(1), bump_cmd, mine, theirs, env, repeats)
            row("sync --check, 1,000 files / bump2version", a, b, "<= 0.5")
            cold = dict(env, RELEASE_HOOK_NO_CACHE="1")
            a, b = side_by_side(sync_cmd("--no-commit"), bump_cmd, mine, theirs, cold, max(3, repeats // 2), 0)
            row("  the same, no scan cache (every file parsed)", a, b, "(for reference)")
            run(sync_cmd("--no-commit")(1), mine, env)
            a, b = side_by_side(lambda i: sync_cmd("--check")(1), bump_cmd, mine, theirs, cold,
                                max(3, repeats // 2), 0)
            row("  sync --check, no scan cache", a, b, "(for reference)")

    # 3. Growth: 10,000 files against 1,000, in the same run.
    peak = None
    if not opts.quick:
        big = corpus_dir(root, 10000)
        a, b = side_by_side(sync_cmd("--no-commit"), sync_cmd("--no-commit"), big, root / "corpus1000",
                            env, 3)
        row("sync --no-commit, 10,000 files / 1,000 files", a, b, "<= 11")
        peak = peak_kb([str(c) for c in sync_cmd("--no-commit")(0)], big, env)

    # 3b. Pins in one file: the cost must grow with the pins, not their square (line numbers
    # were once counted from the start of the file for each pin). Parsed on every run: the
    # scan cache would otherwise answer the repeats.
    one_file = dict(env, RELEASE_HOOK_NO_CACHE="1")
    sizes = {}
    for count in (1500, 15000, 60000):
        folder = root / f"pins{count}"
        (folder / "files").mkdir(parents=True)
        (folder / "files" / "many.Dockerfile").write_text(corpus.many_pins(count))
        sizes[count] = folder
    check_one = sync_cmd("--check")
    a, b = side_by_side(lambda i: check_one(1), lambda i: check_one(1), sizes[15000], sizes[1500], one_file,
                        max(3, repeats // 2), 1)
    row("sync --check, one file: 15,000 / 1,500 pinned lines", a, b, "~10 (<= 11)")
    a, b = side_by_side(lambda i: check_one(1), lambda i: check_one(1), sizes[60000], sizes[15000], one_file,
                        1 if opts.quick else 3, 0)
    row("sync --check, one file: 60,000 / 15,000 pinned lines", a, b, "~4 (<= 4.4)")

    # 4. bump2version minor with the hook installed, against without it.
    server, url = loopback_index(root)
    hook_env = dict(env, PIP_INDEX_URL=url, PIP_CONFIG_FILE=os.devnull)
    # The repository's own images install `jax[cuda12]`: the small wheels here cannot declare
    # extras, so a proof would refuse them; this row is the hook without it, as before the
    # proof, and the next one the hook with it.
    unproved_env = dict(hook_env, RELEASE_HOOK_VERIFY="0")
    with_hook = bump_repo(root, "with-hook", unproved_env, hook=True)
    without = bump_repo(root, "without-hook", unproved_env, hook=False)
    bump = [str(BIN / "bump2version"), "minor"]
    a, b = side_by_side(lambda i: bump, lambda i: bump, with_hook, without, unproved_env, repeats, warmup=1)
    row("bump2version minor, hook installed / not installed", a, b, "<= 2")
    # Under it: a hook that starts Python and imports what the real one imports from outside
    # the tool (read from an in-step run of it), then stops.
    current = re.search(r"current_version = (\S+)", (with_hook / ".bumpversion.cfg").read_text())
    outside = outside_imports(["-m", "release_hook", "hook", "pre-commit"], with_hook,
                              dict(unproved_env, BUMPVERSION_NEW_VERSION=current.group(1) if current else ""))
    floor = bump_repo(root, "floor-hook", unproved_env, hook=False)
    (floor / ".git" / "hooks" / "pre-commit").write_text(
        '#!/bin/sh\nif [ -n "${BUMPVERSION_NEW_VERSION:-}" ]; then\n'
        f"    exec {shlex.quote(sys.executable)} -c {shlex.quote(IMPORT_ONLY)} {' '.join(outside)}\nfi\n")
    (floor / ".git" / "hooks" / "pre-commit").chmod(0o755)
    a, b = side_by_side(lambda i: bump, lambda i: bump, floor, without, unproved_env, repeats, warmup=1)
    row(f"  a hook importing the {len(outside)} outside modules the hook imports, alone", a, b, "(floor)")
    image = "FROM python:3.12-slim\nRUN pip install numpyro==0.22.0 jax==0.7.0 jaxlib==0.7.0\n"
    with_hook = bump_repo(root, "with-hook-proof", hook_env, hook=True, dockerfile=image)
    without = bump_repo(root, "without-hook-proof", hook_env, hook=False, dockerfile=image)
    a, b = side_by_side(lambda i: bump, lambda i: bump, with_hook, without, hook_env, repeats, warmup=1)
    row("  the same with the proof (verdict cached after the first)", a, b, "<= 2")

    # 5. The proof: uv against pip on the loopback index, then what a sync pays for it.
    pins = ["jax==0.7.2", "jaxlib==0.7.2", "jax-cuda12-plugin==0.7.2", "jax-cuda12-pjrt==0.7.2"]
    uv_cmd, pip_cmd = resolver_commands(root, pins, "python:3.12-slim", "loopback")
    a, b = side_by_side(uv_cmd, pip_cmd, root, root, hook_env, repeats, warmup=1)
    row("proof, loopback, small wheels: uv pip compile / pip --dry-run", a, b, "(choice)")
    proved = root / "proved"
    (proved / "files").mkdir(parents=True)
    (proved / "files" / "Dockerfile").write_text(
        "FROM python:3.12-slim\nRUN pip install numpyro==0.21.0 jax==0.7.0 jaxlib==0.7.0\n")
    dry = [str(BIN / "release-hook"), "sync", "files", "--dry-run", "--version", "0.22.0",
           "--pin", "jax==0.7.2", "--pin", "jaxlib==0.7.2"]
    a, b = side_by_side(lambda i: dry, lambda i: [*dry, "--no-verify"], proved, proved, hook_env,
                        repeats)
    row("sync --dry-run, verdict cached / --no-verify", a, b, "(for reference)")
    server.shutdown()  # type: ignore[attr-defined]

    if os.environ.get("RELEASE_HOOK_ONLINE") == "1":
        # A CUDA 12 plugin set (docker/release/Dockerfile's shape) on the index pip is
        # configured for, cold caches: what the bump hook pays once per release.
        pins = ["numpyro==0.22.0", "jax[cuda12]==0.7.0", "jaxlib==0.7.0",
                "jax-cuda12-plugin[with-cuda]==0.7.0", "jax-cuda12-pjrt==0.7.0"]
        uv_cmd, pip_cmd = resolver_commands(root, pins, "nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04",
                                            "online")
        a, b = side_by_side(uv_cmd, pip_cmd, root, root, env, 3, warmup=0)
        row("proof, real index, CUDA 12 plugin set, cold: uv / pip", a, b, "(choice)")
        online_search_rows(root, env, row)

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
          f"{platform.release()}; Python {platform.python_version()}")
    from importlib.metadata import version

    print(f"release-hook {version('release-hook')}; bump2version {version('bump2version')}; git "
          f"{subprocess.run(['git', '--version'], capture_output=True, text=True).stdout.split()[-1]}")
    print(f"medians of {repeats} alternating runs (after warm-up); seconds\n")
    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)}  {'ours':>8}  {'other':>8}  {'ratio':>6}  target")
    for what, a, b, ratio, target in rows:
        print(f"{what.ljust(width)}  {a:8.3f}  {b:8.3f}  {ratio:>6}  {target}")
    if peak is not None:
        print(f"\npeak memory of sync over 10,000 files: {peak / 1024:.0f} MiB")
    shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
